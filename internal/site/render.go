package site

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postmill/postmill/internal/catalog"
	"github.com/postmill/postmill/internal/feed"
	"github.com/postmill/postmill/internal/markdown"
	"github.com/postmill/postmill/internal/permalink"
	"github.com/postmill/postmill/internal/post"
	"github.com/postmill/postmill/internal/theme"
)

// Content types and cache policies of the site's files. HTML and feeds
// are revalidated quickly so a publish shows within a minute even where no
// invalidation reaches; fingerprinted files are cached for good.
const (
	TypeHTML     = "text/html; charset=utf-8"
	TypeAtom     = "application/atom+xml"
	TypeJSONFeed = "application/feed+json"
	TypeXML      = "application/xml"
	TypeCSS      = "text/css; charset=utf-8"

	CacheShort     = "public, max-age=60, must-revalidate"
	CacheImmutable = "public, max-age=31536000, immutable"
	CacheAsset     = "public, max-age=86400"
)

// File is one object of the site: its key in the site bucket and body.
type File struct {
	Key          string
	Body         []byte
	ContentType  string
	CacheControl string
}

// Hash is the content hash kept in object metadata to skip unchanged writes.
func (f File) Hash() string {
	h := sha256.New()
	h.Write([]byte(f.ContentType + "\n" + f.CacheControl + "\n"))
	h.Write(f.Body)
	return hex.EncodeToString(h.Sum(nil))
}

// Renderer turns catalog state into files. It is safe for concurrent use.
type Renderer struct {
	cfg      Config
	md       *markdown.Renderer
	theme    *theme.Theme
	css      []byte
	cssKey   string
	idDate   time.Time
	siteView theme.Site
}

// NewRenderer prepares the Markdown renderer, theme and stylesheet once.
func NewRenderer(cfg Config) (*Renderer, error) {
	th, err := theme.New(theme.WithLocation(cfg.Location))
	if err != nil {
		return nil, fmt.Errorf("load theme: %w", err)
	}
	css := append(append([]byte{}, theme.Stylesheet()...), markdown.SyntaxCSS()...)
	sum := sha256.Sum256(css)
	idDate, _ := time.Parse("2006-01-02", cfg.IDDate)
	r := &Renderer{
		cfg:    cfg,
		md:     markdown.New(markdown.WithUnsafeHTML(cfg.AllowHTML)),
		theme:  th,
		css:    css,
		cssKey: "css/site." + hex.EncodeToString(sum[:])[:10] + ".css",
		idDate: idDate,
	}
	r.siteView = theme.Site{
		Title:         cfg.Title,
		Description:   cfg.Description,
		Language:      cfg.Language,
		BaseURL:       cfg.URL("/"),
		Author:        cfg.Author,
		StylesheetURL: "/" + r.cssKey,
		FeedURL:       cfg.URL("/index.xml"),
		Nav:           []theme.Link{{Title: "Home", URL: "/"}, {Title: "Tags", URL: "/tags/"}},
		Copyright:     cfg.Copyright,
	}
	if cfg.JSONFeed {
		r.siteView.JSONFeedURL = cfg.URL("/index.json")
	}
	return r, nil
}

// Config returns the settings r renders with.
func (r *Renderer) Config() Config { return r.cfg }

// wordsPerMinute is a common reading speed for technical prose.
const wordsPerMinute = 220

