// Package post turns one source file into a Post: it decodes the front
// matter, interprets every field the way Hugo does (aliases, date fallbacks,
// author forms), decides the post's path and reports every problem with the
// file's key and line.
//
// It renders nothing and knows nothing of other posts; Markdown goes to
// package markdown, and the catalog decides what a post changes on the site.
package post

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postmill/postmill/internal/frontmatter"
	"github.com/postmill/postmill/internal/permalink"
)

// Author is who wrote a post.
type Author struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	URI   string `json:"uri,omitempty"`
}

// Post is a parsed source file.
type Post struct {
	Key    string // the source object key, e.g. "posts/velocity-2019.md"
	Format frontmatter.Format

	Title       string
	Description string
	Summary     string // front matter summary, Markdown
	Author      Author
	Draft       bool

	// Dates after Hugo's fallbacks: Date is the post's date, PublishDate
	// when it appears, Lastmod when it last changed; ExpiryDate is zero
	// when the post never expires.
	Date, PublishDate, Lastmod, ExpiryDate time.Time

	Slug       string   // front matter slug, as written
	URL        string   // front matter url, cleaned; empty when not given
	Path       string   // where the page lives, e.g. "/2019/11/01/velocity/"
	Aliases    []string // cleaned redirect paths
	Tags       []string // display spellings, deduplicated by slug, in source order
	Categories []string

	Body     []byte
	BodyLine int
	// PathLine is the file line that decides the post's path (url, else
	// slug, else title); AliasLine is the line of aliases. Problems with
	// a path found later, such as another post owning it, point there.
	PathLine, AliasLine int
}

// Options says how to read posts for one site.
type Options struct {
	// Location is the zone for dates written without an offset.
	Location *time.Location
	// Permalink is the path pattern; empty means permalink.Default.
	Permalink string
	// ModTime is the file's modification time: the date of a post that
	// gives none.
	ModTime time.Time
}

// Limits on what one post may contain; beyond them the post is rejected
// rather than slowing every page that lists it.
const (
	MaxTags       = 100
	MaxAliases    = 100
	MaxFieldBytes = 4096
)

// Parse reads the source file src stored at key.
func Parse(key string, src []byte, opts Options) (*Post, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Permalink == "" {
		opts.Permalink = permalink.Default
	}
	perr := &Error{Key: key}
	if len(src) == 0 {
		return nil, perr.add(0, "the file is empty")
	}
	if !utf8.Valid(src) {
		return nil, perr.add(lineOfInvalidUTF8(src), "the file is not valid UTF-8 text")
	}
	if i := bytes.IndexByte(src, 0); i >= 0 {
		return nil, perr.add(1+bytes.Count(src[:i], []byte("\n")), "the file contains a NUL byte; is it binary?")
	}
	block, err := frontmatter.Split(src)
	if err == nil {
		var doc frontmatter.Document
		doc, err = frontmatter.Decode(block)
		if err == nil {
			return parse(key, block, doc, opts, perr)
		}
	}
	var fe *frontmatter.Error
	if errors.As(err, &fe) {
		return nil, perr.add(fe.Line, fe.Msg)
	}
	return nil, perr.add(0, err.Error())
}

