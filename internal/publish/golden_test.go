package publish_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"golang.org/x/net/html"
	xatom "golang.org/x/net/html/atom"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/blob/memblob"
	"github.com/postmill/postmill/internal/permalink"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/site"
	"github.com/postmill/postmill/internal/textdiff"
)

// The golden site is the output of publishing every file of the shared
// test posts (../../testdata/posts) with these settings at this moment.
// Run "go test ./internal/publish -run TestSiteGolden -update" after a
// deliberate change to rewrite testdata/site.
var (
	goldenNow      = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	goldenSettings = map[string]string{
		"SITE_BASE_URL": "https://blog.example/",
		"SITE_TITLE":    "Field Notes",
		"SITE_AUTHOR":   "Ada Lindqvist",
		"TIME_ZONE":     "Europe/Amsterdam",
		"JSON_FEED":     "true", // opt-in; the goldens cover it
	}
	postsDir  = filepath.Join("..", "..", "testdata", "posts")
	goldenDir = filepath.Join("testdata", "site")
)

func init() {
	// Another test file of this package's binary may define -update too;
	// then both share it.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata")
	}
}

func updating() bool { return flag.Lookup("update").Value.String() == "true" }

// source is one file of the test posts, under the key it is published at.
type source struct {
	key  string
	data []byte
}

// loadSources reads every file of testdata/posts as "posts/<relative path>",
// sorted by key.
func loadSources(t *testing.T) []source {
	t.Helper()
	var srcs []source
	err := filepath.WalkDir(postsDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(postsDir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		srcs = append(srcs, source{key: "posts/" + filepath.ToSlash(rel), data: data})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) < 14 {
		t.Fatalf("found %d files in %s, want at least 14", len(srcs), postsDir)
	}
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].key < srcs[j].key })
	return srcs
}

// testSite is a source and a site bucket with an engine between them.
type testSite struct {
	t        *testing.T
	src, dst *memblob.Bucket
	eng      *publish.Engine
}