// Compile renders p's Markdown and returns the entry listings and feeds
// will show, at record revision rev.
func (r *Renderer) Compile(p *post.Post, rev int64) (*catalog.Entry, error) {
	res, err := r.md.Render(p.Body)
	if err != nil {
		line := p.BodyLine
		var ce *markdown.ComplexityError
		if errors.As(err, &ce) {
			line = p.BodyLine + ce.Line - 1
		}
		return nil, &post.Error{Key: p.Key, Problems: []post.Problem{{Line: line, Msg: "cannot render Markdown: " + err.Error()}}}
	}
	summary, truncated := res.Summary, res.Truncated
	if p.Summary != "" {
		s, err := r.md.RenderSummary(p.Summary)
		if err != nil {
			return nil, &post.Error{Key: p.Key, Problems: []post.Problem{{Line: 1, Msg: "summary: " + err.Error()}}}
		}
		summary, truncated = s, true
	}
	base, err := url.Parse(r.cfg.URL(p.Path))
	if err != nil {
		return nil, fmt.Errorf("post url %q: %w", p.Path, err)
	}
	content, err := markdown.Absolutize(res.HTML, base)
	if err != nil {
		return nil, fmt.Errorf("absolutize %s: %w", p.Key, err)
	}
	if summary, err = markdown.Absolutize(summary, base); err != nil {
		return nil, fmt.Errorf("absolutize summary of %s: %w", p.Key, err)
	}
	e := &catalog.Entry{
		Key:            p.Key,
		Rev:            rev,
		ID:             feed.TagURI(r.cfg.Host(), r.idDate, p.Key),
		Path:           p.Path,
		Title:          p.Title,
		Published:      p.PublishDate.UTC(),
		Updated:        p.Lastmod.UTC(),
		Month:          catalog.MonthOf(p.PublishDate, r.cfg.Location),
		Author:         p.Author,
		Summary:        summary,
		Truncated:      truncated,
		Description:    p.Description,
		ReadingMinutes: max(1, (res.Words+wordsPerMinute-1)/wordsPerMinute),
		Content:        content,
	}
	for _, t := range p.Tags {
		e.Tags = append(e.Tags, catalog.Tag{Slug: permalink.Slugify(t), Name: t})
	}
	return e, nil
}

func (r *Renderer) html(key string, render func(*bytes.Buffer) error) (File, error) {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		return File{}, fmt.Errorf("render %s: %w", key, err)
	}
	return File{Key: key, Body: b.Bytes(), ContentType: TypeHTML, CacheControl: CacheShort}, nil
}

func (r *Renderer) tagLinks(tags []catalog.Tag) []theme.Tag {
	out := make([]theme.Tag, len(tags))
	for i, t := range tags {
		out[i] = theme.Tag{Name: t.Name, URL: tagPath(t.Slug)}
	}
	return out
}

func tagPath(slug string) string { return "/tags/" + slug + "/" }

// Nav is what a post page links to besides itself: the posts just older
// and newer than it in the site's listing.
type Nav struct{ Older, Newer *catalog.Entry }

func (r *Renderer) navLink(e *catalog.Entry) *theme.Link {
	if e == nil {
		return nil
	}
	return &theme.Link{Title: e.Title, URL: e.Path}
}

// PageFile renders a published post's page.
func (r *Renderer) PageFile(e *catalog.Entry, nav Nav) (File, error) {
	canonical := r.cfg.URL(e.Path)
	author := e.Author.Name
	if author == "" {
		author = r.cfg.Author
	}
	return r.html(permalink.File(e.Path), func(b *bytes.Buffer) error {
		return r.theme.RenderPost(b, r.siteView, theme.Page{
			Title:       e.Title,
			Description: firstNonEmpty(e.Description, plainSummary(e.Summary)),
			Canonical:   canonical,
			Feeds:       []theme.Link{{Title: r.cfg.Title, URL: r.cfg.URL("/index.xml")}},
		}, theme.Post{
			Title:          e.Title,
			Description:    e.Description,
			URL:            canonical,
			Published:      e.Published,
			Updated:        e.Updated,
			Author:         author,
			Tags:           r.tagLinks(e.Tags),
			Content:        template.HTML(e.Content),
			ReadingMinutes: e.ReadingMinutes,
			Prev:           r.navLink(nav.Older),
			Next:           r.navLink(nav.Newer),
		})
	})
}

