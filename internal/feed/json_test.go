package feed

import (
	"encoding/json"
	"testing"
)

func mustJSON(t testing.TB, f Feed) []byte {
	t.Helper()
	out, err := JSON(f)
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	return out
}

func TestJSONGolden(t *testing.T) {
	for _, tc := range renderCases {
		if !tc.golden {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			checkGolden(t, tc.name+".json.golden", mustJSON(t, tc.feed()))
		})
	}
}

// TestJSONMeetsSpec checks the JSON Feed 1.1 requirements on every
// rendered feed: version, title and items present; every item has a
// string id and content_html or content_text.
func TestJSONMeetsSpec(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(mustJSON(t, tc.feed()), &doc); err != nil {
				t.Fatal(err)
			}
			if doc["version"] != "https://jsonfeed.org/version/1.1" {
				t.Errorf("version = %v", doc["version"])
			}
			if title, _ := doc["title"].(string); title == "" {
				t.Error("no title")
			}
			items, ok := doc["items"].([]any)
			if !ok {
				t.Fatalf("items = %#v, want an array", doc["items"])
			}
			if len(items) != len(tc.ids) {
				t.Errorf("%d items, want %d", len(items), len(tc.ids))
			}
			for i, raw := range items {
				item := raw.(map[string]any)
				if id, _ := item["id"].(string); id != tc.ids[i] {
					t.Errorf("item %d: id = %v, want %q", i, item["id"], tc.ids[i])
				}
				_, html := item["content_html"].(string)
				_, text := item["content_text"].(string)
				if !html && !text {
					t.Errorf("item %d: neither content_html nor content_text", i)
				}
			}
			authors, _ := doc["authors"].([]any)
			if len(authors) != 1 {
				t.Errorf("authors = %v, want one", doc["authors"])
			}
		})
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"tags removed and entities decoded", "<p>What changed &amp; what didn&#8217;t.</p>", "What changed & what didn’t."},
		{"block boundaries become spaces", "<p>one</p><p>two</p>", "one two"},
		{"white space collapsed", "  a\n\n\tb  ", "a b"},
		{"a literal less-than stays", "1 < 2 and 3 <4", "1 < 2 and 3 <4"},
		{"a quoted greater-than does not end the tag", `<a title="x > y" href="/">link</a>`, "link"},
		{"comments removed", "a<!-- <p>hidden</p> -->b", "a b"},
		{"unterminated comment drops the rest", "a<!-- b", "a"},
		{"unterminated tag drops the rest", "a<b c", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := htmlToText(tt.in); got != tt.want {
				t.Errorf("htmlToText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