// newTestSite returns a site with goldenSettings, changed by settings
// given as "NAME=value".
func newTestSite(t *testing.T, settings ...string) *testSite {
	t.Helper()
	env := maps.Clone(goldenSettings)
	for _, kv := range settings {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	cfg, err := site.Load(func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := site.NewRenderer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return goldenNow }
	s := &testSite{t: t, src: memblob.New(memblob.WithClock(clock)), dst: memblob.New(memblob.WithClock(clock))}
	s.eng = publish.New(s.src, s.dst, r, publish.Options{Clock: clock})
	return s
}

func (s *testSite) put(key string, data []byte) {
	s.t.Helper()
	if _, err := s.src.Write(context.Background(), key, data, nil); err != nil {
		s.t.Fatal(err)
	}
}

// apply publishes keys in one batch and fails the test on any error or
// rejection: every test post is valid.
func (s *testSite) apply(keys ...string) publish.Result {
	s.t.Helper()
	cs := make([]publish.Change, len(keys))
	for i, k := range keys {
		cs[i] = publish.Change{Key: k}
	}
	res := s.eng.Apply(context.Background(), cs)
	for _, o := range res.Outcomes {
		if o.Err != nil {
			s.t.Fatalf("%s: %v", o.Key, o.Err)
		}
		if o.Status == "rejected" {
			s.t.Fatalf("%s rejected:\n%s", o.Key, strings.Join(o.Problems, "\n"))
		}
	}
	return res
}

// siteObject is one object of the site bucket, as a reader's browser or
// the CDN gets it.
type siteObject struct {
	body                      []byte
	contentType, cacheControl string
}

func (s *testSite) snapshot() map[string]siteObject {
	s.t.Helper()
	ctx := context.Background()
	objs, err := blob.ListAll(ctx, s.dst, "")
	if err != nil {
		s.t.Fatal(err)
	}
	m := make(map[string]siteObject, len(objs))
	for _, o := range objs {
		data, a, err := s.dst.Read(ctx, o.Key)
		if err != nil {
			s.t.Fatal(err)
		}
		m[o.Key] = siteObject{body: data, contentType: a.ContentType, cacheControl: a.CacheControl}
	}
	return m
}

// publishAll builds a site from srcs, uploading everything first and
// then applying the keys in the given batches.
func publishAll(t *testing.T, srcs []source, batches [][]string) *testSite {
	t.Helper()
	s := newTestSite(t)
	for _, src := range srcs {
		s.put(src.key, src.data)
	}
	for _, b := range batches {
		s.apply(b...)
	}
	return s
}

func keysOfSources(srcs []source) []string {
	keys := make([]string, len(srcs))
	for i, s := range srcs {
		keys[i] = s.key
	}
	return keys
}

// goldenSite is the site built from the test posts in one sorted batch,
// built once per test binary run.
var goldenSite struct {
	built  bool
	files  map[string]siteObject
	status map[string]string // source key → outcome status
}

func buildGoldenSite(t *testing.T) map[string]siteObject {
	t.Helper()
	if !goldenSite.built {
		srcs := loadSources(t)
		s := newTestSite(t)
		for _, src := range srcs {
			s.put(src.key, src.data)
		}
		res := s.apply(keysOfSources(srcs)...)
		goldenSite.status = map[string]string{}
		for _, o := range res.Outcomes {
			goldenSite.status[o.Key] = o.Status
		}
		goldenSite.files, goldenSite.built = s.snapshot(), true
	}
	return goldenSite.files
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// isBinary reports whether an object is kept in its golden file as a hash.
func isBinary(o siteObject) bool {
	text := strings.HasPrefix(o.contentType, "text/") || strings.Contains(o.contentType, "xml") || strings.Contains(o.contentType, "json")
	return !text || !utf8.Valid(o.body)
}

// goldenText is what the golden file of an object holds: the body, or for
// a binary its size and SHA-256.
func goldenText(o siteObject) []byte {
	if isBinary(o) {
		sum := sha256.Sum256(o.body)
		return fmt.Appendf(nil, "binary %d bytes sha256 %s\n", len(o.body), hex.EncodeToString(sum[:]))
	}
	return o.body
}

func indexText(files map[string]siteObject) []byte {
	var b bytes.Buffer
	for _, k := range sortedKeys(files) {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", k, files[k].contentType, files[k].cacheControl)
	}
	return b.Bytes()
}

const indexGolden = "_index.golden"

// TestSiteGolden publishes the test posts and compares every site object
// with testdata/site/<key>.golden, and the list of keys with their
// headers with testdata/site/_index.golden.
func TestSiteGolden(t *testing.T) {
	files := buildGoldenSite(t)
	want := map[string][]byte{indexGolden: indexText(files)}
	for k, o := range files {
		want[k+".golden"] = goldenText(o)
	}

	if updating() {
		if err := os.RemoveAll(goldenDir); err != nil {
			t.Fatal(err)
		}
		for name, data := range want {
			p := filepath.Join(goldenDir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}

	have := map[string]bool{}
	err := filepath.WalkDir(goldenDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(goldenDir, p)
		have[filepath.ToSlash(rel)] = true
		return err
	})
	if err != nil {
		t.Fatalf("%v (run go test -update to create the golden files)", err)
	}
	for _, name := range sortedKeys(want) {
		t.Run(name, func(t *testing.T) {
			checkGolden(t, filepath.Join(goldenDir, filepath.FromSlash(name)), want[name])
		})
	}
	for _, name := range sortedKeys(have) {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: the site has no such object any more (go test -update removes it)", filepath.Join(goldenDir, name))
		}
	}
}

func checkGolden(t *testing.T, file string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (- want, + got; go test -update rewrites it):\n%s", file, textdiff.First(string(want), string(got)))
	}
}

// TestSiteDeterministic builds the site again with the same files applied
// in other orders and batches: the output must be the same bytes with the
// same headers.
func TestSiteDeterministic(t *testing.T) {
	want := buildGoldenSite(t)
	srcs := loadSources(t)
	keys := keysOfSources(srcs)

	oneByOne := func(keys []string) [][]string {
		var bs [][]string
		for _, k := range keys {
			bs = append(bs, []string{k})
		}
		return bs
	}
	reversed := slices.Clone(keys)
	slices.Reverse(reversed)

	shuffled := slices.Clone(keys)
	rng := rand.New(rand.NewPCG(2026, 11))
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	var threes [][]string
	for i := 0; i < len(shuffled); i += 3 {
		threes = append(threes, shuffled[i:min(i+3, len(shuffled))])
	}

	for _, tc := range []struct {
		name    string
		batches [][]string
		// knownBug names a defect that makes this order differ; the case
		// is skipped while the defect is there and fails once it is gone,
		// so the marker is removed with the fix.
		knownBug string
	}{
		{name: "reverse order one by one", batches: oneByOne(reversed)},
		{name: "shuffled in batches of three", batches: threes},
		// A bundle's image sorts before its index.md, so it is published
		// before the page it belongs to exists, as when a folder is
		// uploaded and S3 announces its files in name order.
		{name: "sorted order one by one", batches: oneByOne(keys)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := publishAll(t, srcs, tc.batches).snapshot()
			problems := compareSites(got, want)
			switch {
			case tc.knownBug != "" && len(problems) > 0:
				t.Skipf("known bug: %s:\n%s", tc.knownBug, strings.Join(problems, "\n"))
			case tc.knownBug != "":
				t.Errorf("the output no longer differs: remove the knownBug marker (%s)", tc.knownBug)
			}
			for _, p := range problems {
				t.Error(p)
			}
		})
	}
}

// compareSites lists every object that is missing, extra or different
// in got.
func compareSites(got, want map[string]siteObject) []string {
	var problems []string
	for _, k := range sortedKeys(want) {
		g, ok := got[k]
		switch {
		case !ok:
			problems = append(problems, k+" is missing")
		case g.contentType != want[k].contentType || g.cacheControl != want[k].cacheControl:
			problems = append(problems, fmt.Sprintf("%s: headers %q, %q; want %q, %q", k, g.contentType, g.cacheControl, want[k].contentType, want[k].cacheControl))
		case !bytes.Equal(g.body, want[k].body):
			problems = append(problems, fmt.Sprintf("%s differs (- want, + got):\n%s", k, textdiff.First(string(goldenText(want[k])), string(goldenText(g)))))
		}
	}
	for _, k := range sortedKeys(got) {
		if _, ok := want[k]; !ok {
			problems = append(problems, k+" is extra")
		}
	}
	return problems
}