// AliasFiles renders the redirect pages of a record's aliases. A record
// that is not published owns none.
func (r *Renderer) AliasFiles(rec *catalog.Record) ([]File, error) {
	if rec == nil || rec.Entry == nil {
		return nil, nil
	}
	canonical := r.cfg.URL(rec.Entry.Path)
	var files []File
	for _, a := range rec.Aliases {
		f, err := r.html(permalink.File(a), func(b *bytes.Buffer) error {
			return r.theme.RenderRedirect(b, r.siteView, theme.Redirect{Target: canonical})
		})
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return sortFiles(files), nil
}

// listingPath is where a listing's first page lives.
func listingPath(listing string) string {
	if listing == catalog.Site {
		return "/"
	}
	return tagPath(catalog.TagOf(listing))
}

// ArchiveMonths is how many of its newest months a home or tag page
// lists; a listing with more links to its whole archive.
const ArchiveMonths = 12

// archivePath is the page listing every month of a listing.
func archivePath(listing string) string { return listingPath(listing) + "archive/" }

func monthPath(listing, month string) string {
	y, m, _ := strings.Cut(month, "-")
	if listing == catalog.Site {
		return "/archive/" + y + "/" + m + "/"
	}
	return tagPath(catalog.TagOf(listing)) + "archive/" + y + "/" + m + "/"
}

// countPosts is "1 post" or "n posts".
func countPosts(n int) string {
	if n == 1 {
		return "1 post"
	}
	return fmt.Sprintf("%d posts", n)
}

func monthLabel(month string) string {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return month
	}
	return t.Format("January 2006")
}

func (r *Renderer) summaries(es []catalog.Entry) []theme.PostSummary {
	out := make([]theme.PostSummary, len(es))
	for i, e := range es {
		out[i] = theme.PostSummary{
			Title:          e.Title,
			URL:            e.Path,
			Published:      e.Published,
			Summary:        template.HTML(e.Summary),
			Truncated:      e.Truncated,
			Tags:           r.tagLinks(e.Tags),
			ReadingMinutes: e.ReadingMinutes,
		}
	}
	return out
}

func (r *Renderer) listingTitle(h *catalog.Head) string {
	if h.Listing == catalog.Site {
		return r.cfg.Title
	}
	return "Posts tagged “" + h.TagName() + "”"
}

func (r *Renderer) feedFor(h *catalog.Head) feed.Feed {
	p := listingPath(h.Listing)
	title := r.cfg.Title
	if h.Listing != catalog.Site {
		title = r.cfg.Title + " – " + h.TagName()
	}
	f := feed.Feed{
		ID:           r.cfg.URL(p),
		Title:        title,
		Subtitle:     r.cfg.Description,
		Language:     r.cfg.Language,
		SelfURL:      r.cfg.URL(p + "index.xml"),
		JSONSelfURL:  r.cfg.URL(p + "index.json"),
		AlternateURL: r.cfg.URL(p),
		HubURL:       r.cfg.HubURL,
		Author:       feed.Person{Name: firstNonEmpty(r.cfg.Author, r.cfg.Title), Email: r.cfg.AuthorEmail},
		Generator:    "postmill",
		Limit:        r.cfg.FeedLimit,
		Updated:      r.idDate,
	}
	for _, e := range h.Entries {
		fe := feed.Entry{
			ID:        e.ID,
			Title:     e.Title,
			URL:       r.cfg.URL(e.Path),
			Published: e.Published,
			Updated:   e.Updated,
			Author:    feed.Person{Name: e.Author.Name, Email: e.Author.Email, URI: e.Author.URI},
			Summary:   e.Summary,
			Content:   e.Content,
		}
		for _, t := range e.Tags {
			fe.Categories = append(fe.Categories, feed.Category{Term: t.Slug, Label: t.Name})
		}
		f.Entries = append(f.Entries, fe)
	}
	return f
}

