package post

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/postmill/postmill/internal/frontmatter"
	"github.com/postmill/postmill/internal/permalink"
)

// fileModTime is the pseudo-field the date fallbacks use for the file's
// modification time, as Hugo's ":fileModTime".
const fileModTime = ":filemodtime"

// The pseudo-fields holding each resolved date, so that a later chain can
// fall back on an earlier one's result the way Hugo's "date" does.
const (
	resolvedDate        = ":date"
	resolvedPublishDate = ":publishdate"
	resolvedLastmod     = ":lastmod"
	resolvedExpiryDate  = ":expirydate"
)

// dateKeys are the front matter fields that hold dates, with Hugo's aliases.
var dateKeys = []string{"date", "publishdate", "pubdate", "published", "lastmod", "modified", "expirydate", "unpublishdate"}

// dateFallbacks is the order in which each resolved date takes its value,
// written as data like Hugo's frontmatter configuration: the first field
// that is set wins. Chains are resolved in this order, so "publishDate,
// then the date" reads ":date", which has itself fallen back as far as the
// file's modification time.
var dateFallbacks = []struct {
	name  string
	chain []string
}{
	{resolvedDate, []string{"date", "publishdate", "pubdate", "published", "lastmod", "modified", fileModTime}},
	{resolvedPublishDate, []string{"publishdate", "pubdate", "published", resolvedDate}},
	{resolvedLastmod, []string{"lastmod", "modified", resolvedDate}},
	{resolvedExpiryDate, []string{"expirydate", "unpublishdate"}},
}

func resolve(dates map[string]time.Time, chain []string) time.Time {
	for _, k := range chain {
		if t, ok := dates[k]; ok && !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// Error lists every problem found in one source file. Each prints as
// "key:line: problem", the form editors and `make check` understand.
type Error struct {
	Key      string
	Problems []Problem
}

// Problem is one thing wrong with a file, at a 1-based line (0: unknown).
type Problem struct {
	Line int
	Msg  string
}

func (e *Error) add(line int, msg string) *Error {
	// One problem is one line of output: a decoder's message may span
	// several, and a caller splits Error() on newlines.
	if strings.ContainsAny(msg, "\r\n") {
		parts := strings.FieldsFunc(msg, func(r rune) bool { return r == '\r' || r == '\n' })
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		msg = strings.Join(parts, " ")
	}
	e.Problems = append(e.Problems, Problem{Line: line, Msg: msg})
	return e
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = e.Key + ":" + fmt.Sprint(max(p.Line, 1)) + ": " + p.Msg
	}
	return strings.Join(lines, "\n")
}

// Lines formats each problem on a line of its own.
func (e *Error) Lines() []string { return strings.Split(e.Error(), "\n") }

// reader interprets decoded fields, recording problems as it goes.
type reader struct {
	fields map[string]any
	err    *Error
	line   func(key string) int
	bad    map[string]bool
}

func (r *reader) fail(key, format string, args ...any) {
	if r.bad == nil {
		r.bad = map[string]bool{}
	}
	r.bad[key] = true
	r.err.add(r.line(key), key+": "+fmt.Sprintf(format, args...))
}

func (r *reader) failed(key string) bool { return r.bad[key] }

func (r *reader) str(key string) string {
	v, ok := r.fields[key]
	if !ok || v == nil {
		return ""
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case int64, float64, bool:
		s = fmt.Sprint(x)
	default:
		r.fail(key, "want text, got %s", kind(v))
		return ""
	}
	if len(s) > MaxFieldBytes && key != "summary" && key != "description" {
		r.fail(key, "longer than %d bytes", MaxFieldBytes)
		return ""
	}
	if len(s) > 4*MaxFieldBytes {
		r.fail(key, "longer than %d bytes", 4*MaxFieldBytes)
		return ""
	}
	if !r.text(key, s) {
		return ""
	}
	return s
}

// text reports whether s is fit to show on a page and in a feed, failing
// key if not: XML cannot carry most control characters, so one that an
// escape like "\u0007" slipped into a title would break the site's feeds.
func (r *reader) text(key, s string) bool {
	for _, c := range s {
		if unicode.IsControl(c) && c != '\t' && c != '\n' && c != '\r' {
			r.fail(key, "contains the control character %U", c)
			return false
		}
	}
	return true
}

func (r *reader) boolean(key string) bool {
	v, ok := r.fields[key]
	if !ok || v == nil {
		return false
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes":
			return true
		case "false", "no", "":
			return false
		}
	}
	if str, ok := v.(string); ok {
		r.fail(key, "want true or false, got %q", str)
	} else {
		r.fail(key, "want true or false, got %s", kind(v))
	}
	return false
}

