package feed

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
)

// FuzzAtom checks that whatever a post's title and content hold, the Atom
// document is well-formed XML that gives back the cleaned text, and the
// JSON document is valid JSON.
func FuzzAtom(f *testing.F) {
	for _, h := range hostile {
		f.Add(h.text, h.text)
	}
	f.Add("Héllo, 世界", "<p>plain</p>")
	f.Add("", "")
	f.Add(" \t", "\x00")
	f.Fuzz(func(t *testing.T, title, content string) {
		feed := tagFeed()
		e := &feed.Entries[0]
		e.Title, e.Content, e.Summary = title, content, content

		out, err := Atom(feed)
		if strings.TrimSpace(clean(title)) == "" {
			if err == nil {
				t.Fatalf("Atom accepted the blank title %q", title)
			}
			return
		}
		if err != nil {
			t.Fatalf("Atom: %v", err)
		}
		if err := wellFormed(out); err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, out)
		}
		var got checkFeed
		if err := xml.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		entry := got.Entries[len(got.Entries)-1] // the generics post is the oldest
		if entry.Titles[0].Text != clean(title) {
			t.Errorf("title = %q, want %q", entry.Titles[0].Text, clean(title))
		}
		var gotContent string
		if len(entry.Contents) > 0 {
			gotContent = entry.Contents[0].Text
		}
		if gotContent != clean(content) {
			t.Errorf("content = %q, want %q", gotContent, clean(content))
		}

		js, err := JSON(feed)
		if err != nil {
			t.Fatalf("JSON: %v", err)
		}
		if !json.Valid(js) {
			t.Fatalf("invalid JSON:\n%s", js)
		}
	})
}