// HeadFiles renders the files that depend on a listing's head: its first
// page and its feeds; for the site also the tags index, the sitemap index,
// the 404 page and the stylesheet. An empty tag listing has no files.
func (r *Renderer) HeadFiles(h *catalog.Head) ([]File, error) { return r.headFiles(h, true) }

// HeadPages is HeadFiles without the feeds, for a caller that knows they
// have not changed: a listing's feeds depend only on its head's entries
// (see catalog.SameEntries).
func (r *Renderer) HeadPages(h *catalog.Head) ([]File, error) { return r.headFiles(h, false) }

func (r *Renderer) headFiles(h *catalog.Head, feeds bool) ([]File, error) {
	if h == nil || (h.Listing != catalog.Site && h.Count() == 0) {
		return nil, nil
	}
	p := listingPath(h.Listing)
	base := strings.TrimPrefix(p, "/")
	var files []File

	f := r.feedFor(h)
	if feeds {
		atom, err := feed.Atom(f)
		if err != nil {
			return nil, fmt.Errorf("atom feed of %s: %w", h.Listing, err)
		}
		files = append(files, File{Key: base + "index.xml", Body: atom, ContentType: TypeAtom, CacheControl: CacheShort})
		if r.cfg.JSONFeed {
			jf, err := feed.JSON(f)
			if err != nil {
				return nil, fmt.Errorf("json feed of %s: %w", h.Listing, err)
			}
			files = append(files, File{Key: base + "index.json", Body: jf, ContentType: TypeJSONFeed, CacheControl: CacheShort})
		}
	}

	entries := h.Entries
	if len(entries) > r.cfg.PageSize {
		entries = entries[:r.cfg.PageSize]
	}
	list := theme.ListPage{
		Heading: r.listingTitle(h),
		Entries: r.summaries(entries),
		Feed:    &theme.Link{Title: "Subscribe (Atom)", URL: p + "index.xml"},
	}
	if h.Listing == catalog.Site {
		list.Heading = "Latest posts"
		list.Intro = r.cfg.Description
	}
	if len(h.Entries) > len(entries) || h.Count() > len(entries) {
		older := olderMonth(h, entries)
		if older != "" {
			list.Older = &theme.Link{Title: monthLabel(older), URL: monthPath(h.Listing, older)}
		}
	}
	var all []theme.ArchiveMonth
	if r.HasArchive(h) {
		live := h.LiveMonths()
		for i, m := range live {
			if i == ArchiveMonths {
				all = make([]theme.ArchiveMonth, len(live))
				for j, m := range live {
					all[j] = theme.ArchiveMonth{Label: monthLabel(m.Month), URL: monthPath(h.Listing, m.Month)}
				}
				list.ArchiveAll = &theme.Link{Title: fmt.Sprintf("All %d months", len(live)), URL: archivePath(h.Listing)}
				break
			}
			list.Archive = append(list.Archive, theme.ArchiveMonth{Label: monthLabel(m.Month), URL: monthPath(h.Listing, m.Month), Count: m.Count})
		}
	}
	page := theme.Page{
		Title:       r.listingTitle(h),
		Description: firstNonEmpty(r.cfg.Description, r.cfg.Title),
		Canonical:   r.cfg.URL(p),
		Feeds:       []theme.Link{{Title: r.cfg.Title, URL: r.cfg.URL("/index.xml")}},
	}
	if r.cfg.JSONFeed {
		page.JSONFeeds = []theme.Link{{Title: r.cfg.Title, URL: r.cfg.URL("/index.json")}}
	}
	if h.Listing != catalog.Site {
		page.Description = fmt.Sprintf("%s tagged %s on %s", countPosts(h.Count()), h.TagName(), r.cfg.Title)
		page.Feeds = append(page.Feeds, theme.Link{Title: f.Title, URL: f.SelfURL})
		if r.cfg.JSONFeed {
			page.JSONFeeds = append(page.JSONFeeds, theme.Link{Title: f.Title, URL: f.JSONSelfURL})
		}
	}
	hf, err := r.html(base+"index.html", func(b *bytes.Buffer) error { return r.theme.RenderList(b, r.siteView, page, list) })
	if err != nil {
		return nil, err
	}
	files = append(files, hf)
	if all != nil {
		// The whole archive, without counts: it changes only when a
		// month opens or empties, not with every publish.
		ap := archivePath(h.Listing)
		ip := page
		ip.Title = "Archive – " + r.listingTitle(h)
		ip.Canonical = r.cfg.URL(ap)
		ip.Description = "Every month of " + r.listingTitle(h)
		af, err := r.html(permalink.File(ap), func(b *bytes.Buffer) error {
			return r.theme.RenderList(b, r.siteView, ip, theme.ListPage{Heading: ip.Title, Archive: all, Feed: list.Feed})
		})
		if err != nil {
			return nil, err
		}
		files = append(files, af)
	}

	if h.Listing == catalog.Site {
		more, err := r.siteFiles(h)
		if err != nil {
			return nil, err
		}
		files = append(files, more...)
	}
	if h.Compact() && r.HasArchive(h) {
		// A small tag keeps its months in the head: render them here,
		// exactly as month shards would be.
		for _, m := range h.LiveMonths() {
			mf, err := r.MonthFiles(h, h.MonthView(m.Month))
			if err != nil {
				return nil, err
			}
			files = append(files, mf...)
		}
	}
	return sortFiles(files), nil
}

