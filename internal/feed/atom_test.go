package feed

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

// renderCases are the feeds every Atom and JSON test runs over.
var renderCases = []struct {
	name   string
	feed   func() Feed
	golden bool     // compare with testdata/<name>.{atom,json}.golden
	ids    []string // expected entry ids, in output order
}{
	{"tag", tagFeed, true, []string{
		"tag:example.com,2024-03-01:/posts/h%C3%A9llo%20w%C3%B6rld/",
		"tag:example.com,2024-02-15:/posts/errors/",
		"tag:example.com,2024-01-10:/posts/generics/",
	}},
	{"site", siteFeed, true, []string{
		"tag:example.com,2024-04-01:/posts/a-side/",
		"tag:example.com,2024-04-01:/posts/b-side/",
		"tag:example.com,2024-03-01:/posts/h%C3%A9llo%20w%C3%B6rld/",
	}},
	{"empty", emptyFeed, false, nil},
}

func mustAtom(t testing.TB, f Feed) []byte {
	t.Helper()
	out, err := Atom(f)
	if err != nil {
		t.Fatalf("Atom: %v", err)
	}
	return out
}

func TestAtomGolden(t *testing.T) {
	for _, tc := range renderCases {
		if !tc.golden {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			checkGolden(t, tc.name+".atom.golden", mustAtom(t, tc.feed()))
		})
	}
}

// entryByID finds the input entry an output item came from.
func entryByID(t *testing.T, f Feed, id string) Entry {
	t.Helper()
	for _, e := range f.Entries {
		if e.ID == id {
			return e
		}
	}
	t.Fatalf("no input entry with id %q", id)
	return Entry{}
}

// labels is what a reader shows for e's categories: display labels, each
// term once.
func labels(e Entry) []string {
	var out []string
	for i, c := range e.Categories {
		if !repeatsTerm(e.Categories, i) {
			out = append(out, c.labelOrTerm())
		}
	}
	return out
}

func sameTime(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: missing, want %v", what, want)
		return
	}
	if !got.Equal(want.Truncate(time.Second)) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestFeedsParseWithGofeed reads every rendered document back with an
// independent parser and checks each item against the entry it came from.
func TestFeedsParseWithGofeed(t *testing.T) {
	for _, tc := range renderCases {
		f := tc.feed()
		atom := mustAtom(t, f)
		js, err := JSON(f)
		if err != nil {
			t.Fatalf("JSON: %v", err)
		}
		for _, doc := range []struct {
			format string
			body   []byte
		}{{"atom", atom}, {"json", js}} {
			t.Run(tc.name+"/"+doc.format, func(t *testing.T) {
				parsed, err := gofeed.NewParser().ParseString(string(doc.body))
				if err != nil {
					t.Fatalf("gofeed: %v", err)
				}
				if parsed.FeedType != doc.format {
					t.Errorf("FeedType = %q, want %q", parsed.FeedType, doc.format)
				}
				if parsed.Title != f.Title {
					t.Errorf("feed title = %q, want %q", parsed.Title, f.Title)
				}
				if parsed.Language != f.Language {
					t.Errorf("feed language = %q, want %q", parsed.Language, f.Language)
				}
				var ids []string
				for _, it := range parsed.Items {
					ids = append(ids, it.GUID)
				}
				if !slices.Equal(ids, tc.ids) {
					t.Fatalf("item ids = %q, want %q", ids, tc.ids)
				}
				for _, it := range parsed.Items {
					e := entryByID(t, f, it.GUID)
					if it.Title != e.Title {
						t.Errorf("%s: title = %q, want %q", e.ID, it.Title, e.Title)
					}
					if it.Link != e.URL {
						t.Errorf("%s: link = %q, want %q", e.ID, it.Link, e.URL)
					}
					sameTime(t, e.ID+": published", it.PublishedParsed, e.Published)
					sameTime(t, e.ID+": updated", it.UpdatedParsed, e.updated())
					if got, want := it.Categories, labels(e); !slices.Equal(got, want) {
						t.Errorf("%s: categories = %q, want %q", e.ID, got, want)
					}
					if it.Content != e.Content {
						t.Errorf("%s: content = %q, want %q", e.ID, it.Content, e.Content)
					}
					wantSummary := e.Summary
					if doc.format == "json" {
						wantSummary = htmlToText(e.Summary)
					}
					if it.Description != wantSummary {
						t.Errorf("%s: summary = %q, want %q", e.ID, it.Description, wantSummary)
					}
					wantAuthor := ""
					if !e.Author.isZero() {
						wantAuthor = e.Author.Name
					}
					var gotAuthor string
					if len(it.Authors) > 0 {
						gotAuthor = it.Authors[0].Name
					}
					if gotAuthor != wantAuthor {
						t.Errorf("%s: author = %q, want %q", e.ID, gotAuthor, wantAuthor)
					}
				}
			})
		}
	}
}

