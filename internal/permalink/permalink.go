// Package permalink decides where a post lives on the site: it makes slugs,
// expands Hugo-style permalink patterns and checks that a path a post asks
// for is safe — inside the site root, in canonical form, and clear of the
// paths the site itself owns (feeds, tag pages, stylesheets, state).
//
// It does not know which posts exist; detecting two posts that claim the
// same path is the catalog's job.
package permalink

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Default is the pattern used when the site configures none.
const Default = "/:year/:month/:day/:slug/"

// Slugify makes s URL-safe the way the site spells tags and titles in
// paths: case-folded to lower case, every run of characters that are not
// letters or digits becomes one hyphen, and there is no leading or trailing
// hyphen. Letters outside ASCII are kept ("Über" → "über"), as Hugo does.
//
// We do not use a transliterating slug library: the project's rule keeps
// Unicode letters, so a Japanese or Cyrillic tag keeps a readable path.
// The text is put in Unicode normal form C first, so "é" typed as one
// character or as "e" and a combining accent gives one slug, and combining
// marks stay with the letter they modify (Hindi vowel signs are marks).
func Slugify(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	hyphen := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		case unicode.Is(unicode.M, r) && !hyphen && b.Len() > 0:
			// A mark belongs to the letter before it; after a separator
			// or at the start it has nothing to modify and is dropped.
		default:
			hyphen = true
			continue
		}
		if hyphen && b.Len() > 0 {
			b.WriteByte('-')
		}
		hyphen = false
		b.WriteRune(fold(r))
	}
	// Folding can leave a letter and mark that compose only in lower case
	// ("Y" and a ring above, whose lower case is "ẙ"), so normalize again.
	return norm.NFC.String(b.String())
}

// fold maps r to the lower case of its case-folding class, so that "ς",
// "σ" and "Σ", or "ſ", "s" and "S", give one slug.
func fold(r rune) rune {
	return unicode.ToLower(unicode.ToUpper(r))
}

// Fields are the values a pattern's tokens expand to.
type Fields struct {
	Date     time.Time // in the site's time zone
	Slug     string    // front matter slug; empty means "use the title"
	Title    string
	Filename string // the source file's name without extension (a bundle's directory name)
	Section  string // the top-level content folder, "posts"
}

// tokens are the pattern tokens, each ":" followed by a word.
var tokens = map[string]func(f Fields) string{
	":filename": func(f Fields) string { return Slugify(f.Filename) },
	":section":  func(f Fields) string { return Slugify(f.Section) },
	":month":    func(f Fields) string { return f.Date.Format("01") },
	":title":    func(f Fields) string { return Slugify(f.Title) },
	":year":     func(f Fields) string { return f.Date.Format("2006") },
	":slug": func(f Fields) string {
		if f.Slug != "" {
			return Slugify(f.Slug)
		}
		return Slugify(f.Title)
	},
	":day": func(f Fields) string { return f.Date.Format("02") },
}

// nextToken finds the next token in rest: the literal text before it, and
// the token, which is ":" and the word after it (Hugo's ":\w+"), so that
// ":monthname" is one unknown token rather than ":month" and "name".
func nextToken(rest string) (literal, token, after string) {
	i := strings.IndexByte(rest, ':')
	if i < 0 {
		return rest, "", ""
	}
	j := i + 1
	for j < len(rest) && (rest[j] == '_' || rest[j] >= 'a' && rest[j] <= 'z' || rest[j] >= 'A' && rest[j] <= 'Z' || rest[j] >= '0' && rest[j] <= '9') {
		j++
	}
	return rest[:i], rest[i:j], rest[j:]
}

// sample is what ValidatePattern expands a pattern with, to check that
// its fixed parts are safe.
var sample = Fields{
	Date:     time.Date(2019, 11, 1, 9, 0, 0, 0, time.UTC),
	Slug:     "sample",
	Title:    "Sample",
	Filename: "sample",
	Section:  "posts",
}

// ValidatePattern reports whether pattern is usable: it starts and ends
// with "/", uses only known tokens, has a token that differs from post to
// post (:slug, :title or :filename), and its fixed parts give safe paths.
func ValidatePattern(pattern string) error {
	if !strings.HasPrefix(pattern, "/") || !strings.HasSuffix(pattern, "/") {
		return fmt.Errorf("permalink pattern %q must start and end with /", pattern)
	}
	perPost := false
	for rest := pattern; rest != ""; {
		var tok string
		_, tok, rest = nextToken(rest)
		if tok == "" {
			break
		}
		if _, ok := tokens[tok]; !ok {
			return fmt.Errorf("permalink pattern %q has an unknown token %q", pattern, tok)
		}
		if tok == ":slug" || tok == ":title" || tok == ":filename" {
			perPost = true
		}
	}
	if !perPost {
		return fmt.Errorf("permalink pattern %q has no :slug, :title or :filename, so posts would share paths", pattern)
	}
	if _, err := Expand(pattern, sample); err != nil {
		return fmt.Errorf("permalink pattern %q is unusable: %w", pattern, err)
	}
	return nil
}