// HasArchive reports whether a listing has month archive pages: the site
// always does; a tag when it has more posts than its first page shows.
// It depends on the listing's content only, never on its history, so an
// incremental site equals a clean build.
func (r *Renderer) HasArchive(h *catalog.Head) bool {
	return h != nil && (h.Listing == catalog.Site || h.Count() > r.cfg.PageSize)
}

// olderMonth is the month holding the first entry past the first page.
func olderMonth(h *catalog.Head, shown []catalog.Entry) string {
	if len(h.Entries) > len(shown) {
		return h.Entries[len(shown)].Month
	}
	if len(shown) == 0 {
		return ""
	}
	last := shown[len(shown)-1].Month
	for _, m := range h.LiveMonths() {
		if m.Month < last {
			return m.Month
		}
	}
	return last
}

func (r *Renderer) siteFiles(h *catalog.Head) ([]File, error) {
	var files []File
	tp := theme.TagsPage{}
	for _, t := range h.LiveTags() {
		tp.Tags = append(tp.Tags, theme.Tag{Name: t.Name, URL: tagPath(t.Slug), Count: t.Count})
	}
	tf, err := r.html("tags/index.html", func(b *bytes.Buffer) error {
		return r.theme.RenderTags(b, r.siteView, theme.Page{
			Title: "Tags", Description: "Every tag on " + r.cfg.Title, Canonical: r.cfg.URL("/tags/"),
			Feeds: []theme.Link{{Title: r.cfg.Title, URL: r.cfg.URL("/index.xml")}},
		}, tp)
	})
	if err != nil {
		return nil, err
	}
	nf, err := r.html("404.html", func(b *bytes.Buffer) error { return r.theme.RenderNotFound(b, r.siteView) })
	if err != nil {
		return nil, err
	}
	nf.CacheControl = CacheShort
	files = append(files, tf, nf, File{Key: r.cssKey, Body: r.css, ContentType: TypeCSS, CacheControl: CacheImmutable})

	// No lastmod on the home page: it would change this file, which
	// names every tag, on every publish.
	pages := []feed.SitemapURL{{Loc: r.cfg.URL("/")}, {Loc: r.cfg.URL("/tags/")}}
	for _, t := range h.LiveTags() {
		pages = append(pages, feed.SitemapURL{Loc: r.cfg.URL(tagPath(t.Slug))})
	}
	sm, err := feed.Sitemap(pages)
	if err != nil {
		return nil, err
	}
	index := []feed.SitemapURL{{Loc: r.cfg.URL("/sitemaps/pages.xml")}}
	for _, m := range h.LiveMonths() {
		index = append(index, feed.SitemapURL{Loc: r.cfg.URL("/sitemaps/" + m.Month + ".xml")})
	}
	si, err := feed.SitemapIndex(index)
	if err != nil {
		return nil, err
	}
	files = append(files,
		File{Key: "sitemaps/pages.xml", Body: sm, ContentType: TypeXML, CacheControl: CacheShort},
		File{Key: "sitemap.xml", Body: si, ContentType: TypeXML, CacheControl: CacheShort})
	return files, nil
}