func parse(key string, block frontmatter.Block, doc frontmatter.Document, opts Options, perr *Error) (*Post, error) {
	p := &Post{Key: key, Format: doc.Format, Body: doc.Body, BodyLine: doc.BodyLine}
	r := reader{fields: doc.Fields, err: perr, line: fieldLines(block)}

	p.Title = strings.TrimSpace(r.str("title"))
	if p.Title == "" && !r.failed("title") {
		if doc.Format == frontmatter.None {
			perr.add(1, "no front matter: a post needs at least a title, e.g. +++\\ntitle = \"…\"\\n+++")
		} else {
			perr.add(r.line("title"), "the front matter has no title")
		}
	}
	p.Description = strings.TrimSpace(r.str("description"))
	p.Summary = strings.TrimSpace(r.str("summary"))
	p.Draft = r.boolean("draft")
	p.Slug = strings.TrimSpace(r.str("slug"))
	p.Author = r.author("author")
	p.Tags = r.tags("tags")
	p.Categories = r.tags("categories")

	dates := map[string]time.Time{fileModTime: opts.ModTime}
	for _, k := range dateKeys {
		if t, ok := r.date(k, opts.Location); ok {
			dates[k] = t
		}
	}
	// Each chain may end in an earlier one's result, so resolve in order.
	for _, c := range dateFallbacks {
		dates[c.name] = resolve(dates, c.chain)
	}
	p.Date = dates[resolvedDate]
	p.PublishDate = dates[resolvedPublishDate]
	p.Lastmod = dates[resolvedLastmod]
	p.ExpiryDate = dates[resolvedExpiryDate]
	if p.Lastmod.Before(p.PublishDate) {
		p.Lastmod = p.PublishDate
	}

	if u := strings.TrimSpace(r.str("url")); u != "" {
		clean, err := permalink.CleanPage(u)
		if err != nil {
			perr.add(r.line("url"), "url: "+err.Error())
		}
		p.URL = clean
	}
	switch {
	case p.Slug == "":
	case strings.ContainsAny(p.Slug, `/\`) || strings.Contains(p.Slug, ".."):
		perr.add(r.line("slug"), fmt.Sprintf("slug %q must be one path segment, without /, \\ or ..; use url for a whole path", p.Slug))
	case permalink.Slugify(p.Slug) == "":
		perr.add(r.line("slug"), fmt.Sprintf("slug %q has no letters or digits", p.Slug))
	}
	switch {
	case p.URL != "":
		p.PathLine = r.line("url")
	case p.Slug != "":
		p.PathLine = r.line("slug")
	default:
		p.PathLine = r.line("title")
	}
	p.AliasLine = r.line("aliases")
	aliases := r.strs("aliases")
	if len(aliases) > MaxAliases {
		perr.add(r.line("aliases"), fmt.Sprintf("%d aliases; at most %d are allowed", len(aliases), MaxAliases))
		aliases = nil
	}
	for _, a := range aliases {
		clean, err := permalink.CleanAlias(a)
		if err != nil {
			perr.add(r.line("aliases"), "alias: "+err.Error())
			continue
		}
		p.Aliases = append(p.Aliases, clean)
	}
	// "/old" and "/old/index.html" are one file: keep the first spelling.
	p.Aliases = dedupe(p.Aliases, permalink.File)
	if len(perr.Problems) > 0 {
		return nil, perr
	}

	switch {
	case p.URL != "":
		p.Path = p.URL
	default:
		pth, err := permalink.Expand(opts.Permalink, permalink.Fields{
			Date:     p.Date.In(opts.Location),
			Slug:     p.Slug,
			Title:    p.Title,
			Filename: Filename(p.Key),
			Section:  Section(p.Key),
		})
		if err != nil {
			at := "title"
			if p.Slug != "" {
				at = "slug"
			}
			return nil, perr.add(r.line(at), "cannot make the post's path: "+err.Error())
		}
		p.Path = pth
	}
	for _, a := range p.Aliases {
		if permalink.File(a) == permalink.File(p.Path) {
			return nil, perr.add(r.line("aliases"), fmt.Sprintf("alias %q is the post's own path", a))
		}
	}
	return p, nil
}

// Filename is the name :filename expands to: the file name without its
// extension, or the folder's name for a page bundle ("…/talk/index.md").
func Filename(key string) string {
	base := path.Base(key)
	name := strings.TrimSuffix(base, path.Ext(base))
	if name == "index" {
		if d := path.Base(path.Dir(key)); d != "." && d != "/" {
			return d
		}
	}
	return name
}

// Section is the top-level content folder of key ("posts"); a file at
// the top level is in no section, so Section returns "".
func Section(key string) string {
	s, _, ok := strings.Cut(key, "/")
	if !ok {
		return ""
	}
	return s
}

// IsBundle reports whether key is a page bundle's index file, which owns
// the other files in its folder.
func IsBundle(key string) bool {
	return path.Base(key) == "index.md"
}

// Visibility says whether a post is on the site at now, and if not, why.
type Visibility struct {
	Published bool
	Reason    string // "draft", "scheduled" or "expired" when not published
}

// VisibleAt decides whether p is published at now: drafts never are,
// future posts not yet, expired posts no longer.
func (p *Post) VisibleAt(now time.Time) Visibility {
	switch {
	case p.Draft:
		return Visibility{Reason: "draft"}
	case p.PublishDate.After(now):
		return Visibility{Reason: "scheduled"}
	case !p.ExpiryDate.IsZero() && !p.ExpiryDate.After(now):
		return Visibility{Reason: "expired"}
	}
	return Visibility{Published: true}
}

// NextChange is the next moment after now at which p's visibility changes
// by itself (its publish date arrives or it expires); zero if never.
func (p *Post) NextChange(now time.Time) time.Time {
	if p.Draft {
		return time.Time{}
	}
	if p.PublishDate.After(now) {
		return p.PublishDate
	}
	if !p.ExpiryDate.IsZero() && p.ExpiryDate.After(now) {
		return p.ExpiryDate
	}
	return time.Time{}
}

func dedupe(in []string, key func(string) string) []string {
	if len(in) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, s := range in {
		k := key(s)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, s)
	}
	return out
}

// SortedTagSlugs returns the slugs of p's tags, sorted.
func (p *Post) SortedTagSlugs() []string {
	s := make([]string, len(p.Tags))
	for i, t := range p.Tags {
		s[i] = permalink.Slugify(t)
	}
	sort.Strings(s)
	return s
}

func lineOfInvalidUTF8(src []byte) int {
	line := 1
	for len(src) > 0 {
		r, n := utf8.DecodeRune(src)
		if r == utf8.RuneError && n <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		src = src[n:]
	}
	return line
}