// ---- checks of the produced site ---------------------------------------

const baseURL = "https://blog.example/"

// siteKey returns the object key an absolute URL of the site is served
// from, or "" when the URL is elsewhere.
func siteKey(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Errorf("url %q: %v", raw, err)
		return ""
	}
	if u.Scheme != "https" || u.Host != "blog.example" {
		return ""
	}
	return permalink.File(u.Path)
}

// feedKeys are the Atom feeds of the site: the site's and each tag's.
func feedKeys(files map[string]siteObject) []string {
	var keys []string
	for _, k := range sortedKeys(files) {
		if k == "index.xml" || (strings.HasPrefix(k, "tags/") && strings.Count(k, "/") == 2 && strings.HasSuffix(k, "/index.xml")) {
			keys = append(keys, k)
		}
	}
	return keys
}

var tagURIPattern = regexp.MustCompile(`^tag:[a-z0-9.-]+,\d{4}-\d{2}-\d{2}:[^\s]+$`)

// TestSiteFeeds reads every Atom feed with gofeed and checks what readers
// rely on.
func TestSiteFeeds(t *testing.T) {
	files := buildGoldenSite(t)
	feeds := feedKeys(files)
	if len(feeds) < 10 {
		t.Fatalf("found feeds %v; want the site's and one per tag", feeds)
	}
	for _, key := range feeds {
		t.Run(key, func(t *testing.T) {
			body := files[key].body
			f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			af, err := (&atom.Parser{}).Parse(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("gofeed atom: %v", err)
			}
			if f.FeedType != "atom" {
				t.Errorf("feed type %q, want atom", f.FeedType)
			}
			if got := siteKey(t, f.FeedLink); got != key {
				t.Errorf("rel=self link %q is the URL of %q, want the feed's own URL", f.FeedLink, got)
			}
			if len(f.Items) == 0 {
				t.Fatal("no entries")
			}
			var newest time.Time
			for i, it := range f.Items {
				if it.PublishedParsed == nil || it.UpdatedParsed == nil {
					t.Fatalf("entry %d (%s) lacks published or updated", i, it.GUID)
				}
				if i > 0 && it.PublishedParsed.After(*f.Items[i-1].PublishedParsed) {
					t.Errorf("entry %d (%s, %s) is newer than the one before it (%s)", i, it.Title, it.Published, f.Items[i-1].Published)
				}
				if it.UpdatedParsed.After(newest) {
					newest = *it.UpdatedParsed
				}
				if !tagURIPattern.MatchString(it.GUID) {
					t.Errorf("entry id %q is not a tag: URI", it.GUID)
				}
				if k := siteKey(t, it.Link); files[k].contentType != site.TypeHTML {
					t.Errorf("entry %q links to %s, which is not a page of the site", it.Title, it.Link)
				}
				checkAbsoluteLinks(t, it.Title+" content", it.Content)
				checkAbsoluteLinks(t, it.Title+" summary", it.Description)
			}
			if f.UpdatedParsed == nil || !f.UpdatedParsed.Equal(newest) {
				t.Errorf("feed updated %s, want the newest entry's updated %s", f.Updated, newest.Format(time.RFC3339))
			}
			for _, e := range af.Entries {
				for _, c := range e.Categories {
					if want := permalink.Slugify(c.Label); c.Term != want {
						t.Errorf("entry %q: category term %q for label %q, want the slug %q", e.Title, c.Term, c.Label, want)
					}
					if _, ok := files["tags/"+c.Term+"/index.html"]; !ok {
						t.Errorf("entry %q: category %q has no tag page", e.Title, c.Term)
					}
				}
			}
			if tag, ok := strings.CutPrefix(key, "tags/"); ok {
				slug := strings.TrimSuffix(tag, "/index.xml")
				for _, e := range af.Entries {
					if !slices.ContainsFunc(e.Categories, func(c *atom.Category) bool { return c.Term == slug }) {
						t.Errorf("entry %q in the feed of %s lacks that category", e.Title, slug)
					}
				}
			}
		})
	}
}

