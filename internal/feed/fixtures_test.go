package feed

import "time"

var (
	cet  = time.FixedZone("CET", 60*60)
	site = Person{Name: "Ada Example", Email: "ada@example.com", URI: "https://example.com/about/"}
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// tagFeed is the feed of one tag. Its entries arrive out of order, one
// title carries Unicode and a <script>, and the tag's display label is
// spelled differently from post to post.
func tagFeed() Feed {
	return Feed{
		ID:           TagURI("example.com", day(2024, 1, 1), "/tags/go/"),
		Title:        "Example Blog — posts tagged “Go”",
		Language:     "en",
		SelfURL:      "https://example.com/tags/go/index.xml",
		JSONSelfURL:  "https://example.com/tags/go/index.json",
		AlternateURL: "https://example.com/tags/go/",
		Author:       site,
		Generator:    "postmill",
		Entries: []Entry{
			{
				ID:         TagURI("example.com", day(2024, 1, 10), "/posts/generics/"),
				Title:      "Generics, one year on",
				URL:        "https://example.com/posts/generics/",
				Published:  time.Date(2024, 1, 10, 8, 0, 0, 0, time.UTC),
				Updated:    time.Date(2024, 2, 1, 12, 0, 0, 0, time.UTC),
				Categories: []Category{{Term: "go", Label: "GO"}, {Term: "generics", Label: "Generics"}},
				Summary:    "<p>What changed &amp; what didn’t.</p>",
				Content:    "<p>Type parameters, a year later.</p>\n<pre><code>func Map[T, U any](s []T, f func(T) U) []U</code></pre>",
			},
			{
				ID:         TagURI("example.com", day(2024, 3, 1), "/posts/héllo wörld/"),
				Title:      "Héllo, 世界 <script>alert(1)</script>",
				URL:        "https://example.com/posts/h%C3%A9llo-w%C3%B6rld/",
				Published:  time.Date(2024, 3, 1, 9, 30, 0, 0, cet),
				Author:     Person{Name: "Grace Guest", URI: "https://grace.example.org/"},
				Categories: []Category{{Term: "go", Label: "Go"}, {Term: "unicode", Label: "Unicode"}, {Term: "go", Label: "go"}},
				Content:    `<p>Hi <em>there</em> &amp; <a href="https://example.com/?a=1&amp;b=2">a link</a>; "]]>" stays text.</p>`,
			},
			{
				ID:         TagURI("example.com", day(2024, 2, 15), "/posts/errors/"),
				Title:      "Error handling",
				URL:        "https://example.com/posts/errors/",
				Published:  time.Date(2024, 2, 15, 10, 0, 0, 0, time.UTC),
				Categories: []Category{{Term: "go"}},
				Content:    "<p>Wrap once, at the boundary.</p>",
			},
		},
	}
}

// siteFeed is the whole site's feed, cut to three entries. Two entries
// share a publication time, so the URL decides their order, and the entry
// the limit drops was updated last, so it must not move the feed's
// updated time.
func siteFeed() Feed {
	return Feed{
		ID:           TagURI("example.com", day(2024, 1, 1), "/"),
		Title:        "Example Blog",
		Subtitle:     "Notes on Go & serverless",
		Language:     "en",
		SelfURL:      "https://example.com/index.xml",
		JSONSelfURL:  "https://example.com/index.json",
		AlternateURL: "https://example.com/",
		HubURL:       "https://hub.example.net/",
		Author:       site,
		Icon:         "https://example.com/icon.png",
		Generator:    "postmill",
		Limit:        3,
		Entries: []Entry{
			{
				ID:        TagURI("example.com", day(2024, 1, 2), "/posts/first/"),
				Title:     "First post",
				URL:       "https://example.com/posts/first/",
				Published: time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC),
				Updated:   time.Date(2024, 6, 30, 23, 59, 59, 0, time.UTC),
				Content:   "<p>Hello.</p>",
			},
			{
				ID:         TagURI("example.com", day(2024, 4, 1), "/posts/b-side/"),
				Title:      "B side",
				URL:        "https://example.com/posts/b-side/",
				Published:  time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC),
				Categories: []Category{{Term: "music", Label: "Music"}},
				Summary:    "<p>Flip it.</p>",
				Content:    "<p>The other side.</p>",
			},
			{
				ID:         TagURI("example.com", day(2024, 4, 1), "/posts/a-side/"),
				Title:      "A side",
				URL:        "https://example.com/posts/a-side/",
				Published:  time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC),
				Updated:    time.Date(2024, 4, 2, 8, 15, 0, 0, time.UTC),
				Categories: []Category{{Term: "music", Label: "Music"}},
				Content:    "<p>The hit.</p>",
			},
			{
				ID:         TagURI("example.com", day(2024, 3, 1), "/posts/héllo wörld/"),
				Title:      "Héllo, 世界",
				URL:        "https://example.com/posts/h%C3%A9llo-w%C3%B6rld/",
				Published:  time.Date(2024, 3, 1, 9, 30, 0, 0, cet),
				Categories: []Category{{Term: "go", Label: "Go"}},
				Content:    "<p>Hi.</p>",
			},
		},
	}
}

// emptyFeed has no posts yet: its updated time is the caller's fallback.
func emptyFeed() Feed {
	f := tagFeed()
	f.Entries = nil
	f.Updated = day(2024, 1, 1)
	return f
}

func sitemapURLs() []SitemapURL {
	return []SitemapURL{
		{Loc: "https://example.com/posts/errors/", LastMod: time.Date(2024, 2, 15, 10, 0, 0, 0, time.UTC)},
		{Loc: "https://example.com/", LastMod: time.Date(2024, 3, 1, 9, 30, 0, 0, cet)},
		{Loc: "https://example.com/about/"},
		{Loc: "https://example.com/search/?q=a&b"},
	}
}

func sitemapIndexURLs() []SitemapURL {
	return []SitemapURL{
		{Loc: "https://example.com/sitemap-tags.xml", LastMod: time.Date(2024, 3, 1, 8, 30, 0, 0, time.UTC)},
		{Loc: "https://example.com/sitemap-posts.xml", LastMod: time.Date(2024, 3, 1, 8, 30, 0, 0, time.UTC)},
	}
}
