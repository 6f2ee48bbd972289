package readers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/site"
)

// feedView is what a feed reader takes from an Atom feed, as gofeed sees
// it; feeds.mjs compares it with what an npm parser sees.
type feedView struct {
	Title    string      `json:"title"`
	SelfURL  string      `json:"self"`
	HomeURL  string      `json:"home"`
	Updated  string      `json:"updated"` // RFC 3339
	Language string      `json:"language"`
	Authors  []string    `json:"authors"`
	Entries  []entryView `json:"entries"`
}

type entryView struct {
	ID        string   `json:"id"`
	Title     string   `json:"title"`
	URL       string   `json:"url"`
	Published string   `json:"published"` // RFC 3339
	Updated   string   `json:"updated"`
	Authors   []string `json:"authors"`
	Summary   string   `json:"summary"` // HTML
	Content   string   `json:"content"` // HTML
	// Categories as readers show them (the label) and as they file them
	// (the term, the tag's slug).
	Labels []string `json:"labels"`
	Terms  []string `json:"terms"`
}

// feedPair is one listing's feeds, as feeds.mjs finds them in its folder.
type feedPair struct {
	Key      string `json:"key"`      // of the Atom feed
	URL      string `json:"url"`      // it was fetched from
	Atom     string `json:"atom"`     // file: the feed as served
	View     string `json:"view"`     // file: gofeed's feedView
	JSONFeed string `json:"jsonFeed"` // file: the listing's JSON Feed as served
	JSONURL  string `json:"jsonURL"`
}

