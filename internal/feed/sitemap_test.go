package feed

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSitemapGolden(t *testing.T) {
	out, err := Sitemap(sitemapURLs())
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "sitemap.xml.golden", out)
	if err := wellFormed(out); err != nil {
		t.Error(err)
	}
}

func TestSitemapIndexGolden(t *testing.T) {
	out, err := SitemapIndex(sitemapIndexURLs())
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "sitemapindex.xml.golden", out)
	if err := wellFormed(out); err != nil {
		t.Error(err)
	}
}

func TestSitemapOrderAndFormat(t *testing.T) {
	urls := sitemapURLs()
	out, err := Sitemap(urls)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
		URLs    []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	var locs []string
	for _, u := range got.URLs {
		locs = append(locs, u.Loc+" "+u.LastMod)
	}
	want := []string{
		"https://example.com/ 2024-03-01T08:30:00Z",
		"https://example.com/about/ ",
		"https://example.com/posts/errors/ 2024-02-15T10:00:00Z",
		"https://example.com/search/?q=a&b ",
	}
	if fmt.Sprint(locs) != fmt.Sprint(want) {
		t.Errorf("urls = %q, want %q", locs, want)
	}
	reversed := []SitemapURL{urls[3], urls[2], urls[1], urls[0]}
	again, err := Sitemap(reversed)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(out) {
		t.Errorf("input order changes the output:\n%s", lineDiff(string(out), string(again)))
	}
}

func TestSitemapErrors(t *testing.T) {
	many := make([]SitemapURL, MaxSitemapURLs+1)
	for i := range many {
		many[i].Loc = fmt.Sprintf("https://example.com/p/%d/", i)
	}
	tests := []struct {
		name    string
		urls    []SitemapURL
		wantErr string
	}{
		{"no urls", nil, "no urls"},
		{"one more than the limit", many, "50001 urls"},
		{"relative loc", []SitemapURL{{Loc: "/about/"}}, "not an absolute url"},
		{"loc with a space", []SitemapURL{{Loc: "https://example.com/a b"}}, "not an absolute url"},
		{"loc of 2048 bytes", []SitemapURL{{Loc: "https://example.com/" + strings.Repeat("a", 2048-20)}}, "shorter than 2048"},
		{"duplicate loc", []SitemapURL{{Loc: "https://example.com/"}, {Loc: "https://example.com/"}}, "duplicate loc"},
		{"lastmod beyond year 9999", []SitemapURL{{Loc: "https://example.com/", LastMod: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}, "outside years"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, render := range map[string]func([]SitemapURL) ([]byte, error){"sitemap": Sitemap, "index": SitemapIndex} {
				_, err := render(tt.urls)
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%s: error = %v, want one containing %q", name, err, tt.wantErr)
				}
			}
		})
	}
	t.Run("exactly the limit is accepted", func(t *testing.T) {
		if _, err := Sitemap(many[:MaxSitemapURLs]); err != nil {
			t.Error(err)
		}
	})
}