// The check* types decode Atom strictly by namespace, with repeatable
// fields as slices so "exactly one" can be counted.
type checkFeed struct {
	XMLName xml.Name      `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string        `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	IDs     []string      `xml:"http://www.w3.org/2005/Atom id"`
	Titles  []checkText   `xml:"http://www.w3.org/2005/Atom title"`
	Updated []string      `xml:"http://www.w3.org/2005/Atom updated"`
	Authors []checkPerson `xml:"http://www.w3.org/2005/Atom author"`
	Links   []checkLink   `xml:"http://www.w3.org/2005/Atom link"`
	Entries []checkEntry  `xml:"http://www.w3.org/2005/Atom entry"`
}

type checkEntry struct {
	IDs        []string        `xml:"http://www.w3.org/2005/Atom id"`
	Titles     []checkText     `xml:"http://www.w3.org/2005/Atom title"`
	Updated    []string        `xml:"http://www.w3.org/2005/Atom updated"`
	Published  []string        `xml:"http://www.w3.org/2005/Atom published"`
	Authors    []checkPerson   `xml:"http://www.w3.org/2005/Atom author"`
	Links      []checkLink     `xml:"http://www.w3.org/2005/Atom link"`
	Categories []checkCategory `xml:"http://www.w3.org/2005/Atom category"`
	Summaries  []checkText     `xml:"http://www.w3.org/2005/Atom summary"`
	Contents   []checkText     `xml:"http://www.w3.org/2005/Atom content"`
}

type checkText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type checkPerson struct {
	Names []string `xml:"http://www.w3.org/2005/Atom name"`
	URIs  []string `xml:"http://www.w3.org/2005/Atom uri"`
}

type checkLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type checkCategory struct {
	Term  *string `xml:"term,attr"`
	Label string  `xml:"label,attr"`
}

