package feed

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// siteFixture builds n posts with about 2 KB of HTML each and 1 to 5 tags
// drawn from a Zipf distribution over tags tags, as a large real blog has a
// few popular tags and a long tail. The seed is fixed, so every run builds
// the same site.
func siteFixture(n, tags int) []Entry {
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(tags-1))
	para := "<p>" + strings.Repeat("Serverless static sites &amp; feeds, rendered once. ", 6) + "</p>\n"
	start := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	entries := make([]Entry, n)
	for i := range entries {
		published := start.Add(time.Duration(i) * 7 * time.Hour)
		slug := fmt.Sprintf("/posts/%05d-post-number-%d/", i, i)
		var content strings.Builder
		fmt.Fprintf(&content, "<h2>Post %d</h2>\n", i)
		for content.Len() < 2000 {
			content.WriteString(para)
		}
		var cats []Category
		for want := 1 + rng.IntN(5); len(cats) < want; {
			t := int(zipf.Uint64())
			term := fmt.Sprintf("tag-%03d", t)
			if !slices.ContainsFunc(cats, func(c Category) bool { return c.Term == term }) {
				cats = append(cats, Category{Term: term, Label: fmt.Sprintf("Tag %d", t)})
			}
		}
		entries[i] = Entry{
			ID:         TagURI("example.com", published, slug),
			Title:      fmt.Sprintf("Post number %d", i),
			URL:        "https://example.com" + slug,
			Published:  published,
			Updated:    published.Add(time.Duration(i%5) * 24 * time.Hour),
			Categories: cats,
			Summary:    fmt.Sprintf("<p>Summary of post %d.</p>", i),
			Content:    content.String(),
		}
	}
	return entries
}

// BenchmarkSiteFeeds10k renders what a full rebuild of a 10,000-post site
// produces: the site feed and one feed per tag, each as Atom and JSON,
// limited to 20 entries. Grouping by tag is part of the measured work.
func BenchmarkSiteFeeds10k(b *testing.B) {
	entries := siteFixture(10_000, 300)
	base := siteFeed()
	base.Limit = 20
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		byTag := map[string][]Entry{}
		for _, e := range entries {
			for _, c := range e.Categories {
				byTag[c.Term] = append(byTag[c.Term], e)
			}
		}
		tags := make([]string, 0, len(byTag))
		for tag := range byTag {
			tags = append(tags, tag)
		}
		slices.Sort(tags)

		feeds := make([]Feed, 0, len(tags)+1)
		site := base
		site.Entries = entries
		feeds = append(feeds, site)
		for _, tag := range tags {
			f := base
			f.ID = TagURI("example.com", day(2015, 1, 1), "/tags/"+tag+"/")
			f.Title = "Posts tagged " + tag
			f.SelfURL = "https://example.com/tags/" + tag + "/index.xml"
			f.JSONSelfURL = "https://example.com/tags/" + tag + "/index.json"
			f.AlternateURL = "https://example.com/tags/" + tag + "/"
			f.Entries = byTag[tag]
			feeds = append(feeds, f)
		}
		for _, f := range feeds {
			if _, err := Atom(f); err != nil {
				b.Fatal(err)
			}
			if _, err := JSON(f); err != nil {
				b.Fatal(err)
			}
		}
	}
}
