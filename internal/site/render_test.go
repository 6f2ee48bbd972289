package site

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/postmill/postmill/internal/catalog"
	"github.com/postmill/postmill/internal/post"
)

func testRenderer(t *testing.T) *Renderer {
	t.Helper()
	cfg, err := Load(env("SITE_BASE_URL", "https://blog.example/", "SITE_TITLE", "Field Notes", "SITE_AUTHOR", "Ada", "TIME_ZONE", "Europe/Amsterdam", "JSON_FEED", "true"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// compile parses src as key and compiles it at revision 1.
func compile(t *testing.T, r *Renderer, key, src string) (*post.Post, *catalog.Entry) {
	t.Helper()
	cfg := r.Config()
	p, err := post.Parse(key, []byte(src), post.Options{Location: cfg.Location, Permalink: cfg.Permalink})
	if err != nil {
		t.Fatal(err)
	}
	e, err := r.Compile(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	return p, e
}

func TestCompileReadingTime(t *testing.T) {
	r := testRenderer(t)
	for _, tc := range []struct {
		words, minutes int
	}{
		{0, 1}, {1, 1}, {220, 1}, {221, 2}, {440, 2}, {441, 3}, {2200, 10},
	} {
		t.Run(fmt.Sprint(tc.words, " words"), func(t *testing.T) {
			body := strings.TrimSpace(strings.Repeat("word ", tc.words))
			_, e := compile(t, r, "posts/p.md", "+++\ntitle = \"P\"\ndate = 2019-11-01\n+++\n"+body+"\n")
			if e.ReadingMinutes != tc.minutes {
				t.Errorf("%d words: %d min, want %d", tc.words, e.ReadingMinutes, tc.minutes)
			}
		})
	}
}

func TestCompileSummary(t *testing.T) {
	r := testRenderer(t)
	for _, tc := range []struct {
		name, front, body string
		summary           string
		truncated         bool
	}{
		{
			name:      "from front matter, as Markdown with links made absolute",
			front:     `summary = "A **bold** claim, see [the other post](../other/)."`,
			body:      "A short body.",
			summary:   `<p>A <strong>bold</strong> claim, see <a href="https://blog.example/2019/11/01/other/">the other post</a>.</p>`,
			truncated: true,
		},
		{
			name:    "the whole of a short body",
			body:    "Just *this*.",
			summary: `<p>Just this.</p>`,
		},
		{
			name:      "up to the divider",
			body:      "First [part](#later).\n\n<!--more-->\n\nSecond part.\n\n## Later\n",
			summary:   `<p>First <a href="https://blog.example/2019/11/01/p/#later">part</a>.</p>`,
			truncated: true,
		},
		{
			name:      "front matter wins over the divider",
			front:     `summary = "Hand-written."`,
			body:      "First part.\n\n<!--more-->\n\nSecond part.",
			summary:   `<p>Hand-written.</p>`,
			truncated: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, e := compile(t, r, "posts/p.md", "+++\ntitle = \"P\"\ndate = 2019-11-01\n"+tc.front+"\n+++\n"+tc.body+"\n")
			if e.Summary != tc.summary || e.Truncated != tc.truncated {
				t.Errorf("summary %q, truncated %v\nwant %q, %v", e.Summary, e.Truncated, tc.summary, tc.truncated)
			}
		})
	}
}

func TestCompileAbsolutizesLinks(t *testing.T) {
	r := testRenderer(t)
	_, e := compile(t, r, "posts/bundle/index.md", `---
title: Drawing the pipeline
date: 2020-05-04T20:00:00+02:00
---
![diagram](./diagram.png) and [raw](diagram.png), [sibling](../other-post/),
[root](/about/), [section](#the-stages), [elsewhere](https://example.org/x),
[mail](mailto:ada@blog.example) and a footnote[^1].

[^1]: Note.
`)
	for _, want := range []string{
		`src="https://blog.example/2020/05/04/drawing-the-pipeline/diagram.png"`,
		`href="https://blog.example/2020/05/04/drawing-the-pipeline/diagram.png"`,
		`href="https://blog.example/2020/05/04/other-post/"`,
		`href="https://blog.example/about/"`,
		`href="https://blog.example/2020/05/04/drawing-the-pipeline/#the-stages"`,
		`href="https://example.org/x"`,
		`href="mailto:ada@blog.example"`,
		`href="https://blog.example/2020/05/04/drawing-the-pipeline/#fn:1"`,
		`href="https://blog.example/2020/05/04/drawing-the-pipeline/#fnref:1"`,
	} {
		if !strings.Contains(e.Content, want) {
			t.Errorf("content lacks %s:\n%s", want, e.Content)
		}
	}
}

func TestCompileEntry(t *testing.T) {
	r := testRenderer(t)
	p, e := compile(t, r, "posts/über observability.md", `+++
title = "Über Beobachtbarkeit"
date = 2021-03-31T23:15:00Z
lastmod = 2021-05-10T12:00:00+02:00
description = "Notizen"
tags = ["Beobachtbarkeit", "DevOps", "infrastructure as code"]
[author]
name = "Jörg"
email = "joerg@blog.example"
+++
Text.
`)
	want := catalog.Entry{
		Key:            "posts/über observability.md",
		Rev:            1,
		ID:             "tag:blog.example,2026-01-01:posts/%C3%BCber%20observability.md",
		Path:           "/2021/04/01/über-beobachtbarkeit/", // in Amsterdam it is 1 April
		Title:          "Über Beobachtbarkeit",
		Published:      time.Date(2021, 3, 31, 23, 15, 0, 0, time.UTC),
		Updated:        time.Date(2021, 5, 10, 10, 0, 0, 0, time.UTC),
		Month:          "2021-04",
		Tags:           []catalog.Tag{{Slug: "beobachtbarkeit", Name: "Beobachtbarkeit"}, {Slug: "devops", Name: "DevOps"}, {Slug: "infrastructure-as-code", Name: "infrastructure as code"}},
		Author:         post.Author{Name: "Jörg", Email: "joerg@blog.example"},
		Summary:        "<p>Text.</p>",
		Description:    "Notizen",
		ReadingMinutes: 1,
		Content:        "<p>Text.</p>\n",
	}
	if p.Path != want.Path {
		t.Fatalf("post path %s, want %s", p.Path, want.Path)
	}
	if got := fmt.Sprintf("%+v", *e); got != fmt.Sprintf("%+v", want) {
		t.Errorf("entry\n%s\nwant\n%s", got, fmt.Sprintf("%+v", want))
	}
	if e.Published.Location() != time.UTC || e.Updated.Location() != time.UTC {
		t.Errorf("times not in UTC: %v, %v", e.Published, e.Updated)
	}
}

func TestPlainSummary(t *testing.T) {
	long := strings.Repeat("word ", 60) // 300 bytes
	for _, tc := range []struct {
		name, in, want string
	}{
		{"tags removed", "<p>Hello <em>world</em>.</p>\n<p>Again.</p>", "Hello world. Again."},
		{"inline elements do not split words", `<p>un<strong>believ</strong>able <a href="/x/">link</a>, <code>go vet</code></p>`, "unbelievable link, go vet"},
		{"block elements separate words", "<ul><li>one</li><li>two</li></ul><h2>Three</h2><p>four<br>five</p>", "one two Three four five"},
		{"an unclosed tag ends the text", "<p>text <a href=", "text"},
		{"entities decoded after the tags are gone", "<p>Fish &amp; chips &lt;b&gt;</p>", "Fish & chips <b>"},
		{"white space collapsed", "<p>a\n\n  b\tc</p>", "a b c"},
		{"empty", "", ""},
		{"cut at a word after 200 bytes", "<p>" + long + "</p>", strings.TrimSpace(long[:199]) + "…"},
		{"a long word is cut at 200 bytes", "<p>short " + strings.Repeat("x", 300) + "</p>", "short " + strings.Repeat("x", 194) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := plainSummary(tc.in); got != tc.want {
				t.Errorf("plainSummary(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
			}
		})
	}
	t.Run("text without spaces is cut between characters", func(t *testing.T) {
		in := "<p>" + strings.Repeat("エラーバジェットの運用", 20) + "</p>" // no spaces
		got := plainSummary(in)
		if !utf8.ValidString(got) {
			t.Fatalf("plainSummary cut a character in two: %q", got)
		}
		if !strings.HasSuffix(got, "…") || len(got) > 200+len("…") {
			t.Errorf("plainSummary = %q (%d bytes), want at most 200 bytes and an ellipsis", got, len(got))
		}
	})
}

func TestDiff(t *testing.T) {
	f := func(key, body string) File {
		return File{Key: key, Body: []byte(body), ContentType: TypeHTML, CacheControl: CacheShort}
	}
	retyped := f("a", "A")
	retyped.ContentType = TypeXML
	recached := f("a", "A")
	recached.CacheControl = CacheImmutable
	for _, tc := range []struct {
		name          string
		before, after []File
		write, del    []string
	}{
		{"nothing before", nil, []File{f("b", "B"), f("a", "A")}, []string{"b", "a"}, nil},
		{"nothing changed", []File{f("a", "A")}, []File{f("a", "A")}, nil, nil},
		{"a body changed", []File{f("a", "A"), f("b", "B")}, []File{f("a", "A"), f("b", "B2")}, []string{"b"}, nil},
		{"a content type changed", []File{f("a", "A")}, []File{retyped}, []string{"a"}, nil},
		{"a cache policy changed", []File{f("a", "A")}, []File{recached}, []string{"a"}, nil},
		{"files gone are deleted, sorted", []File{f("c", "C"), f("a", "A"), f("b", "B")}, []File{f("b", "B")}, nil, []string{"a", "c"}},
		{"nothing after", []File{f("a", "A")}, nil, nil, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			write, del := Diff(tc.before, tc.after)
			var wk []string
			for _, w := range write {
				wk = append(wk, w.Key)
			}
			if !slices.Equal(wk, tc.write) || !slices.Equal(del, tc.del) {
				t.Errorf("Diff = write %v, delete %v; want %v, %v", wk, del, tc.write, tc.del)
			}
		})
	}
}

func TestFileHash(t *testing.T) {
	a := File{Key: "a", Body: []byte("x"), ContentType: TypeHTML, CacheControl: CacheShort}
	b := a
	b.Key = "b"
	if a.Hash() != b.Hash() {
		t.Error("the hash depends on the key")
	}
	c := a
	c.ContentType = TypeCSS
	if a.Hash() == c.Hash() {
		t.Error("the hash ignores the content type")
	}
}

func fileKeys(fs []File) []string {
	var ks []string
	for _, f := range fs {
		ks = append(ks, f.Key)
	}
	return ks
}

func TestHeadFilesOfEmptyListings(t *testing.T) {
	r := testRenderer(t)
	for _, tc := range []struct {
		name string
		h    *catalog.Head
	}{
		{"no head", nil},
		{"a tag that never had posts", &catalog.Head{Listing: catalog.TagListing("go")}},
		{"a tag whose posts are gone", &catalog.Head{Listing: catalog.TagListing("go"), Gen: 4,
			Months: []catalog.MonthCount{{Month: "2019-11", Count: 0, Gen: 3}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := r.HeadFiles(tc.h)
			if err != nil || files != nil {
				t.Errorf("HeadFiles = %v, %v; want nothing", fileKeys(files), err)
			}
		})
	}
	t.Run("an empty site still has its pages", func(t *testing.T) {
		files, err := r.HeadFiles(&catalog.Head{Listing: catalog.Site})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"404.html", r.cssKey, "index.html", "index.json", "index.xml", "sitemap.xml", "sitemaps/pages.xml", "tags/index.html"}
		if got := fileKeys(files); !slices.Equal(got, want) {
			t.Errorf("keys %v, want %v", got, want)
		}
	})
}

// tagHead is a tag listing with one entry per day of November 2019.
func tagHead(r *Renderer, t *testing.T, days ...int) (*catalog.Head, *catalog.Month) {
	t.Helper()
	h := &catalog.Head{Listing: catalog.TagListing("go")}
	m := &catalog.Month{Listing: h.Listing, Month: "2019-11"}
	for _, d := range days {
		key := fmt.Sprintf("posts/p%02d.md", d)
		_, e := compile(t, r, key, fmt.Sprintf("+++\ntitle = \"Post %d\"\ndate = 2019-11-%02dT10:00:00Z\ntags = [\"Go\"]\n+++\nText.\n", d, d))
		h.Put(key, 1, e, 20, time.Time{})
		m.Put(key, 1, e, time.Time{})
	}
	h.SetMonth(m.Month, len(m.Entries), m.Gen)
	return h, m
}

func TestListingAndMonthKeys(t *testing.T) {
	for _, tc := range []struct {
		listing, month string
		listingKeys    []string
		monthKeys      []string
	}{
		{catalog.Site, "2019-11",
			[]string{"archive/index.html", "index.html", "index.json", "index.xml"},
			[]string{"archive/2019/11/index.html", "sitemaps/2019-11.xml"}},
		{catalog.TagListing("go"), "2019-11",
			[]string{"tags/go/archive/index.html", "tags/go/index.html", "tags/go/index.json", "tags/go/index.xml"},
			[]string{"tags/go/archive/2019/11/index.html"}},
		{catalog.TagListing("カンファレンス"), "2020-01",
			[]string{"tags/カンファレンス/archive/index.html", "tags/カンファレンス/index.html", "tags/カンファレンス/index.json", "tags/カンファレンス/index.xml"},
			[]string{"tags/カンファレンス/archive/2020/01/index.html"}},
	} {
		t.Run(tc.listing, func(t *testing.T) {
			if got := ListingKeys(tc.listing); !slices.Equal(got, tc.listingKeys) {
				t.Errorf("ListingKeys = %v, want %v", got, tc.listingKeys)
			}
			if got := MonthKeys(tc.listing, tc.month); !slices.Equal(got, tc.monthKeys) {
				t.Errorf("MonthKeys = %v, want %v", got, tc.monthKeys)
			}
		})
	}
}

// TestKeysCoverRenderedFiles: the keys a careful pass may delete are
// exactly the files a tag listing and its months render to.
func TestKeysCoverRenderedFiles(t *testing.T) {
	r := testRenderer(t)
	h, m := tagHead(r, t, 1, 2)
	withLongArchive(h)
	hf, err := r.HeadFiles(h)
	if err != nil {
		t.Fatal(err)
	}
	if got := fileKeys(hf); !slices.Equal(got, ListingKeys(h.Listing)) {
		t.Errorf("HeadFiles keys %v, ListingKeys %v", got, ListingKeys(h.Listing))
	}
	mf, err := r.MonthFiles(h, m)
	if err != nil {
		t.Fatal(err)
	}
	if got := fileKeys(mf); !slices.Equal(got, MonthKeys(m.Listing, m.Month)) {
		t.Errorf("MonthFiles keys %v, MonthKeys %v", got, MonthKeys(m.Listing, m.Month))
	}
}

func TestListingDescriptionsCountPosts(t *testing.T) {
	r := testRenderer(t)
	for _, tc := range []struct {
		days       []int
		head, mnth string
	}{
		{[]int{1}, "11 posts tagged Go on Field Notes", "1 post from November 2019 on Field Notes"},
		{[]int{1, 2}, "12 posts tagged Go on Field Notes", "2 posts from November 2019 on Field Notes"},
	} {
		t.Run(fmt.Sprint(len(tc.days)), func(t *testing.T) {
			h, m := tagHead(r, t, tc.days...)
			withArchive(h)
			hf, err := r.HeadFiles(h)
			if err != nil {
				t.Fatal(err)
			}
			mf, err := r.MonthFiles(h, m)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				files []File
				want  string
			}{{hf, tc.head}, {mf, tc.mnth}} {
				i := slices.IndexFunc(c.files, func(f File) bool { return strings.HasSuffix(f.Key, "index.html") })
				if want := `<meta name="description" content="` + c.want + `">`; i < 0 || !bytes.Contains(c.files[i].Body, []byte(want)) {
					t.Errorf("no %s", want)
				}
			}
		})
	}
}

// withArchive makes a small tag head stand for a sharded listing with
// more posts than one page shows, so it has month pages: ten more posts
// in an earlier month, kept in month shards.
func withArchive(h *catalog.Head) {
	h.Sharded = true
	h.SetMonth("2019-01", 10, 1)
}

// withLongArchive gives h more months than a listing page shows.
func withLongArchive(h *catalog.Head) {
	h.Sharded = true
	for i := 0; i < ArchiveMonths; i++ {
		h.SetMonth(fmt.Sprintf("2018-%02d", i+1), 3, 1)
	}
}

// TestLongArchivesLinkTheWholeArchive: a listing page lists its newest
// ArchiveMonths months with counts and links a page of all of them, which
// has no counts, so a publish that only changes a count leaves it alone.
func TestLongArchivesLinkTheWholeArchive(t *testing.T) {
	r := testRenderer(t)
	page := func(fs []File, key string) string {
		t.Helper()
		for _, f := range fs {
			if f.Key == key {
				return string(f.Body)
			}
		}
		return ""
	}
	h, _ := tagHead(r, t, 1, 2)
	withArchive(h)
	short, err := r.HeadFiles(h)
	if err != nil {
		t.Fatal(err)
	}
	if page(short, "tags/go/archive/index.html") != "" || strings.Contains(page(short, "tags/go/index.html"), "archive-all") {
		t.Errorf("two months: a whole-archive page or link")
	}

	withLongArchive(h)
	long, err := r.HeadFiles(h)
	if err != nil {
		t.Fatal(err)
	}
	list, all := page(long, "tags/go/index.html"), page(long, "tags/go/archive/index.html")
	if n := strings.Count(list, `<span class="count">`); n != ArchiveMonths {
		t.Errorf("the tag page lists %d months with counts; want %d", n, ArchiveMonths)
	}
	if !strings.Contains(list, `<a href="/tags/go/archive/">All 14 months</a>`) {
		t.Errorf("the tag page does not link the whole archive")
	}
	if all == "" || strings.Count(all, `/tags/go/archive/20`) != 14 || strings.Contains(all, `class="count"`) {
		t.Errorf("the whole archive does not list 14 months without counts:\n%s", all)
	}
	h.SetMonth("2018-03", 4, 2)
	again, err := r.HeadFiles(h)
	if err != nil {
		t.Fatal(err)
	}
	if page(again, "tags/go/archive/index.html") != all {
		t.Errorf("a count changed the whole-archive page")
	}
	if page(again, "tags/go/index.html") == list {
		t.Errorf("a count in the newest months did not change the tag page")
	}
}

// TestJSONFeedIsOptIn: without JSON_FEED no listing has a JSON Feed and
// no page advertises one.
func TestJSONFeedIsOptIn(t *testing.T) {
	cfg, err := Load(env("SITE_BASE_URL", "https://blog.example/"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := tagHead(r, t, 3, 4)
	site := &catalog.Head{Listing: catalog.Site, Entries: h.Entries, Months: h.Months}
	for _, head := range []*catalog.Head{h, site} {
		files, err := r.HeadFiles(head)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f.Key, ".json") || bytes.Contains(f.Body, []byte("application/feed+json")) || bytes.Contains(f.Body, []byte("index.json")) {
				t.Errorf("%s: a JSON Feed, or a link to one, with JSON_FEED unset", f.Key)
			}
		}
	}
	page, err := r.PageFile(&h.Entries[0], Nav{})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(page.Body, []byte("feed+json")) {
		t.Errorf("%s links a JSON Feed with JSON_FEED unset", page.Key)
	}
}