// checkRFC4287 reports every violation of an RFC 4287 MUST (and of this
// package's own promises about ids and times) it finds in doc.
func checkRFC4287(doc []byte) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	var f checkFeed
	if err := xml.Unmarshal(doc, &f); err != nil {
		return []string{"decode: " + err.Error()}
	}
	checkID := func(where string, ids []string) {
		if len(ids) != 1 {
			bad("%s: %d ids, want 1", where, len(ids))
			return
		}
		u, err := url.Parse(ids[0])
		if err != nil || u.Scheme == "" || !isAbsoluteIRI(ids[0]) {
			bad("%s: id %q is not an absolute IRI", where, ids[0])
		}
	}
	checkTime := func(where string, values []string, required bool) time.Time {
		if len(values) > 1 || (required && len(values) == 0) {
			bad("%s: %d values, want exactly one", where, len(values))
		}
		if len(values) == 0 {
			return time.Time{}
		}
		ts, err := time.Parse(time.RFC3339, values[0])
		if err != nil {
			bad("%s: %q is not RFC 3339: %v", where, values[0], err)
		}
		return ts
	}
	checkText := func(where string, texts []checkText, required bool) {
		if len(texts) > 1 || (required && len(texts) == 0) {
			bad("%s: %d elements, want exactly one", where, len(texts))
		}
		for _, x := range texts {
			switch x.Type {
			case "", "text", "html", "xhtml":
			default:
				bad("%s: type %q is not text, html or xhtml", where, x.Type)
			}
		}
	}
	checkAuthors := func(where string, ps []checkPerson) {
		for _, p := range ps {
			if len(p.Names) != 1 || strings.TrimSpace(p.Names[0]) == "" {
				bad("%s: author has %d names, want one non-empty", where, len(p.Names))
			}
			if len(p.URIs) > 1 {
				bad("%s: author has %d uris", where, len(p.URIs))
			}
		}
	}
	checkLinks := func(where string, links []checkLink) (alternates, selves int) {
		seen := map[string]bool{}
		for _, l := range links {
			if l.Href == "" {
				bad("%s: link without href", where)
			}
			rel := cmp.Or(l.Rel, "alternate")
			if rel == "alternate" {
				alternates++
				if seen[l.Type] {
					bad("%s: two alternate links of type %q", where, l.Type)
				}
				seen[l.Type] = true
			}
			if rel == "self" {
				selves++
			}
		}
		return alternates, selves
	}

	checkID("feed", f.IDs)
	checkText("feed title", f.Titles, true)
	feedUpdated := checkTime("feed updated", f.Updated, true)
	if len(f.Authors) == 0 {
		bad("feed has no author, so entries without one would have none")
	}
	checkAuthors("feed", f.Authors)
	alternates, selves := checkLinks("feed", f.Links)
	if selves != 1 {
		bad("feed: %d self links, want 1", selves)
	}
	if alternates != 1 {
		bad("feed: %d alternate links, want 1", alternates)
	}
	for _, l := range f.Links {
		if l.Rel == "self" && l.Type != "application/atom+xml" {
			bad("feed: self link type %q", l.Type)
		}
	}

	ids := map[string]bool{}
	var latest time.Time
	for i, e := range f.Entries {
		where := fmt.Sprintf("entry %d", i)
		checkID(where, e.IDs)
		if len(e.IDs) == 1 {
			if ids[e.IDs[0]] {
				bad("%s: duplicate id %q", where, e.IDs[0])
			}
			ids[e.IDs[0]] = true
		}
		checkText(where+" title", e.Titles, true)
		updated := checkTime(where+" updated", e.Updated, true)
		if updated.After(latest) {
			latest = updated
		}
		published := checkTime(where+" published", e.Published, false)
		if !published.IsZero() && updated.Before(published) {
			bad("%s: updated %v before published %v", where, updated, published)
		}
		checkAuthors(where, e.Authors)
		if alternates, _ := checkLinks(where, e.Links); alternates == 0 {
			bad("%s: no alternate link", where)
		}
		for _, c := range e.Categories {
			if c.Term == nil {
				bad("%s: category without term", where)
			}
		}
		checkText(where+" summary", e.Summaries, false)
		checkText(where+" content", e.Contents, false)
	}
	if len(f.Entries) > 0 && !feedUpdated.Equal(latest) {
		bad("feed updated %v is not the latest entry update %v", feedUpdated, latest)
	}
	return problems
}

func TestAtomMeetsRFC4287(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range checkRFC4287(mustAtom(t, tc.feed())) {
				t.Error(p)
			}
		})
	}
}

func TestAtomLanguage(t *testing.T) {
	var f checkFeed
	if err := xml.Unmarshal(mustAtom(t, tagFeed()), &f); err != nil {
		t.Fatal(err)
	}
	if f.Lang != "en" {
		t.Errorf("xml:lang = %q, want %q", f.Lang, "en")
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	for _, tc := range renderCases {
		for _, render := range []struct {
			format string
			fn     func(Feed) ([]byte, error)
		}{{"atom", Atom}, {"json", JSON}} {
			t.Run(tc.name+"/"+render.format, func(t *testing.T) {
				want, err := render.fn(tc.feed())
				if err != nil {
					t.Fatal(err)
				}
				f := tc.feed()
				before := slices.Clone(f.Entries)
				again, err := render.fn(f)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(again, want) {
					t.Errorf("second render differs:\n%s", lineDiff(string(want), string(again)))
				}
				if !slices.EqualFunc(f.Entries, before, entriesEqual) {
					t.Error("render reordered or changed the caller's entries")
				}
				for n := range len(f.Entries) {
					shuffled := tc.feed()
					shuffled.Entries = slices.Concat(shuffled.Entries[n:], shuffled.Entries[:n])
					slices.Reverse(shuffled.Entries)
					got, err := render.fn(shuffled)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Errorf("input order %d gives different output:\n%s", n, lineDiff(string(want), string(got)))
					}
				}
			})
		}
	}
}

func entriesEqual(a, b Entry) bool {
	return a.ID == b.ID && a.Title == b.Title && a.URL == b.URL && a.Content == b.Content &&
		a.Published.Equal(b.Published) && a.Updated.Equal(b.Updated) && slices.Equal(a.Categories, b.Categories)
}