func (r *reader) strs(key string) []string {
	v, ok := r.fields[key]
	if !ok || v == nil {
		return nil
	}
	var list []any
	switch x := v.(type) {
	case []any:
		list = x
	case string:
		if strings.TrimSpace(x) == "" {
			return nil
		}
		list = []any{x}
	default:
		r.fail(key, "want a list of text, got %s", kind(v))
		return nil
	}
	var out []string
	for _, e := range list {
		switch s := e.(type) {
		case nil:
			// An empty entry ("tags: [go, ~]") is no entry.
		case string:
			if !r.text(key, s) {
				return nil
			}
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		case int64, float64:
			out = append(out, fmt.Sprint(s))
		default:
			r.fail(key, "want a list of text, found %s in it", kind(e))
			return nil
		}
	}
	return out
}

// tags reads a taxonomy (tags, categories): the author's spellings, one
// per slug, the first spelling kept.
func (r *reader) tags(key string) []string {
	tags := r.strs(key)
	for _, t := range tags {
		if len(t) > 200 {
			r.fail(key, "%q… is longer than 200 bytes", strings.ToValidUTF8(t[:20], ""))
			return nil
		}
		if permalink.Slugify(t) == "" {
			r.fail(key, "%q has no letters or digits", t)
			return nil
		}
	}
	tags = dedupe(tags, permalink.Slugify)
	if len(tags) > MaxTags {
		r.fail(key, "%d different values; at most %d are allowed", len(tags), MaxTags)
		return nil
	}
	return tags
}

func (r *reader) author(key string) Author {
	v, ok := r.fields[key]
	if !ok || v == nil {
		return Author{}
	}
	switch x := v.(type) {
	case string:
		if !r.text(key, x) {
			return Author{}
		}
		return Author{Name: strings.TrimSpace(x)}
	case map[string]any:
		// Keys are matched without regard to case; sorted, so that which
		// of "Name" and "name" wins, and which problem is reported first,
		// does not depend on map order. An all-lower-case key wins.
		f := map[string]string{}
		for _, k := range sortedKeys(x) {
			if x[k] == nil {
				continue
			}
			s, ok := x[k].(string)
			if !ok {
				r.fail(key, "%q: want text, got %s", k, kind(x[k]))
				return Author{}
			}
			if !r.text(key, s) {
				return Author{}
			}
			lk := strings.ToLower(k)
			if _, dup := f[lk]; dup && lk != k {
				continue
			}
			f[lk] = strings.TrimSpace(s)
		}
		a := Author{Name: f["name"], Email: f["email"], URI: f["uri"]}
		if a.URI == "" {
			a.URI = f["url"]
		}
		if a.URI != "" {
			u, err := url.Parse(a.URI)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				r.fail(key, "uri %q must be an http or https URL", a.URI)
				return Author{}
			}
		}
		return a
	}
	r.fail(key, "want a name, or a table with name, email and uri; got %s", kind(v))
	return Author{}
}

var dateLayouts = []struct {
	layout string
	local  bool // no offset in the text: read in the site's zone
}{
	{time.RFC3339Nano, false},
	{"2006-01-02T15:04:05Z0700", false},
	{"2006-01-02 15:04:05Z07:00", false},
	{"2006-01-02 15:04:05 -0700", false},
	{"2006-01-02 15:04:05 -07:00", false},
	{"2006-01-02T15:04:05", true},
	{"2006-01-02T15:04", true},
	{"2006-01-02 15:04:05", true},
	{"2006-01-02 15:04", true},
	{"2006-01-02", true},
}