// TestFeedReaders fetches every Atom feed of the test site and its JSON
// Feed through the CDN, as a feed reader would, and has
// testdata/readers/feeds.mjs check that an independent parser from npm
// (@rowanmanning/feed-parser) takes the same entries from each Atom feed
// as gofeed (ids, titles, links, dates, authors, categories, summaries and
// content), and that each JSON Feed parses as plain JSON, has the fields
// JSON Feed 1.1 requires and lists the same entries.
func TestFeedReaders(t *testing.T) {
	node := needNode(t)
	s := newTestSite(t, nil)
	objs, err := blob.ListAll(context.Background(), s.dst, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var pairs []feedPair
	for _, o := range objs {
		if !isAtomFeed(o.Key) {
			continue
		}
		listing := strings.TrimSuffix(o.Key, "index.xml")
		name := strings.ReplaceAll(strings.TrimSuffix(listing, "/"), "/", "_")
		if name == "" {
			name = "site"
		}
		p := feedPair{
			Key:      o.Key,
			URL:      s.URL + escape(o.Key),
			Atom:     name + ".xml",
			View:     name + ".gofeed.json",
			JSONFeed: name + ".json",
			JSONURL:  s.URL + escape(listing+"index.json"),
		}
		xml := s.fetch(o.Key, site.TypeAtom)
		writeFile(t, dir, p.Atom, xml)
		writeFile(t, dir, p.JSONFeed, s.fetch(listing+"index.json", site.TypeJSONFeed))
		view, err := gofeedView(xml)
		if err != nil {
			t.Fatalf("%s: %v", o.Key, err)
		}
		if len(view.Entries) == 0 {
			t.Errorf("%s: gofeed finds no entries", o.Key)
		}
		data, err := json.MarshalIndent(view, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, p.View, data)
		pairs = append(pairs, p)
	}
	// The site's feed and one per tag: the test posts have over twenty.
	if len(pairs) < 20 {
		t.Fatalf("found %d Atom feeds, want the site's and one per tag", len(pairs))
	}
	manifest, err := json.MarshalIndent(pairs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "feeds.json", manifest)
	runNode(t, node, time.Minute, "feeds.mjs", dir)
}

// isAtomFeed reports whether key is a listing's Atom feed: the site's,
// or a tag's.
func isAtomFeed(key string) bool {
	if key == "index.xml" {
		return true
	}
	rest, ok := strings.CutPrefix(key, "tags/")
	return ok && strings.Count(rest, "/") == 1 && strings.HasSuffix(rest, "/index.xml")
}

// escape turns a key into the path of its URL, relative to the base.
func escape(key string) string {
	return strings.TrimPrefix((&url.URL{Path: "/" + key}).EscapedPath(), "/")
}

// fetch gets a site key through the CDN and checks it is there, with
// content type ctype.
func (s *testSite) fetch(key, ctype string) []byte {
	s.t.Helper()
	resp, body := s.get("/" + escape(key))
	if resp.StatusCode != 200 {
		s.t.Fatalf("GET %s: %s", key, resp.Status)
	}
	if got := resp.Header.Get("Content-Type"); got != ctype {
		s.t.Errorf("GET %s: Content-Type %q, want %q", key, got, ctype)
	}
	return body
}

func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// gofeedView parses an Atom feed with gofeed's universal parser, as Go
// feed readers do, and with its Atom parser for the category terms the
// universal one folds into labels.
func gofeedView(doc []byte) (feedView, error) {
	f, err := gofeed.NewParser().Parse(bytes.NewReader(doc))
	if err != nil {
		return feedView{}, err
	}
	af, err := (&atom.Parser{}).Parse(bytes.NewReader(doc))
	if err != nil {
		return feedView{}, err
	}
	v := feedView{
		Title:    f.Title,
		SelfURL:  f.FeedLink,
		HomeURL:  f.Link,
		Updated:  rfc3339(f.UpdatedParsed),
		Language: f.Language,
		Authors:  names(f.Authors),
		Entries:  []entryView{},
	}
	for i, it := range f.Items {
		e := entryView{
			ID:        it.GUID,
			Title:     it.Title,
			URL:       it.Link,
			Published: rfc3339(it.PublishedParsed),
			Updated:   rfc3339(it.UpdatedParsed),
			Authors:   names(it.Authors),
			Summary:   it.Description,
			Content:   it.Content,
			Labels:    append([]string{}, it.Categories...),
			Terms:     []string{},
		}
		for _, c := range af.Entries[i].Categories {
			e.Terms = append(e.Terms, c.Term)
		}
		v.Entries = append(v.Entries, e)
	}
	return v, nil
}

func rfc3339(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func names(ps []*gofeed.Person) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

// TestFeedsNameTheirHub checks WebSub discovery (W3C WebSub, 4): with
// WEBSUB_HUB_URL set, every Atom feed links rel="hub" to the hub beside
// rel="self" to its own URL, the topic subscribers name, and every JSON
// Feed lists the hub; without it, none does.
func TestFeedsNameTheirHub(t *testing.T) {
	const hub = "https://hub.example/"
	for _, tc := range []struct {
		name    string
		setting map[string]string
		want    string
	}{
		{"with a hub the feeds name it", map[string]string{"WEBSUB_HUB_URL": hub}, hub},
		{"without a hub they name none", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSite(t, tc.setting)
			objs, err := blob.ListAll(context.Background(), s.dst, "")
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, o := range objs {
				if !isAtomFeed(o.Key) {
					continue
				}
				n++
				af, err := (&atom.Parser{}).Parse(bytes.NewReader(s.fetch(o.Key, site.TypeAtom)))
				if err != nil {
					t.Fatalf("%s: %v", o.Key, err)
				}
				links := map[string][]string{}
				for _, l := range af.Links {
					links[l.Rel] = append(links[l.Rel], l.Href)
				}
				if want := []string{s.URL + escape(o.Key)}; !slices.Equal(links["self"], want) {
					t.Errorf("%s: rel=self %q, want %q", o.Key, links["self"], want)
				}
				if got := strings.Join(links["hub"], " "); got != tc.want {
					t.Errorf("%s: rel=hub %q, want %q", o.Key, got, tc.want)
				}

				jsonKey := strings.TrimSuffix(o.Key, ".xml") + ".json"
				var jf struct {
					Hubs []struct{ Type, URL string } `json:"hubs"`
				}
				if err := json.Unmarshal(s.fetch(jsonKey, site.TypeJSONFeed), &jf); err != nil {
					t.Fatalf("%s: %v", jsonKey, err)
				}
				var got string
				for _, h := range jf.Hubs {
					if h.Type == "WebSub" {
						got = h.URL
					}
				}
				if got != tc.want || len(jf.Hubs) > 1 {
					t.Errorf("%s: hubs %+v, want one WebSub hub %q", jsonKey, jf.Hubs, tc.want)
				}
			}
			if n < 20 {
				t.Fatalf("found %d Atom feeds, want the site's and one per tag", n)
			}
		})
	}
}