func TestLimit(t *testing.T) {
	// Four entries, newest published first; the oldest was updated last.
	entries := []Entry{
		{ID: "tag:x.org,2024:4", URL: "https://x.org/4", Published: day(2024, 4, 1)},
		{ID: "tag:x.org,2024:3", URL: "https://x.org/3", Published: day(2024, 3, 1), Updated: day(2024, 3, 20)},
		{ID: "tag:x.org,2024:2", URL: "https://x.org/2", Published: day(2024, 2, 1), Updated: day(2024, 4, 10)},
		{ID: "tag:x.org,2024:1", URL: "https://x.org/1", Published: day(2024, 1, 1), Updated: day(2024, 5, 1)},
	}
	for i := range entries {
		entries[i].Title = "post " + entries[i].URL
	}
	tests := []struct {
		name        string
		limit       int
		wantIDs     []string
		wantUpdated string
	}{
		{"zero keeps all and updated is the latest of all", 0,
			[]string{"tag:x.org,2024:4", "tag:x.org,2024:3", "tag:x.org,2024:2", "tag:x.org,2024:1"}, "2024-05-01T00:00:00Z"},
		{"one keeps the newest post and its updated time", 1,
			[]string{"tag:x.org,2024:4"}, "2024-04-01T00:00:00Z"},
		{"two ignores later updates to dropped posts", 2,
			[]string{"tag:x.org,2024:4", "tag:x.org,2024:3"}, "2024-04-01T00:00:00Z"},
		{"three includes the post updated in april", 3,
			[]string{"tag:x.org,2024:4", "tag:x.org,2024:3", "tag:x.org,2024:2"}, "2024-04-10T00:00:00Z"},
		{"above the count keeps all", 10,
			[]string{"tag:x.org,2024:4", "tag:x.org,2024:3", "tag:x.org,2024:2", "tag:x.org,2024:1"}, "2024-05-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tagFeed()
			f.Entries = slices.Clone(entries)
			slices.Reverse(f.Entries) // the limit applies after sorting, not to input order
			f.Limit = tt.limit
			var got checkFeed
			if err := xml.Unmarshal(mustAtom(t, f), &got); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range got.Entries {
				ids = append(ids, e.IDs...)
			}
			if !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("ids = %q, want %q", ids, tt.wantIDs)
			}
			if len(got.Updated) != 1 || got.Updated[0] != tt.wantUpdated {
				t.Errorf("feed updated = %q, want %q", got.Updated, tt.wantUpdated)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(f *Feed)
		wantErr string // substring; "" means valid
	}{
		{"complete feed is valid", func(f *Feed) {}, ""},
		{"no entries with an updated time is valid", func(f *Feed) { *f = emptyFeed() }, ""},
		{"entry author with only a name is valid", func(f *Feed) { f.Entries[0].Author = Person{Name: "A"} }, ""},
		{"missing feed id", func(f *Feed) { f.ID = "" }, "feed id"},
		{"relative feed id", func(f *Feed) { f.ID = "/tags/go/" }, "not an absolute IRI"},
		{"feed id with a space", func(f *Feed) { f.ID = "tag:example.com,2024:a b" }, "not an absolute IRI"},
		{"blank feed title", func(f *Feed) { f.Title = " \t" }, "no title"},
		{"relative self url", func(f *Feed) { f.SelfURL = "/index.xml" }, "self url"},
		{"missing alternate url", func(f *Feed) { f.AlternateURL = "" }, "alternate url"},
		{"non-http hub url", func(f *Feed) { f.HubURL = "ftp://hub.example.com/" }, "hub url"},
		{"missing feed author", func(f *Feed) { f.Author = Person{} }, "no author"},
		{"feed author without a name", func(f *Feed) { f.Author.Name = "" }, "feed author: no name"},
		{"negative limit", func(f *Feed) { f.Limit = -1 }, "negative"},
		{"no entries and no updated time", func(f *Feed) { f.Entries = nil }, "no entries and no updated time"},
		{"entry id not an IRI", func(f *Feed) { f.Entries[1].ID = "posts/errors" }, "entry 1"},
		{"entry title only control characters", func(f *Feed) { f.Entries[0].Title = "\x00\x01" }, "no title"},
		{"relative entry url", func(f *Feed) { f.Entries[0].URL = "/posts/generics/" }, "absolute url"},
		{"entry without times", func(f *Feed) {
			f.Entries[2].Published, f.Entries[2].Updated = time.Time{}, time.Time{}
		}, "neither published nor updated"},
		{"entry year beyond 9999", func(f *Feed) { f.Entries[2].Updated = day(10000, 1, 1) }, "outside years"},
		{"entry author without a name", func(f *Feed) { f.Entries[0].Author = Person{Email: "a@example.com"} }, "author: no name"},
		{"category without term", func(f *Feed) { f.Entries[0].Categories = []Category{{Label: "Go"}} }, "no term"},
		{"duplicate entry ids", func(f *Feed) { f.Entries[2].ID = f.Entries[0].ID }, "duplicate id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tagFeed()
			tt.edit(&f)
			err := f.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
			for _, render := range []func(Feed) ([]byte, error){Atom, JSON} {
				if _, rerr := render(f); rerr == nil || !strings.Contains(rerr.Error(), err.Error()) {
					t.Errorf("render error = %v, want one carrying %q", rerr, err)
				}
			}
		})
	}
}

