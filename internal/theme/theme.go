// Package theme is postmill's built-in look: html/template layouts and one
// small stylesheet, embedded in the binary, that turn view models filled in
// by the caller into complete, accessible HTML5 pages.
//
// It decides how a page looks, not what is on it. It does not read posts,
// render or sanitize Markdown, build feeds, paginate, sort or work out URLs:
// callers do that and pass the results in Site, Page, Post and the other
// view models. Post.Content and PostSummary.Summary are the only values
// written unescaped, so they must already be sanitized; everything else
// goes through html/template's contextual escaping, which also turns unsafe
// URLs such as javascript: into "#ZgotmplZ".
//
// Output is deterministic: the theme reads no clock and no environment,
// lists come out in the order given, and the same input gives the same
// bytes. The pages need no JavaScript, fonts or inline styles, so they work
// under a Content-Security-Policy of default-src 'self'.
package theme

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/site.css
var stylesheet string

// Stylesheet returns the theme's CSS. The caller appends its
// syntax-highlighting rules and serves the result at Site.StylesheetURL.
// Each call returns a fresh copy.
func Stylesheet() []byte {
	return []byte(stylesheet)
}

// Theme renders pages with the embedded templates. It is safe for
// concurrent use.
type Theme struct {
	loc   *time.Location
	pages map[string]*template.Template // by page template file name
}

// Option configures a Theme.
type Option func(*Theme)

// WithLocation shows dates in loc. By default each time is shown in its
// own location, so a post dated 1 November in Berlin never becomes
// 31 October in UTC.
func WithLocation(loc *time.Location) Option {
	return func(t *Theme) { t.loc = loc }
}

// pageFiles are the page templates; each fills the "main" block of
// base.html.
var pageFiles = []string{"post.html", "list.html", "tags.html", "redirect.html", "notfound.html"}

// New parses the embedded templates once.
func New(opts ...Option) (*Theme, error) {
	t := &Theme{pages: make(map[string]*template.Template, len(pageFiles))}
	for _, opt := range opts {
		opt(t)
	}
	base, err := template.New("base.html").Funcs(t.funcs()).ParseFS(templateFS, "templates/base.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("parse base template: %w", err)
	}
	for _, name := range pageFiles {
		clone, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("clone base template for %s: %w", name, err)
		}
		page, err := clone.ParseFS(templateFS, "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		t.pages[name] = page
	}
	return t, nil
}

func (t *Theme) funcs() template.FuncMap {
	return template.FuncMap{
		"date": func(tm time.Time) string { return t.in(tm).Format("2 January 2006") },
		// Machine-readable times are in UTC: the same instant, and no "+"
		// for html/template to escape as "&#43;" in the attribute.
		"datetime": func(tm time.Time) string { return tm.UTC().Format(time.RFC3339) },
		"laterDay": t.laterDay,
		"minutes":  func(n int) string { return strconv.Itoa(n) + " min read" },
		"posts":    posts,
		"trim": func(h template.HTML) template.HTML {
			// Whitespace around a fragment is never inside a <pre>, so
			// trimming it only keeps the output free of blank lines.
			return template.HTML(strings.TrimSpace(string(h)))
		},
	}
}

func (t *Theme) in(tm time.Time) time.Time {
	if t.loc == nil {
		return tm
	}
	return tm.In(t.loc)
}

// laterDay reports whether a falls on a later calendar day than b.
func (t *Theme) laterDay(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return false
	}
	const day = "2006-01-02"
	return t.in(a).Format(day) > t.in(b).Format(day)
}

func posts(n int) string {
	if n == 1 {
		return "1 post"
	}
	return strconv.Itoa(n) + " posts"
}

// view is what base.html sees.
type view struct {
	Site Site
	Page Page   // as given, for the page templates
	Head head   // Page with fallbacks applied
	Home string // the site's home page
	Body any    // Post, ListPage, TagsPage or nil
}

type head struct {
	Title       string // the full <title>
	Description string
	Canonical   string
	Feeds       []Link
	JSONFeeds   []Link
	NoIndex     bool
	Refresh     string // meta refresh target on redirect pages
}

// RenderPost writes a post page.
func (t *Theme) RenderPost(w io.Writer, s Site, p Page, post Post) error {
	if p.Title == "" {
		p.Title = post.Title
	}
	if p.Description == "" {
		p.Description = post.Description
	}
	if p.Canonical == "" {
		p.Canonical = post.URL
	}
	if err := t.render(w, "post.html", s, p, post, ""); err != nil {
		return fmt.Errorf("render post %q: %w", post.URL, err)
	}
	return nil
}