// Expand fills in pattern's tokens and returns the cleaned post path.
func Expand(pattern string, f Fields) (string, error) {
	var b strings.Builder
	for rest := pattern; rest != ""; {
		var lit, tok string
		lit, tok, rest = nextToken(rest)
		b.WriteString(lit)
		if tok == "" {
			break
		}
		fn, ok := tokens[tok]
		if !ok {
			return "", fmt.Errorf("permalink pattern %q has an unknown token %q", pattern, tok)
		}
		v := fn(f)
		if v == "" {
			return "", fmt.Errorf("permalink token %s is empty for this post", tok)
		}
		b.WriteString(v)
	}
	return CleanPage(b.String())
}

// Reserved path prefixes and files that belong to the site, not to posts.
var (
	reservedPrefixes = []string{"/tags/", "/archive/", "/css/", "/sitemaps/", "/_postmill/"}
	reservedFiles    = []string{"/index.html", "/index.xml", "/index.json", "/feed.xml", "/feed.json", "/sitemap.xml", "/404.html", "/robots.txt", "/favicon.ico"}
)

// ErrUnsafePath is wrapped by every error about a path a post may not use.
var ErrUnsafePath = errors.New("unsafe path")

func unsafe(p, why string) error {
	return fmt.Errorf("%w %q: %s", ErrUnsafePath, p, why)
}

// CleanPage checks a page path a post asks for (a pattern's expansion or
// front matter `url`) and returns it in canonical directory form, with a
// leading and trailing slash: "/about" → "/about/". Anything that could
// escape the site root, name another host, or land on a path the site
// owns is rejected. A path without the trailing slash whose last segment
// has an extension ("/about.html") names a file, and is rejected too:
// pages are folders, and "/v1.2/" written as a folder is one.
func CleanPage(p string) (string, error) {
	if err := checkChars(p); err != nil {
		return "", err
	}
	if !strings.HasSuffix(p, "/") {
		if path.Ext(p) != "" {
			return "", unsafe(p, "a page path names a folder, like /about/, not a file")
		}
		p += "/"
	}
	if p == "/" {
		return "", unsafe(p, "the site root belongs to the home page")
	}
	if err := checkReserved(p); err != nil {
		return "", err
	}
	return p, nil
}

// CleanAlias checks an alias path. Like Hugo, an alias ending in ".html"
// or ".htm" is written as that file; any other alias is a folder.
func CleanAlias(p string) (string, error) {
	if err := checkChars(p); err != nil {
		return "", err
	}
	switch ext := strings.ToLower(path.Ext(p)); ext {
	case ".html", ".htm":
		if err := checkReserved(p); err != nil {
			return "", err
		}
		return p, nil
	case "":
		return CleanPage(p)
	default:
		return "", unsafe(p, "an alias must be a folder like /old/ or a page like /old.html")
	}
}

// File returns the object key a page path is stored at: "/a/b/" →
// "a/b/index.html", "/old.html" → "old.html".
func File(p string) string {
	p = strings.TrimPrefix(p, "/")
	if p == "" || strings.HasSuffix(p, "/") {
		return p + "index.html"
	}
	return p
}

func checkChars(p string) error {
	switch {
	case p == "":
		return unsafe(p, "empty")
	case !utf8.ValidString(p):
		return unsafe(p, "not valid UTF-8")
	case strings.Contains(p, "://") || strings.HasPrefix(p, "//"):
		return unsafe(p, "must be a path on this site, not an absolute URL")
	case !strings.HasPrefix(p, "/"):
		return unsafe(p, "must start with /")
	case strings.ContainsAny(p, "\\?#%"):
		return unsafe(p, `must not contain \, ?, # or %`)
	case len(p) > 512:
		return unsafe(truncate(p, 32)+"…", "longer than 512 bytes")
	}
	for _, r := range p {
		// Format characters (zero-width spaces, bidirectional overrides)
		// are invisible, so a path holding one can pass for another.
		if unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return unsafe(p, "must not contain spaces, control or invisible formatting characters")
		}
	}
	// Only the one leading and one trailing slash are separators to drop:
	// trimming all of them would let "/a//" through as if it were "/a/".
	segs := strings.Split(strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/"), "/")
	for i, s := range segs {
		switch {
		case s == "" && len(segs) > 1, s == "" && i == 0 && p != "/":
			return unsafe(p, "has an empty segment (//)")
		case s == "." || s == "..":
			return unsafe(p, "must not contain . or .. segments")
		case strings.HasPrefix(s, ".") || strings.HasPrefix(s, "_"):
			return unsafe(p, "segments must not start with . or _")
		}
	}
	return nil
}

func checkReserved(p string) error {
	lp := strings.ToLower(p)
	for _, r := range reservedPrefixes {
		if strings.HasPrefix(lp, r) || lp == strings.TrimSuffix(r, "/") {
			return unsafe(p, "the site keeps "+r+" for its own pages")
		}
	}
	for _, r := range reservedFiles {
		if lp == r || strings.TrimSuffix(lp, "/") == r || File(lp) == strings.TrimPrefix(r, "/") {
			return unsafe(p, "the site keeps "+r+" for its own use")
		}
	}
	return nil
}

// truncate shortens s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