// MonthFiles renders the files of one archive month: its page, and for
// the site its sitemap. h supplies the neighbouring months for the links.
func (r *Renderer) MonthFiles(h *catalog.Head, m *catalog.Month) ([]File, error) {
	if m == nil || len(m.Entries) == 0 || !r.HasArchive(h) {
		return nil, nil
	}
	p := monthPath(m.Listing, m.Month)
	list := theme.ListPage{
		Heading: monthLabel(m.Month),
		Entries: r.summaries(m.Entries),
	}
	if m.Listing != catalog.Site {
		list.Heading = m.TagName() + ": " + monthLabel(m.Month)
		list.Intro = "Posts tagged “" + m.TagName() + "” in " + monthLabel(m.Month) + "."
	}
	if newer, older := neighbours(h, m.Month); newer != "" || older != "" {
		if newer != "" {
			list.Newer = &theme.Link{Title: monthLabel(newer), URL: monthPath(m.Listing, newer)}
		}
		if older != "" {
			list.Older = &theme.Link{Title: monthLabel(older), URL: monthPath(m.Listing, older)}
		}
	}
	lp := listingPath(m.Listing)
	list.Feed = &theme.Link{Title: "Subscribe (Atom)", URL: lp + "index.xml"}
	page := theme.Page{
		Title:       list.Heading,
		Description: fmt.Sprintf("%s from %s on %s", countPosts(len(m.Entries)), monthLabel(m.Month), r.cfg.Title),
		Canonical:   r.cfg.URL(p),
		Feeds:       []theme.Link{{Title: r.cfg.Title, URL: r.cfg.URL("/index.xml")}},
	}
	if m.Listing != catalog.Site {
		page.Feeds = append(page.Feeds, theme.Link{Title: r.cfg.Title + " – " + m.TagName(), URL: r.cfg.URL(lp + "index.xml")})
	}
	hf, err := r.html(permalink.File(p), func(b *bytes.Buffer) error { return r.theme.RenderList(b, r.siteView, page, list) })
	if err != nil {
		return nil, err
	}
	files := []File{hf}
	if m.Listing == catalog.Site {
		urls := make([]feed.SitemapURL, len(m.Entries))
		for i, e := range m.Entries {
			urls[i] = feed.SitemapURL{Loc: r.cfg.URL(e.Path), LastMod: e.Updated}
		}
		sm, err := feed.Sitemap(urls)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Key: "sitemaps/" + m.Month + ".xml", Body: sm, ContentType: TypeXML, CacheControl: CacheShort})
	}
	return sortFiles(files), nil
}

// neighbours returns the months just newer and older than month in h.
func neighbours(h *catalog.Head, month string) (newer, older string) {
	if h == nil {
		return "", ""
	}
	live := h.LiveMonths() // newest first
	for i, m := range live {
		if m.Month == month {
			if i > 0 {
				newer = live[i-1].Month
			}
			if i+1 < len(live) {
				older = live[i+1].Month
			}
		}
	}
	return newer, older
}

// Neighbours is neighbours for callers that must load adjacent months.
func Neighbours(h *catalog.Head, month string) (string, string) { return neighbours(h, month) }