// checkAbsoluteLinks reports every URL in an HTML fragment that a feed
// reader could not follow: anything without a scheme and host.
func checkAbsoluteLinks(t *testing.T, what, fragment string) {
	t.Helper()
	if fragment == "" {
		return
	}
	nodes, err := html.ParseFragment(strings.NewReader(fragment), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: xatom.Div})
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for _, a := range n.Attr {
			var urls []string
			switch a.Key {
			case "href", "src", "poster", "cite":
				urls = []string{a.Val}
			case "srcset":
				for _, c := range strings.Split(a.Val, ",") {
					if f := strings.Fields(c); len(f) > 0 {
						urls = append(urls, f[0])
					}
				}
			}
			for _, raw := range urls {
				u, err := url.Parse(strings.TrimSpace(raw))
				if err != nil || !u.IsAbs() || (u.Host == "" && u.Scheme != "mailto" && u.Scheme != "data") {
					t.Errorf("%s: <%s %s=%q> is not an absolute URL", what, n.Data, a.Key, raw)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
}

// feedIDs maps each entry's page URL to its id, across every feed; an
// entry must have the same id in every feed it is in.
func feedIDs(t *testing.T, files map[string]siteObject) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, key := range feedKeys(files) {
		f, err := gofeed.NewParser().Parse(bytes.NewReader(files[key].body))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		for _, it := range f.Items {
			if prev, ok := ids[it.Link]; ok && prev != it.GUID {
				t.Errorf("%s: entry %s has id %q here and %q in another feed", key, it.Link, it.GUID, prev)
			}
			ids[it.Link] = it.GUID
		}
	}
	return ids
}

// TestFeedIDsSurviveEdits edits a post's body and tags and republishes
// it: its entry id must not change, or readers would show it as new.
func TestFeedIDsSurviveEdits(t *testing.T) {
	srcs := loadSources(t)
	s := publishAll(t, srcs, [][]string{keysOfSources(srcs)})
	before := feedIDs(t, s.snapshot())

	const key = "posts/cloud-native-lowlands-2023.md"
	i := slices.IndexFunc(srcs, func(s source) bool { return s.key == key })
	if i < 0 {
		t.Fatalf("no %s in the test posts", key)
	}
	edited := bytes.Replace(srcs[i].data, []byte(`"Conferences", `), []byte(`"Events", `), 1)
	edited = bytes.Replace(edited, []byte(`lastmod = 2023-10-20T09:00:00+02:00`), []byte(`lastmod = 2023-11-02T09:00:00+01:00`), 1)
	edited = append(edited, "\nUpdate: the recordings are online now.\n"...)
	if bytes.Equal(edited, srcs[i].data) || !bytes.Contains(edited, []byte(`"Events"`)) {
		t.Fatal("the edit did not apply; has the post changed?")
	}
	s.put(key, edited)
	s.apply(key)
	after := s.snapshot()

	if _, ok := after["tags/events/index.xml"]; !ok {
		t.Fatal("the new tag has no feed")
	}
	if _, ok := after["tags/conferences/index.xml"]; ok {
		t.Error("the removed tag still has a feed")
	}
	if !bytes.Contains(after["index.xml"].body, []byte("recordings are online now")) {
		t.Error("the site feed does not have the edited body")
	}
	for link, id := range feedIDs(t, after) {
		if old, ok := before[link]; ok && old != id {
			t.Errorf("entry %s: id changed from %q to %q after an edit", link, old, id)
		}
	}
}

// ---- RFC 4287 ------------------------------------------------------------

type xmlAtomFeed struct {
	XMLName xml.Name        `xml:"feed"`
	IDs     []string        `xml:"id"`
	Titles  []string        `xml:"title"`
	Updated []string        `xml:"updated"`
	Authors []xmlAtomPerson `xml:"author"`
	Links   []xmlAtomLink   `xml:"link"`
	Entries []xmlAtomEntry  `xml:"entry"`
}

type xmlAtomEntry struct {
	IDs        []string        `xml:"id"`
	Titles     []string        `xml:"title"`
	Updated    []string        `xml:"updated"`
	Published  []string        `xml:"published"`
	Authors    []xmlAtomPerson `xml:"author"`
	Links      []xmlAtomLink   `xml:"link"`
	Summaries  []xmlAtomText   `xml:"summary"`
	Contents   []xmlAtomText   `xml:"content"`
	Categories []struct {
		Term *string `xml:"term,attr"`
	} `xml:"category"`
}

type xmlAtomPerson struct {
	Names []string `xml:"name"`
	URIs  []string `xml:"uri"`
}

type xmlAtomLink struct {
	Href     *string `xml:"href,attr"`
	Rel      string  `xml:"rel,attr"`
	Type     string  `xml:"type,attr"`
	HrefLang string  `xml:"hreflang,attr"`
}

type xmlAtomText struct {
	Type string `xml:"type,attr"`
	Src  string `xml:"src,attr"`
	Body string `xml:",innerxml"`
}

// atomViolations lists the RFC 4287 MUSTs (and the self link its section
// 5 SHOULD asks of a feed with a home) that doc breaks.
func atomViolations(doc []byte) []string {
	var f xmlAtomFeed
	if err := xml.Unmarshal(doc, &f); err != nil {
		return []string{"not well-formed: " + err.Error()}
	}
	var v []string
	bad := func(format string, args ...any) { v = append(v, fmt.Sprintf(format, args...)) }
	if f.XMLName.Space != "http://www.w3.org/2005/Atom" {
		bad("root element is in namespace %q, not Atom's (4.1.1)", f.XMLName.Space)
	}
	one := func(where, name string, vals []string) {
		if len(vals) != 1 || strings.TrimSpace(vals[0]) == "" {
			bad("%s has %d non-empty atom:%s, want exactly one", where, len(vals), name)
		}
	}
	iri := func(where, s string) {
		if u, err := url.Parse(s); err != nil || !u.IsAbs() {
			bad("%s: id %q is not an absolute IRI (4.2.6)", where, s)
		}
	}
	date := func(where string, vals []string) {
		for _, s := range vals {
			if _, err := time.Parse(time.RFC3339, s); err != nil || strings.ContainsAny(s, "tz") {
				bad("%s: %q is not an RFC 3339 date-time with upper-case T and Z (3.3)", where, s)
			}
		}
	}
	persons := func(where string, ps []xmlAtomPerson) {
		for _, p := range ps {
			one(where+" author", "name", p.Names)
			if len(p.URIs) > 1 {
				bad("%s author has %d atom:uri, at most one", where, len(p.URIs))
			}
		}
	}
	links := func(where string, ls []xmlAtomLink) {
		alt := map[string]bool{}
		for _, l := range ls {
			if l.Href == nil {
				bad("%s: atom:link without href (4.2.7.1)", where)
			}
			if l.Rel == "" || l.Rel == "alternate" {
				k := l.Type + "\x00" + l.HrefLang
				if alt[k] {
					bad("%s: two alternate links with type %q and hreflang %q (4.1.1, 4.1.2)", where, l.Type, l.HrefLang)
				}
				alt[k] = true
			}
		}
	}
	one("feed", "id", f.IDs)
	one("feed", "title", f.Titles)
	one("feed", "updated", f.Updated)
	for _, id := range f.IDs {
		iri("feed", id)
	}
	date("feed updated", f.Updated)
	persons("feed", f.Authors)
	links("feed", f.Links)
	if !slices.ContainsFunc(f.Links, func(l xmlAtomLink) bool { return l.Rel == "self" }) {
		bad("feed has no rel=self link (4.2.7.2 SHOULD)")
	}
	ids := map[string]bool{}
	for i, e := range f.Entries {
		where := fmt.Sprintf("entry %d", i)
		one(where, "id", e.IDs)
		one(where, "title", e.Titles)
		one(where, "updated", e.Updated)
		for _, id := range e.IDs {
			iri(where, id)
			if ids[id] {
				bad("%s repeats the id %q of an earlier entry", where, id)
			}
			ids[id] = true
		}
		date(where+" updated", e.Updated)
		date(where+" published", e.Published)
		if len(e.Published) > 1 {
			bad("%s has %d atom:published, at most one", where, len(e.Published))
		}
		if len(f.Authors) == 0 && len(e.Authors) == 0 {
			bad("%s has no author and neither has the feed (4.1.1, 4.1.2)", where)
		}
		persons(where, e.Authors)
		links(where, e.Links)
		if len(e.Contents) > 1 || len(e.Summaries) > 1 {
			bad("%s has %d contents and %d summaries, at most one each", where, len(e.Contents), len(e.Summaries))
		}
		hasAlt := slices.ContainsFunc(e.Links, func(l xmlAtomLink) bool { return l.Rel == "" || l.Rel == "alternate" })
		if len(e.Contents) == 0 && !hasAlt {
			bad("%s has neither content nor an alternate link (4.1.2)", where)
		}
		for _, c := range e.Contents {
			if c.Src != "" && len(e.Summaries) == 0 {
				bad("%s has out-of-line content and no summary (4.1.2)", where)
			}
			switch c.Type {
			case "", "text", "html", "xhtml":
			default:
				if !strings.Contains(c.Type, "/") {
					bad("%s content type %q is not text, html, xhtml or a MIME type (4.1.3.1)", where, c.Type)
				}
			}
		}
		for _, c := range e.Categories {
			if c.Term == nil {
				bad("%s has a category without term (4.2.2.1)", where)
			}
		}
	}
	return v
}

func TestAtomViolations(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{
			name: "conforming",
			doc: `<feed xmlns="http://www.w3.org/2005/Atom"><id>https://b.example/</id><title>T</title>
				<updated>2020-01-01T00:00:00Z</updated><author><name>A</name></author>
				<link rel="self" href="https://b.example/index.xml"/>
				<entry><id>tag:b.example,2020-01-01:a</id><title>E</title><updated>2020-01-01T00:00:00Z</updated>
				<link href="https://b.example/a/"/></entry></feed>`,
		},
		{
			name: "entry without id or author, feed without updated",
			doc: `<feed xmlns="http://www.w3.org/2005/Atom"><id>https://b.example/</id><title>T</title>
				<link rel="self" href="https://b.example/index.xml"/>
				<entry><title>E</title><updated>2020-01-01T00:00:00Z</updated><link href="https://b.example/a/"/></entry></feed>`,
			want: []string{
				"feed has 0 non-empty atom:updated, want exactly one",
				"entry 0 has 0 non-empty atom:id, want exactly one",
				"entry 0 has no author and neither has the feed (4.1.1, 4.1.2)",
			},
		},
		{
			name: "not atom",
			doc:  `<feed><id>x</id></feed>`,
			want: []string{`root element is in namespace "", not Atom's (4.1.1)`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := atomViolations([]byte(tc.doc))
			if len(tc.want) > 0 {
				got = slices.DeleteFunc(got, func(s string) bool { return !slices.Contains(tc.want, s) })
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("atomViolations =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestSiteFeedsConformToRFC4287(t *testing.T) {
	files := buildGoldenSite(t)
	for _, key := range feedKeys(files) {
		for _, v := range atomViolations(files[key].body) {
			t.Errorf("%s: %s", key, v)
		}
	}
}

// ---- visibility, tags, aliases, bundles -------------------------------------

// hidden are the test posts that must not be on the site at goldenNow,
// with the status the engine gives them and strings that would only be
// in the output if they leaked: their title, page path and own tags.
type hiddenPost struct {
	key, status, title string
	tags               []string
}

var hidden = []hiddenPost{
	{"posts/draft-ebpf-notes.md", "draft", "Half-finished notes on eBPF profiling", []string{"ebpf"}},
	{"posts/kubecon-2031-preview.md", "scheduled", "Looking ahead to the 2031 cloud native season", []string{"zukunftsmusik"}},
	{"posts/meetup-announcement-2022.md", "expired", "Meetup on 29 September: observability on a budget", []string{"meetups", "announcements"}},
}

func TestSiteHidesUnpublishedPosts(t *testing.T) {
	files := buildGoldenSite(t)
	for _, h := range hidden {
		t.Run(h.status, func(t *testing.T) {
			if got := goldenSite.status[h.key]; got != h.status {
				t.Errorf("%s has status %q, want %q", h.key, got, h.status)
			}
			slug := permalink.Slugify(h.title)
			leaks := []string{h.title, html.EscapeString(h.title), slug, h.key, url.PathEscape(h.key)}
			for _, tag := range h.tags {
				leaks = append(leaks, "/tags/"+tag+"/", `term="`+tag+`"`)
			}
			for _, k := range sortedKeys(files) {
				if strings.Contains(k, slug) || slices.ContainsFunc(h.tags, func(tag string) bool { return strings.HasPrefix(k, "tags/"+tag+"/") }) {
					t.Errorf("site has %s", k)
				}
				for _, l := range leaks {
					if bytes.Contains(files[k].body, []byte(l)) {
						t.Errorf("%s contains %q", k, l)
					}
				}
			}
		})
	}
	for key, status := range goldenSite.status {
		isHidden := slices.ContainsFunc(hidden, func(h hiddenPost) bool { return h.key == key })
		if !isHidden && status != "published" && status != "asset" {
			t.Errorf("%s has status %q, want published", key, status)
		}
	}
}

// tagSlugs are the tags with a page, from the keys tags/<slug>/index.html.
func tagSlugs(files map[string]siteObject) []string {
	var slugs []string
	for _, k := range sortedKeys(files) {
		if rest, ok := strings.CutPrefix(k, "tags/"); ok && strings.Count(rest, "/") == 1 && strings.HasSuffix(rest, "/index.html") {
			slugs = append(slugs, strings.TrimSuffix(rest, "/index.html"))
		}
	}
	return slugs
}

func TestSiteTags(t *testing.T) {
	files := buildGoldenSite(t)
	slugs := tagSlugs(files)
	for _, tc := range []struct {
		name, slug, title string
		posts             int
	}{
		// "DevOps" and "devops" are one tag, named as the newest post
		// spells it.
		{"case variants are one tag", "devops", "Field Notes – DevOps", 6},
		{"spaces become hyphens", "infrastructure-as-code", "Field Notes – infrastructure as code", 1},
		{"German", "ärger-mit-alerts", "Field Notes – Ärger mit Alerts", 1},
		{"Japanese", "カンファレンス", "Field Notes – カンファレンス", 1},
		{"case variants of a word", "observability", "Field Notes – Observability", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var same []string
			for _, s := range slugs {
				if strings.EqualFold(s, tc.slug) || permalink.Slugify(s) == tc.slug {
					same = append(same, s)
				}
			}
			if !slices.Equal(same, []string{tc.slug}) {
				t.Fatalf("tag pages %v, want exactly /tags/%s/", same, tc.slug)
			}
			f, err := gofeed.NewParser().Parse(bytes.NewReader(files["tags/"+tc.slug+"/index.xml"].body))
			if err != nil {
				t.Fatal(err)
			}
			if f.Title != tc.title || len(f.Items) != tc.posts {
				t.Errorf("feed %q with %d entries, want %q with %d", f.Title, len(f.Items), tc.title, tc.posts)
			}
			n := 0
			for _, a := range elements(parseHTML(t, "tags/index.html", files["tags/index.html"].body), "a") {
				if u, err := url.Parse(attr(a, "href")); err == nil && u.Path == "/tags/"+tc.slug+"/" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("the tags index links /tags/%s/ %d times, want once", tc.slug, n)
			}
		})
	}
}

// meta returns the content of the first <meta> with the attribute
// key=val, and whether there is one.
func meta(doc *html.Node, key, val string) (string, bool) {
	for _, n := range elements(doc, "meta") {
		if attr(n, key) == val {
			return attr(n, "content"), true
		}
	}
	return "", false
}

func elements(doc *html.Node, name string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == name {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func parseHTML(t *testing.T, key string, body []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return doc
}

func TestSiteAliases(t *testing.T) {
	files := buildGoldenSite(t)
	const target = baseURL + "2020/02/11/what-a-platform-team-owes-its-users/"
	if _, ok := files[siteKey(t, target)]; !ok {
		t.Fatalf("no page at %s", target)
	}
	for _, key := range []string{"blog/platform-team/index.html", "2020/02/platform-teams.html"} {
		t.Run(key, func(t *testing.T) {
			o, ok := files[key]
			if !ok {
				t.Fatalf("no redirect page at %s", key)
			}
			doc := parseHTML(t, key, o.body)
			refresh, _ := meta(doc, "http-equiv", "refresh")
			if want := "0; url=" + target; refresh != want {
				t.Errorf("refresh %q, want %q", refresh, want)
			}
			var canonical []string
			for _, l := range elements(doc, "link") {
				if attr(l, "rel") == "canonical" {
					canonical = append(canonical, attr(l, "href"))
				}
			}
			if !slices.Equal(canonical, []string{target}) {
				t.Errorf("canonical links %v, want %s", canonical, target)
			}
			if robots, _ := meta(doc, "name", "robots"); robots != "noindex" {
				t.Errorf("robots %q, want noindex", robots)
			}
		})
	}
}

func TestSiteBundleImage(t *testing.T) {
	files := buildGoldenSite(t)
	const page = "2020/05/04/drawing-the-deployment-pipeline/index.html"
	const image = "2020/05/04/drawing-the-deployment-pipeline/diagram.png"
	want, err := os.ReadFile(filepath.Join(postsDir, "bundle-example", "diagram.png"))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := files[image]
	if !ok {
		t.Fatalf("no %s beside the page", image)
	}
	if !bytes.Equal(got.body, want) || got.contentType != "image/png" {
		t.Errorf("%s: %d bytes of %s, want the %d bytes of the source image as image/png", image, len(got.body), got.contentType, len(want))
	}
	doc := parseHTML(t, page, files[page].body)
	var srcs []string
	for _, img := range elements(doc, "img") {
		srcs = append(srcs, attr(img, "src"))
	}
	if !slices.Contains(srcs, baseURL+image) {
		t.Errorf("the page's images are %v, want %s", srcs, baseURL+image)
	}
	for k := range files {
		if strings.HasPrefix(k, "posts/") {
			t.Errorf("source file published at its source key %s", k)
		}
	}
}

// TestSitePagesHaveHead checks every HTML page for what browsers, search
// engines and feed readers look for in its head.
func TestSitePagesHaveHead(t *testing.T) {
	files := buildGoldenSite(t)
	for _, key := range sortedKeys(files) {
		if files[key].contentType != site.TypeHTML {
			continue
		}
		t.Run(key, func(t *testing.T) {
			doc := parseHTML(t, key, files[key].body)
			if hs := elements(doc, "html"); len(hs) != 1 || attr(hs[0], "lang") == "" {
				t.Error("no <html lang>")
			}
			titles := elements(doc, "title")
			if len(titles) != 1 || titles[0].FirstChild == nil || strings.TrimSpace(titles[0].FirstChild.Data) == "" {
				t.Errorf("%d titles, want one that is not empty", len(titles))
			}
			if d, ok := meta(doc, "name", "description"); !ok || strings.TrimSpace(d) == "" {
				t.Error("no meta description")
			}
			var canonical, atomFeeds []string
			for _, l := range elements(doc, "link") {
				switch {
				case attr(l, "rel") == "canonical":
					canonical = append(canonical, attr(l, "href"))
				case attr(l, "rel") == "alternate" && attr(l, "type") == "application/atom+xml":
					atomFeeds = append(atomFeeds, attr(l, "href"))
				}
			}
			if len(canonical) != 1 || !strings.HasPrefix(canonical[0], baseURL) {
				t.Errorf("canonical links %v, want one absolute URL of the site", canonical)
			}
			if !slices.Contains(atomFeeds, baseURL+"index.xml") {
				t.Errorf("Atom alternates %v lack the site feed", atomFeeds)
			}
			if tag, ok := strings.CutPrefix(key, "tags/"); ok && key != "tags/index.html" {
				slug, _, _ := strings.Cut(tag, "/")
				want := (&url.URL{Scheme: "https", Host: "blog.example", Path: "/tags/" + slug + "/index.xml"}).String()
				if !slices.Contains(atomFeeds, want) {
					t.Errorf("Atom alternates %v lack the tag's feed %s", atomFeeds, want)
				}
			}
			for _, f := range atomFeeds {
				if k := siteKey(t, f); files[k].contentType != site.TypeAtom {
					t.Errorf("Atom alternate %s is not a feed of the site", f)
				}
			}
		})
	}
}

// TestSitemaps checks that the sitemap index lists sitemaps that exist
// and that those list pages that exist, every post page among them.
func TestSitemaps(t *testing.T) {
	files := buildGoldenSite(t)
	type loc struct {
		Loc string `xml:"loc"`
	}
	var index struct {
		XMLName  xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 sitemapindex"`
		Sitemaps []loc    `xml:"sitemap"`
	}
	if err := xml.Unmarshal(files["sitemap.xml"].body, &index); err != nil {
		t.Fatalf("sitemap.xml is not a sitemap index: %v", err)
	}
	listed := map[string]bool{}
	for _, sm := range index.Sitemaps {
		key := siteKey(t, sm.Loc)
		o, ok := files[key]
		if !ok {
			t.Errorf("sitemap.xml lists %s, which does not exist", sm.Loc)
			continue
		}
		var set struct {
			XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
			URLs    []loc    `xml:"url"`
		}
		if err := xml.Unmarshal(o.body, &set); err != nil {
			t.Errorf("%s is not a sitemap: %v", key, err)
			continue
		}
		for _, u := range set.URLs {
			k := siteKey(t, u.Loc)
			if files[k].contentType != site.TypeHTML {
				t.Errorf("%s lists %s, which is not a page of the site", key, u.Loc)
			}
			listed[k] = true
		}
	}
	if len(index.Sitemaps) < 2 {
		t.Errorf("the sitemap index lists %d sitemaps, want pages.xml and the months", len(index.Sitemaps))
	}
	// Every page meant for search engines is in a sitemap; month archives
	// are reached through the listings instead.
	for _, k := range sortedKeys(files) {
		if files[k].contentType != site.TypeHTML || strings.Contains(k, "archive/") || listed[k] {
			continue
		}
		if robots, _ := meta(parseHTML(t, k, files[k].body), "name", "robots"); robots != "noindex" {
			t.Errorf("%s is in no sitemap", k)
		}
	}
}

// TestSiteEscapesScript publishes a post with markup in every field an
// author controls and checks that no output carries a <script> element.
func TestSiteEscapesScript(t *testing.T) {
	s := newTestSite(t)
	s.put("posts/hostile.md", []byte(`+++
title = "<script>alert('title')</script> Launch notes"
description = "<script>alert('description')</script>"
summary = "<script>alert('summary')</script> and **bold**"
date = 2024-01-01T10:00:00Z
tags = ["<script>tag</script>", "Safe"]
[author]
name = "<script>alert('author')</script>"
+++

Body text with <script>alert('inline')</script> inside.

<script>alert('block')</script>

[link](javascript:alert('link'))
`))
	s.apply("posts/hostile.md")
	files := s.snapshot()
	if _, ok := files["tags/script-tag-script/index.html"]; !ok {
		t.Fatalf("the post was not published; site has %v", sortedKeys(files))
	}
	// The fields are on the site, as text.
	page := files["2024/01/01/script-alert-title-script-launch-notes/index.html"].body
	for _, want := range []string{
		"<title>&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; Launch notes – Field Notes</title>",
		`<meta name="description" content="&lt;script&gt;alert(&#39;description&#39;)&lt;/script&gt;">`,
		`<span class="author">&lt;script&gt;alert(&#39;author&#39;)&lt;/script&gt;</span>`,
		`rel="tag">&lt;script&gt;tag&lt;/script&gt;</a>`,
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the post page lacks %s", want)
		}
	}
	for _, k := range sortedKeys(files) {
		body := files[k].body
		if files[k].contentType == site.TypeJSONFeed {
			// JSON Feed's title, summary and tags are plain text, which a
			// reader must escape; only content_html is markup.
			body = jsonHTMLFields(t, k, body)
		}
		lower := bytes.ToLower(body)
		for _, bad := range []string{"<script", "javascript:alert"} {
			if i := bytes.Index(lower, []byte(bad)); i >= 0 {
				t.Errorf("%s holds %q: …%s…", k, bad, body[max(0, i-60):min(len(body), i+60)])
			}
		}
	}
}

// jsonHTMLFields returns the content_html fields of a JSON Feed, joined.
func jsonHTMLFields(t *testing.T, key string, doc []byte) []byte {
	t.Helper()
	var f struct {
		Items []struct {
			ContentHTML string `json:"content_html"`
		} `json:"items"`
	}
	if err := json.Unmarshal(doc, &f); err != nil {
		t.Errorf("%s: %v", key, err)
	}
	var b bytes.Buffer
	for _, it := range f.Items {
		b.WriteString(it.ContentHTML)
	}
	return b.Bytes()
}

// TestFeedAfterRedatingAPost moves a post back in time on a site with
// more posts than a feed holds: the feed must then hold the newest posts,
// as a site built from scratch does.
func TestFeedAfterRedatingAPost(t *testing.T) {
	doc := func(title, date string) []byte {
		return fmt.Appendf(nil, "+++\ntitle = %q\ndate = %s\n+++\n\nAbout %s.\n", title, date, title)
	}
	s := newTestSite(t, "FEED_LIMIT=2", "PAGE_SIZE=2")
	s.put("posts/a.md", doc("Alpha", "2019-11-01T10:00:00Z"))
	s.put("posts/b.md", doc("Beta", "2019-11-02T10:00:00Z"))
	s.put("posts/c.md", doc("Gamma", "2019-11-03T10:00:00Z"))
	s.apply("posts/a.md", "posts/b.md", "posts/c.md")
	s.put("posts/b.md", doc("Beta", "2018-11-02T10:00:00Z"))
	s.apply("posts/b.md")

	clean := newTestSite(t, "FEED_LIMIT=2", "PAGE_SIZE=2")
	for _, k := range []string{"posts/a.md", "posts/b.md", "posts/c.md"} {
		data, _, err := s.src.Read(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		clean.put(k, data)
	}
	clean.apply("posts/a.md", "posts/b.md", "posts/c.md")

	got, want := s.snapshot(), clean.snapshot()
	var problems []string
	for _, k := range []string{"index.xml", "index.html"} {
		if !bytes.Equal(got[k].body, want[k].body) {
			problems = append(problems, fmt.Sprintf("%s differs from a clean build (- clean, + incremental):\n%s", k, textdiff.First(string(want[k].body), string(got[k].body))))
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
}