// hostile are strings meant to break the XML or smuggle markup.
var hostile = []struct {
	name, text string
}{
	{"script tag", "<script>alert(1)</script>"},
	{"cdata terminator", "a ]]> b <![CDATA[ c ]]> d"},
	{"nul and controls", "a\x00b\x01\x08\x0b\x0c\x1f c"},
	{"invalid utf-8", "a\xffb\xc3(c\xed\xa0\x80d"},
	{"non-characters", "a\uFFFEb\uFFFF"},
	{"crlf and tabs", "line\r\nline\rline\tend"},
	{"entities", "&amp; &lt;b&gt; &#0; &bogus; &"},
	{"xml declaration", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>&e;`},
}

func TestHostileTextStaysEscaped(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			f := tagFeed()
			e := &f.Entries[0]
			e.Title = "title " + h.text
			e.Summary, e.Content = h.text, h.text
			e.Author = Person{Name: "name " + h.text}
			e.Categories = []Category{{Term: "term " + h.text, Label: h.text}}
			f.Subtitle = h.text

			atom := mustAtom(t, f)
			if err := wellFormed(atom); err != nil {
				t.Fatalf("Atom is not well-formed XML: %v\n%s", err, atom)
			}
			if bytes.Contains(bytes.ToLower(atom), []byte("<script")) {
				t.Errorf("Atom carries an unescaped <script>:\n%s", atom)
			}
			for _, p := range checkRFC4287(atom) {
				t.Error(p)
			}
			var got checkFeed
			if err := xml.Unmarshal(atom, &got); err != nil {
				t.Fatal(err)
			}
			first := got.Entries[2] // the generics post is the oldest
			if want := clean(e.Title); first.Titles[0].Text != want {
				t.Errorf("title = %q, want %q", first.Titles[0].Text, want)
			}
			if want := clean(e.Content); len(first.Contents) == 1 && first.Contents[0].Text != want {
				t.Errorf("content = %q, want %q", first.Contents[0].Text, want)
			}
			if _, err := gofeed.NewParser().ParseString(string(atom)); err != nil {
				t.Errorf("gofeed cannot parse the Atom: %v", err)
			}

			js, err := JSON(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := gofeed.NewParser().ParseString(string(js)); err != nil {
				t.Errorf("gofeed cannot parse the JSON: %v", err)
			}
		})
	}
}

// wellFormed reads doc to the end with a strict XML decoder.
func wellFormed(doc []byte) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text is unchanged", "héllo, 世界 😀", "héllo, 世界 😀"},
		{"tab, newline and carriage return stay", "a\tb\nc\rd", "a\tb\nc\rd"},
		{"c0 controls are dropped", "a\x00b\x07c\x1fd", "abcd"},
		{"invalid utf-8 becomes the replacement character", "a\xffb", "a\uFFFDb"},
		{"a literal replacement character stays", "a\uFFFDb", "a\uFFFDb"},
		{"non-characters fffe and ffff are dropped", "a\uFFFEb\uFFFFc", "abc"},
		{"del and c1 controls stay, xml allows them", "a\x7fb\u0085c", "a\x7fb\u0085c"},
		{"empty stays empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clean(tt.in); got != tt.want {
				t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