// AssetKey is where a bundle's asset is published: beside the page.
func AssetKey(pagePath, rel string) string {
	return strings.TrimPrefix(path.Join(pagePath, rel), "/")
}

func sortFiles(fs []File) []File {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Key < fs[j].Key })
	return fs
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// inlineTags are the elements that do not separate words, so that
// "<em>world</em>." stays "world." in a description.
var inlineTags = map[string]bool{
	"a": true, "abbr": true, "b": true, "bdi": true, "bdo": true, "cite": true, "code": true,
	"data": true, "del": true, "dfn": true, "em": true, "i": true, "ins": true, "kbd": true,
	"mark": true, "q": true, "s": true, "samp": true, "small": true, "span": true,
	"strong": true, "sub": true, "sup": true, "time": true, "u": true, "var": true,
}

// plainSummary strips tags from an HTML summary for a meta description.
func plainSummary(h string) string {
	var b strings.Builder
	for h != "" {
		i := strings.IndexByte(h, '<')
		if i < 0 {
			b.WriteString(h)
			break
		}
		b.WriteString(h[:i])
		j := strings.IndexByte(h[i:], '>')
		if j < 0 {
			break // an unclosed tag: the rest is not text
		}
		name := strings.TrimPrefix(h[i+1:i+j], "/")
		if k := strings.IndexAny(name, " \t\n/"); k >= 0 {
			name = name[:k]
		}
		if !inlineTags[strings.ToLower(name)] {
			b.WriteByte(' ')
		}
		h = h[i+j+1:]
	}
	s := strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
	if len(s) > 200 {
		cut := strings.LastIndex(s[:200], " ")
		if cut < 100 {
			// No space near the end (a long URL, or Japanese): cut
			// between characters, not inside one.
			cut = 200
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
		}
		s = s[:cut] + "…"
	}
	return s
}

// Diff compares the files derived from a shard before and after a change:
// what to write (new or different) and which keys to delete.
func Diff(before, after []File) (write []File, del []string) {
	old := make(map[string]string, len(before))
	for _, f := range before {
		old[f.Key] = f.Hash()
	}
	seen := make(map[string]bool, len(after))
	for _, f := range after {
		seen[f.Key] = true
		if h, ok := old[f.Key]; !ok || h != f.Hash() {
			write = append(write, f)
		}
	}
	for _, f := range before {
		if !seen[f.Key] {
			del = append(del, f.Key)
		}
	}
	sort.Strings(del)
	return write, del
}

// ListingKeys are every key a listing's head can render to.
func ListingKeys(listing string) []string {
	base := strings.TrimPrefix(listingPath(listing), "/")
	return []string{base + "archive/index.html", base + "index.html", base + "index.json", base + "index.xml"}
}

// MonthKeys are every key a listing's month can render to.
func MonthKeys(listing, month string) []string {
	keys := []string{permalink.File(monthPath(listing, month))}
	if listing == catalog.Site {
		keys = append(keys, "sitemaps/"+month+".xml")
	}
	return keys
}

// MonthOfKey returns the month whose archive files include key, for a
// listing: the inverse of MonthKeys.
func MonthOfKey(listing, key string) (string, bool) {
	prefix := strings.TrimPrefix(listingPath(listing), "/")
	if listing == catalog.Site {
		if m, ok := strings.CutPrefix(key, "sitemaps/"); ok && strings.HasSuffix(m, ".xml") && len(m) == len("2006-01.xml") {
			return strings.TrimSuffix(m, ".xml"), true
		}
	}
	rest, ok := strings.CutPrefix(key, prefix+"archive/")
	if !ok {
		return "", false
	}
	y, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return "", false
	}
	m, rest, ok := strings.Cut(rest, "/")
	if !ok || rest != "index.html" || len(y) != 4 || len(m) != 2 {
		return "", false
	}
	return y + "-" + m, true
}
