package feed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"strings"

	"github.com/gorilla/feeds"
)

const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

// jsonFeed and jsonItem are JSON Feed 1.1 documents. They are not
// feeds.JSONFeed and feeds.JSONItem because those omit an empty "items"
// array and an empty "content_html", both of which the spec requires, and
// carry the deprecated singular "author". Field order is key order in
// the output.
type jsonFeed struct {
	Version     string              `json:"version"`
	Title       string              `json:"title"`
	HomePageURL string              `json:"home_page_url"`
	FeedURL     string              `json:"feed_url,omitempty"`
	Description string              `json:"description,omitempty"`
	Icon        string              `json:"icon,omitempty"`
	Language    string              `json:"language,omitempty"`
	Authors     []*feeds.JSONAuthor `json:"authors"`
	Hubs        []*feeds.JSONHub    `json:"hubs,omitempty"`
	Items       []jsonItem          `json:"items"`
}

type jsonItem struct {
	ID            string              `json:"id"`
	URL           string              `json:"url"`
	Title         string              `json:"title"`
	ContentHTML   string              `json:"content_html"`
	Summary       string              `json:"summary,omitempty"`
	DatePublished string              `json:"date_published,omitempty"`
	DateModified  string              `json:"date_modified"`
	Authors       []*feeds.JSONAuthor `json:"authors,omitempty"` // empty: the feed's authors apply
	Tags          []string            `json:"tags,omitempty"`
}

// JSON renders f as a JSON Feed 1.1 document
// (https://jsonfeed.org/version/1.1), indented by two spaces and ending in
// a newline.
//
// It selects, orders and cleans entries exactly as [Atom] does, so the two
// documents list the same items with the same times. Differences forced
// by the format: tags are the categories' display labels; summary is
// plain text (Summary with its tags stripped and entities decoded); an
// author's Email is dropped; date_modified is always present and
// date_published only when known.
//
// Strings are not HTML-escaped: "<", ">" and "&" appear as themselves,
// which is valid JSON and keeps content_html readable. The output is
// served as application/feed+json, never inlined into an HTML page.
func JSON(f Feed) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("render json feed %q: %w", f.ID, err)
	}
	sel := selectEntries(&f)
	doc := &jsonFeed{
		Version:     jsonFeedVersion,
		Title:       clean(f.Title),
		HomePageURL: clean(f.AlternateURL),
		FeedURL:     clean(f.JSONSelfURL),
		Description: clean(f.Subtitle),
		Icon:        clean(f.Icon),
		Language:    clean(f.Language),
		Authors:     []*feeds.JSONAuthor{jsonAuthor(f.Author)},
		Items:       make([]jsonItem, 0, len(sel.entries)),
	}
	if f.HubURL != "" {
		doc.Hubs = []*feeds.JSONHub{{Type: "WebSub", Url: clean(f.HubURL)}}
	}
	size := 1024
	for _, e := range sel.entries {
		doc.Items = append(doc.Items, newJSONItem(e))
		size += 512 + (len(e.Summary)+len(e.Content))*11/10 // quotes and newlines escaped
	}
	// Encode compactly, then indent into a buffer of the right size: an
	// indenting Encoder would grow a fresh buffer of its own every call.
	var compact, out bytes.Buffer
	compact.Grow(size)
	// HTML-significant characters stay escaped (\u003c): a reader that
	// mishandles JSON can never be handed a live <script>.
	enc := json.NewEncoder(&compact)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("render json feed %q: %w", f.ID, err)
	}
	out.Grow(compact.Len() + 64*len(doc.Items) + 256)
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("render json feed %q: %w", f.ID, err)
	}
	return out.Bytes(), nil
}

func newJSONItem(e *Entry) jsonItem {
	it := jsonItem{
		ID:            clean(e.ID),
		URL:           clean(e.URL),
		Title:         clean(e.Title),
		ContentHTML:   clean(e.Content),
		Summary:       htmlToText(clean(e.Summary)),
		DatePublished: timestamp(e.Published),
		DateModified:  timestamp(e.updated()),
	}
	if !e.Author.isZero() {
		it.Authors = []*feeds.JSONAuthor{jsonAuthor(e.Author)}
	}
	for i, c := range e.Categories {
		if repeatsTerm(e.Categories, i) {
			continue
		}
		it.Tags = append(it.Tags, clean(c.labelOrTerm()))
	}
	return it
}

func jsonAuthor(p Person) *feeds.JSONAuthor {
	return &feeds.JSONAuthor{Name: clean(p.Name), Url: clean(p.URI)}
}

// htmlToText turns a short HTML fragment into one line of plain text:
// tags and comments are removed, entities decoded and runs of white space
// collapsed. It is meant for summaries the site itself rendered, not as a
// sanitizer: its output is only ever placed in a JSON string.
func htmlToText(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] != '<' || !startsMarkup(s[i+1:]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
		} else {
			i = skipTag(s, i)
		}
		b.WriteByte(' ') // "<p>a</p><p>b</p>" reads as "a b"
	}
	return strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
}

// startsMarkup reports whether the text after a '<' begins a tag, an end
// tag, a comment or a declaration, as opposed to a literal "<" such as in
// "a < b".
func startsMarkup(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	return c == '/' || c == '!' || c == '?' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// skipTag returns the index just past the tag starting at s[i], ignoring
// any '>' inside quoted attribute values.
func skipTag(s string, i int) int {
	var quote byte
	for i++; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i + 1
		}
	}
	return len(s)
}
