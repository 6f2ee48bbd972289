package feed

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Person is an author of a feed or of one entry.
type Person struct {
	Name  string // required whenever the person is given
	Email string // Atom only: JSON Feed has no field for it
	URI   string // the person's home page, absolute
}

// isZero reports whether p is empty, meaning "no author given".
func (p Person) isZero() bool { return p == Person{} }

// Category is one tag of an entry.
type Category struct {
	Term  string // the tag's slug, e.g. "golang"; required
	Label string // the tag's display spelling, e.g. "Go"; Term when empty
}

// Entry is one post in a feed.
type Entry struct {
	ID         string    // stable absolute IRI, e.g. from TagURI; never changes once published
	Title      string    // plain text, not HTML
	URL        string    // absolute URL of the post's page
	Published  time.Time // first publication; zero when unknown
	Updated    time.Time // last significant change; zero means Published
	Author     Person    // zero: the feed's author applies
	Categories []Category
	Summary    string // HTML; optional
	Content    string // HTML with absolute URLs; optional
}

// Feed is the input for [Atom] and [JSON]. One Feed describes both
// documents, so the fields either format needs are required for both.
type Feed struct {
	ID           string // stable absolute IRI for the Atom feed
	Title        string // plain text
	Subtitle     string // plain text; optional
	Language     string // BCP 47 tag such as "en"; optional
	SelfURL      string // absolute URL of the Atom document itself
	JSONSelfURL  string // absolute URL of the JSON Feed document; optional
	AlternateURL string // absolute URL of the HTML page the feed mirrors
	HubURL       string // WebSub hub; optional
	Author       Person // required: entries without an author inherit it
	Icon         string // absolute URL of a square image; optional
	Generator    string // e.g. "postmill"; optional

	// Entries may come in any order: they are sorted newest first by
	// Published (Updated when Published is zero), ties broken by URL and
	// then ID, before Limit applies.
	Entries []Entry

	// Limit caps the number of entries emitted after sorting; 0 means all.
	Limit int

	// Updated is the feed's updated time when it has no entries. With
	// entries it is ignored: the feed's updated time is the latest Updated
	// among the emitted entries, so it moves only when they do.
	Updated time.Time
}

// Validate reports the first reason f cannot be rendered as a conforming
// feed, or nil. [Atom] and [JSON] call it; callers may call it earlier to
// fail fast.
func (f Feed) Validate() error {
	if !isAbsoluteIRI(f.ID) {
		return fmt.Errorf("feed id %q is not an absolute IRI", f.ID)
	}
	if isBlank(f.Title) {
		return errors.New("feed has no title")
	}
	for _, u := range []struct{ name, value string }{
		{"self url", f.SelfURL},
		{"alternate url", f.AlternateURL},
	} {
		if !isAbsoluteURL(u.value) {
			return fmt.Errorf("feed %s %q is not an absolute url", u.name, u.value)
		}
	}
	for _, u := range []struct{ name, value string }{
		{"json self url", f.JSONSelfURL},
		{"hub url", f.HubURL},
		{"icon", f.Icon},
	} {
		if u.value != "" && !isAbsoluteURL(u.value) {
			return fmt.Errorf("feed %s %q is not an absolute url", u.name, u.value)
		}
	}
	if f.Author.isZero() {
		return errors.New("feed has no author")
	}
	if err := validatePerson(f.Author); err != nil {
		return fmt.Errorf("feed author: %w", err)
	}
	if f.Limit < 0 {
		return fmt.Errorf("feed limit %d is negative", f.Limit)
	}
	if len(f.Entries) == 0 {
		if f.Updated.IsZero() {
			return errors.New("feed has no entries and no updated time")
		}
		if !inRFC3339Range(f.Updated) {
			return fmt.Errorf("feed updated time %v is outside years 0000-9999", f.Updated)
		}
	}
	seen := make(map[string]struct{}, len(f.Entries))
	for i := range f.Entries {
		e := &f.Entries[i]
		if err := e.validate(); err != nil {
			return fmt.Errorf("entry %d (%q): %w", i, e.ID, err)
		}
		if _, dup := seen[e.ID]; dup {
			return fmt.Errorf("entry %d: duplicate id %q", i, e.ID)
		}
		seen[e.ID] = struct{}{}
	}
	return nil
}

func (e *Entry) validate() error {
	if !isAbsoluteIRI(e.ID) {
		return errors.New("id is not an absolute IRI")
	}
	if isBlank(e.Title) {
		return errors.New("no title")
	}
	if !isAbsoluteURL(e.URL) {
		return fmt.Errorf("url %q is not an absolute url", e.URL)
	}
	if e.Published.IsZero() && e.Updated.IsZero() {
		return errors.New("neither published nor updated time")
	}
	if !inRFC3339Range(e.Published) || !inRFC3339Range(e.Updated) {
		return errors.New("time outside years 0000-9999")
	}
	if !e.Author.isZero() {
		if err := validatePerson(e.Author); err != nil {
			return fmt.Errorf("author: %w", err)
		}
	}
	for _, c := range e.Categories {
		if isBlank(c.Term) {
			return fmt.Errorf("category with label %q has no term", c.Label)
		}
	}
	return nil
}