func (r *reader) date(key string, loc *time.Location) (time.Time, bool) {
	v, ok := r.fields[key]
	if !ok || v == nil {
		return time.Time{}, false
	}
	switch x := v.(type) {
	case time.Time:
		return x, true
	case frontmatter.LocalTime:
		return x.In(loc), true
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return time.Time{}, false
		}
		// YAML allows a lower-case "t" and "z" (2001-12-14t21:59:43.10z).
		if len(s) > 10 && s[10] == 't' {
			s = s[:10] + "T" + s[11:]
		}
		if strings.HasSuffix(s, "z") {
			s = s[:len(s)-1] + "Z"
		}
		for _, l := range dateLayouts {
			var t time.Time
			var err error
			if l.local {
				t, err = time.ParseInLocation(l.layout, s, loc)
			} else {
				t, err = time.Parse(l.layout, s)
			}
			if err == nil {
				return t, true
			}
		}
		r.fail(key, "cannot read %q as a date; use RFC 3339 like 2019-11-01T09:00:00+01:00, or 2019-11-01", x)
		return time.Time{}, false
	}
	r.fail(key, "want a date, got %s", kind(v))
	return time.Time{}, false
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string:
		return "text"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	case time.Time, frontmatter.LocalTime:
		return "a date"
	}
	return fmt.Sprintf("%T", v)
}

// keyPatterns match a top-level key at the start of a line of a TOML or
// YAML block: bare or quoted, and for TOML possibly the first part of a
// dotted key (author.name = …).
var keyPatterns = map[frontmatter.Format]*regexp.Regexp{
	frontmatter.TOML: regexp.MustCompile(`^[ \t]*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))[ \t]*[=.]`),
	frontmatter.YAML: regexp.MustCompile(`^(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))[ \t]*:(?:[ \t]|$)`),
}

// tomlTable matches a TOML table header; keys after one are not top-level.
// A [name] header is where a problem with the table name is reported.
var tomlTable = regexp.MustCompile(`^[ \t]*\[(?:[ \t]*([A-Za-z0-9_-]+)[ \t]*\])?`)

// fieldLines finds the file line each top-level key of the block is
// written on, so problems can point at it. It is a best effort: a key it
// cannot find reports the line the front matter opens on.
func fieldLines(b frontmatter.Block) func(string) int {
	lines := map[string]int{}
	open := max(b.Line-1, 1) // the opening fence
	switch b.Format {
	case frontmatter.None:
		open = 1
	case frontmatter.JSON:
		open = b.Line
		jsonKeyLines(b.Raw, b.Line, lines)
	default:
		re := keyPatterns[b.Format]
		tables := false
		for i, l := range strings.Split(string(b.Raw), "\n") {
			if b.Format == frontmatter.TOML {
				if m := tomlTable.FindStringSubmatch(l); m != nil {
					tables = true
					if k := strings.ToLower(m[1]); k != "" {
						if _, seen := lines[k]; !seen {
							lines[k] = b.Line + i
						}
					}
					continue
				}
				if tables {
					continue // a table's keys are not top-level
				}
			}
			if m := re.FindStringSubmatch(l); m != nil {
				k := strings.ToLower(m[1] + m[2] + m[3])
				if _, seen := lines[k]; !seen {
					lines[k] = b.Line + i
				}
			}
		}
	}
	return func(k string) int {
		if n, ok := lines[k]; ok {
			return n
		}
		return open
	}
}

// jsonKeyLines records the line of each key of a JSON object's top level.
// It only tracks strings and nesting, which is all that finding keys needs;
// the decoder has already checked the syntax.
func jsonKeyLines(raw []byte, line int, lines map[string]int) {
	depth := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\n':
			line++
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			start, startLine := i+1, line
			for i++; i < len(raw) && raw[i] != '"'; i++ {
				if raw[i] == '\\' {
					i++
				}
			}
			if depth != 1 || i >= len(raw) {
				continue
			}
			rest := strings.TrimLeft(string(raw[i+1:min(i+1+64, len(raw))]), " \t\r\n")
			if !strings.HasPrefix(rest, ":") {
				continue
			}
			var k string
			if err := json.Unmarshal(raw[start-1:i+1], &k); err != nil {
				continue
			}
			if k = strings.ToLower(k); lines[k] == 0 {
				lines[k] = startLine
			}
		}
	}
}

// sortedKeys is used where map order must not reach output.
func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
