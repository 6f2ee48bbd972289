package feed

import (
	"bytes"
	"encoding/xml"
	"fmt"

	"github.com/gorilla/feeds"
)

const atomNS = "http://www.w3.org/2005/Atom"

// atomFeed and atomEntry mirror feeds.AtomFeed and feeds.AtomEntry with
// what those lack: published, repeatable <category term label>, several
// links per feed (self, alternate, hub) and xml:lang. The leaf elements
// (links, persons, text constructs) are gorilla's own types. Field order
// is element order in the output.
type atomFeed struct {
	XMLName   xml.Name          `xml:"feed"`
	Xmlns     string            `xml:"xmlns,attr"`
	Lang      string            `xml:"xml:lang,attr,omitempty"`
	ID        string            `xml:"id"`
	Title     string            `xml:"title"`
	Subtitle  string            `xml:"subtitle,omitempty"`
	Updated   string            `xml:"updated"`
	Links     []feeds.AtomLink  // self, alternate, then hub
	Author    *feeds.AtomAuthor // always set: entries may lack their own
	Generator string            `xml:"generator,omitempty"`
	Icon      string            `xml:"icon,omitempty"`
	Entries   []atomEntry
}

// FeedXml makes atomFeed a feeds.XmlFeed, so feeds.WriteXML serializes it.
func (f *atomFeed) FeedXml() any { return f }

type atomEntry struct {
	XMLName    xml.Name `xml:"entry"`
	ID         string   `xml:"id"`
	Title      string   `xml:"title"`
	Link       feeds.AtomLink
	Published  string            `xml:"published,omitempty"`
	Updated    string            `xml:"updated"`
	Author     *feeds.AtomAuthor // nil: the feed's author applies
	Categories []atomCategory
	Summary    *feeds.AtomSummary
	Content    *feeds.AtomContent
}

type atomCategory struct {
	XMLName xml.Name `xml:"category"`
	Term    string   `xml:"term,attr"`
	Label   string   `xml:"label,attr,omitempty"`
}

// Atom renders f as an Atom 1.0 document (RFC 4287), UTF-8 with an XML
// declaration.
//
// Entries are sorted and cut to f.Limit as documented on [Feed]. The
// feed's <updated> is the latest updated time among the emitted entries,
// or f.Updated when there are none; it never comes from the clock. Each
// entry's <updated> is Updated, or Published when that is later or
// Updated is zero. Times are RFC 3339 in UTC, to the second.
//
// Titles and names are plain text; Summary and Content are HTML, emitted
// escaped as type="html". All text is cleaned first: invalid UTF-8 becomes
// U+FFFD and characters XML 1.0 forbids are dropped, so the document is
// well formed whatever the input holds.
func Atom(f Feed) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("render atom feed %q: %w", f.ID, err)
	}
	sel := selectEntries(&f)
	doc := &atomFeed{
		Xmlns:    atomNS,
		Lang:     clean(f.Language),
		ID:       clean(f.ID),
		Title:    clean(f.Title),
		Subtitle: clean(f.Subtitle),
		Updated:  timestamp(sel.updated),
		Links: []feeds.AtomLink{
			{Rel: "self", Type: "application/atom+xml", Href: clean(f.SelfURL)},
			{Rel: "alternate", Type: "text/html", Href: clean(f.AlternateURL)},
		},
		Author:    atomAuthor(f.Author),
		Generator: clean(f.Generator),
		Icon:      clean(f.Icon),
		Entries:   make([]atomEntry, 0, len(sel.entries)),
	}
	if f.HubURL != "" {
		doc.Links = append(doc.Links, feeds.AtomLink{Rel: "hub", Href: clean(f.HubURL)})
	}
	size := 1024
	for _, e := range sel.entries {
		doc.Entries = append(doc.Entries, newAtomEntry(e))
		// Escaping typically grows HTML by a third ("<p>" is "&lt;p&gt;").
		size += 512 + (len(e.Summary)+len(e.Content))*3/2
	}
	return writeXML(doc, size)
}

func newAtomEntry(e *Entry) atomEntry {
	x := atomEntry{
		ID:        clean(e.ID),
		Title:     clean(e.Title),
		Link:      feeds.AtomLink{Rel: "alternate", Type: "text/html", Href: clean(e.URL)},
		Published: timestamp(e.Published),
		Updated:   timestamp(e.updated()),
	}
	if !e.Author.isZero() {
		x.Author = atomAuthor(e.Author)
	}
	for i, c := range e.Categories {
		if repeatsTerm(e.Categories, i) {
			continue
		}
		x.Categories = append(x.Categories, atomCategory{Term: clean(c.Term), Label: clean(c.Label)})
	}
	if s := clean(e.Summary); s != "" {
		x.Summary = &feeds.AtomSummary{Type: "html", Content: s}
	}
	if c := clean(e.Content); c != "" {
		x.Content = &feeds.AtomContent{Type: "html", Content: c}
	}
	return x
}

func atomAuthor(p Person) *feeds.AtomAuthor {
	return &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{
		Name:  clean(p.Name),
		Uri:   clean(p.URI),
		Email: clean(p.Email),
	}}
}

// writeXML serializes doc with gorilla's writer (XML declaration, two-space
// indent) and ends the file with a newline. size is a capacity hint.
func writeXML(doc feeds.XmlFeed, size int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(size)
	if err := feeds.WriteXML(doc, &buf); err != nil {
		return nil, fmt.Errorf("encode xml: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