func validatePerson(p Person) error {
	if isBlank(p.Name) {
		return errors.New("no name")
	}
	if p.URI != "" && !isAbsoluteURL(p.URI) {
		return fmt.Errorf("uri %q is not an absolute url", p.URI)
	}
	return nil
}

// updated is the entry's effective updated time: a post is never updated
// before it was published, and an unset Updated means "as published".
func (e *Entry) updated() time.Time {
	if e.Updated.Before(e.Published) {
		return e.Published
	}
	return e.Updated
}

// sortTime is what entries are ordered by: Published, or the updated time
// for an entry whose publication time is unknown.
func (e *Entry) sortTime() time.Time {
	if e.Published.IsZero() {
		return e.updated()
	}
	return e.Published
}

// labelOrTerm is the category's display spelling.
func (c Category) labelOrTerm() string {
	if c.Label != "" {
		return c.Label
	}
	return c.Term
}

// selected is what both renderers emit: the entries sorted, cut to the
// limit, and the feed's updated time derived from them. It keeps pointers
// into f.Entries, so the caller's slice is neither copied nor reordered.
type selected struct {
	entries []*Entry
	updated time.Time
}

func selectEntries(f *Feed) selected {
	entries := make([]*Entry, len(f.Entries))
	for i := range f.Entries {
		entries[i] = &f.Entries[i]
	}
	slices.SortFunc(entries, func(a, b *Entry) int {
		if c := b.sortTime().Compare(a.sortTime()); c != 0 {
			return c // newest first
		}
		if c := strings.Compare(a.URL, b.URL); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if f.Limit > 0 && len(entries) > f.Limit {
		entries = entries[:f.Limit]
	}
	s := selected{entries: entries, updated: f.Updated}
	if len(entries) > 0 {
		s.updated = time.Time{}
		for _, e := range entries {
			if u := e.updated(); u.After(s.updated) {
				s.updated = u
			}
		}
	}
	return s
}

// repeatsTerm reports whether cs[i] repeats the term of an earlier
// category, so a tag listed twice in front matter is emitted once.
func repeatsTerm(cs []Category, i int) bool {
	return slices.ContainsFunc(cs[:i], func(c Category) bool { return c.Term == cs[i].Term })
}

// timestamp formats t as RFC 3339 in UTC, to the second. Both Atom and
// JSON Feed use it so the two documents agree byte for byte on times.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// inRFC3339Range reports whether t can be written as an RFC 3339 date,
// whose year has exactly four digits. The zero time counts as absent.
func inRFC3339Range(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}

func isBlank(s string) bool { return strings.TrimSpace(clean(s)) == "" }

// clean makes s safe to place in XML 1.0 and JSON alike: invalid UTF-8
// becomes U+FFFD and characters XML 1.0 forbids (most C0 controls,
// U+FFFE, U+FFFF) are dropped. Both renderers apply it to all text so the
// two documents carry the same strings. It returns s itself when nothing
// needs changing, which is the common case.
func clean(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				break
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !isXMLChar(r) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case isXMLChar(r):
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isXMLChar reports whether r matches the Char production of XML 1.0.
func isXMLChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= utf8.MaxRune:
		return true
	}
	return false
}

// isAbsoluteIRI reports whether s is an absolute IRI (RFC 3987): a scheme,
// a colon, and no characters an IRI may not contain. Atom requires entry
// and feed ids to be such IRIs.
func isAbsoluteIRI(s string) bool {
	colon := strings.IndexByte(s, ':')
	if colon < 1 || !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < colon; i++ {
		c := s[i]
		letter := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !(letter || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	rest := s[colon+1:]
	if rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; {
		case c <= 0x20 || c == 0x7F:
			return false
		case strings.IndexByte(`<>"{}|\^`+"`", c) >= 0:
			return false
		case c == '%':
			if i+2 >= len(rest) || !isHex(rest[i+1]) || !isHex(rest[i+2]) {
				return false
			}
		}
	}
	for _, r := range rest {
		if !isXMLChar(r) || (r >= 0x80 && r <= 0x9F) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// isAbsoluteURL reports whether s is an absolute http or https URL with a
// host: the only kind a feed reader can follow. It checks by hand rather
// than with url.Parse because it runs for every entry of every feed.
func isAbsoluteURL(s string) bool {
	if !isAbsoluteIRI(s) {
		return false
	}
	var rest string
	switch scheme, after, _ := strings.Cut(s, ":"); strings.ToLower(scheme) {
	case "http", "https":
		rest = after
	default:
		return false
	}
	authority, ok := strings.CutPrefix(rest, "//")
	if !ok {
		return false
	}
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:] // drop userinfo
	}
	host := authority
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.HasSuffix(authority, "]") {
		host = authority[:i] // drop the port
	}
	return host != ""
}