// RenderList writes a listing: the home page, a tag page or a month
// archive page.
func (t *Theme) RenderList(w io.Writer, s Site, p Page, l ListPage) error {
	if err := t.render(w, "list.html", s, p, l, ""); err != nil {
		return fmt.Errorf("render list %q: %w", p.Canonical, err)
	}
	return nil
}

// RenderTags writes the index of all tags. Page.Title, when set, is also
// the heading; it defaults to "Tags".
func (t *Theme) RenderTags(w io.Writer, s Site, p Page, tp TagsPage) error {
	if p.Title == "" {
		p.Title = "Tags"
	}
	if err := t.render(w, "tags.html", s, p, tp, ""); err != nil {
		return fmt.Errorf("render tags %q: %w", p.Canonical, err)
	}
	return nil
}

// RenderRedirect writes an alias page: an immediate meta refresh to
// r.Target, a canonical link to it, a robots noindex and a plain link for
// readers whose browser does not follow the refresh. A target that is not
// an http(s) URL or a path is an error.
func (t *Theme) RenderRedirect(w io.Writer, s Site, r Redirect) error {
	target, err := resolve(s.BaseURL, r.Target)
	if err != nil {
		return fmt.Errorf("render redirect: %w", err)
	}
	p := Page{
		Title:       "Page moved",
		Description: "This page has moved to " + target + ".",
		Canonical:   target,
		NoIndex:     true,
	}
	if err := t.render(w, "redirect.html", s, p, nil, target); err != nil {
		return fmt.Errorf("render redirect to %q: %w", target, err)
	}
	return nil
}

// RenderNotFound writes the 404 page. It is served at whatever address was
// asked for, so every link on it is absolute or site-absolute; it is
// marked noindex and names the home page as canonical.
func (t *Theme) RenderNotFound(w io.Writer, s Site) error {
	p := Page{
		Title:       "Page not found",
		Description: "There is no page at this address.",
		Canonical:   home(s),
		NoIndex:     true,
	}
	if err := t.render(w, "notfound.html", s, p, nil, ""); err != nil {
		return fmt.Errorf("render not found page: %w", err)
	}
	return nil
}

// render executes a page into a buffer first, so that w never receives half
// a page.
func (t *Theme) render(w io.Writer, name string, s Site, p Page, body any, refresh string) error {
	if s.Language == "" {
		s.Language = "en"
	}
	v := view{
		Site: s,
		Page: p,
		Home: home(s),
		Body: body,
		Head: head{
			Title:       documentTitle(s.Title, p.Title),
			Description: firstNonEmpty(p.Description, s.Description),
			Canonical:   p.Canonical,
			Feeds:       withFeed(p.Feeds, s.FeedURL, s.Title),
			JSONFeeds:   withFeed(p.JSONFeeds, s.JSONFeedURL, s.Title),
			NoIndex:     p.NoIndex,
			Refresh:     refresh,
		},
	}
	var buf bytes.Buffer
	if err := t.pages[name].ExecuteTemplate(&buf, "base.html", v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// documentTitle is "Page – Site", or the site title alone on the home page.
func documentTitle(site, page string) string {
	switch {
	case page == "" || page == site:
		return site
	case site == "":
		return page
	default:
		return page + " – " + site
	}
}

// withFeed returns feeds with the site feed first, unless it is already
// listed. It never modifies the caller's slice.
func withFeed(feeds []Link, feedURL, title string) []Link {
	if feedURL == "" {
		return feeds
	}
	for _, f := range feeds {
		if f.URL == feedURL {
			return feeds
		}
	}
	out := make([]Link, 0, len(feeds)+1)
	out = append(out, Link{Title: title, URL: feedURL})
	return append(out, feeds...)
}

func home(s Site) string {
	return firstNonEmpty(s.BaseURL, "/")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// resolve makes a redirect target absolute against base. html/template
// does not filter URLs in the meta refresh content attribute, so the scheme
// is checked here.
func resolve(base, target string) (string, error) {
	if strings.TrimSpace(target) == "" {
		return "", errors.New("empty redirect target")
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", fmt.Errorf("parse redirect target: %w", err)
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("redirect target %q: scheme %q not allowed", target, u.Scheme)
	}
	if base != "" {
		b, err := url.Parse(base)
		if err != nil {
			return "", fmt.Errorf("parse base URL %q: %w", base, err)
		}
		u = b.ResolveReference(u)
	}
	// A quote at the start of the URL would end it early in the refresh
	// syntax; encoded, it means the same to the server.
	return quoteEscaper.Replace(u.String()), nil
}

var quoteEscaper = strings.NewReplacer(`'`, "%27", `"`, "%22")
