package feed

import (
	"net/url"
	"testing"
	"time"
)

func TestTagURI(t *testing.T) {
	tests := []struct {
		name      string
		authority string
		date      time.Time
		specific  string
		want      string
	}{
		{"path kept as is", "example.com", day(2024, 3, 1), "/posts/hello/",
			"tag:example.com,2024-03-01:/posts/hello/"},
		{"date reckoned in utc", "example.com", time.Date(2024, 3, 1, 0, 30, 0, 0, time.FixedZone("", 2*60*60)), "/p/",
			"tag:example.com,2024-02-29:/p/"},
		{"time of day ignored", "example.com", time.Date(2024, 3, 1, 23, 59, 59, 0, time.UTC), "/p/",
			"tag:example.com,2024-03-01:/p/"},
		{"email authority", "ada@example.com", day(2024, 1, 1), "blog",
			"tag:ada@example.com,2024-01-01:blog"},
		{"space percent-encoded", "example.com", day(2024, 1, 1), "/hello world/",
			"tag:example.com,2024-01-01:/hello%20world/"},
		{"non-ascii as utf-8 bytes", "example.com", day(2024, 1, 1), "/héllo/世界",
			"tag:example.com,2024-01-01:/h%C3%A9llo/%E4%B8%96%E7%95%8C"},
		{"percent sign itself encoded", "example.com", day(2024, 1, 1), "/100%",
			"tag:example.com,2024-01-01:/100%25"},
		{"unreserved and path punctuation kept", "example.com", day(2024, 1, 1), "a:b/c.d-e_f~g",
			"tag:example.com,2024-01-01:a:b/c.d-e_f~g"},
		{"query, fragment and sub-delims encoded", "example.com", day(2024, 1, 1), "?#[]@!$&'()*+,;=",
			"tag:example.com,2024-01-01:%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D"},
		{"controls and invalid utf-8 encoded", "example.com", day(2024, 1, 1), "a\x00b\xff",
			"tag:example.com,2024-01-01:a%00b%FF"},
		{"comma and colon in authority encoded", "exa,mple:com", day(2024, 1, 1), "x",
			"tag:exa%2Cmple%3Acom,2024-01-01:x"},
		{"empty specific", "example.com", day(2024, 1, 1), "",
			"tag:example.com,2024-01-01:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TagURI(tt.authority, tt.date, tt.specific)
			if got != tt.want {
				t.Errorf("TagURI(%q, %v, %q) = %q, want %q", tt.authority, tt.date, tt.specific, got, tt.want)
			}
			if !isAbsoluteIRI(got) {
				t.Errorf("%q is not an absolute IRI", got)
			}
			if u, err := url.Parse(got); err != nil || u.Scheme != "tag" {
				t.Errorf("url.Parse(%q) = %v, %v; want scheme tag", got, u, err)
			}
		})
	}
}
