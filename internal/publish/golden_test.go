package publish_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/blob/memblob"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/site"
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

func newTestSite(t *testing.T) *testSite {
	t.Helper()
	cfg, err := site.Load(func(k string) (string, bool) {
		v, ok := goldenSettings[k]
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
	built bool
	files map[string]siteObject
}

func buildGoldenSite(t *testing.T) map[string]siteObject {
	t.Helper()
	if !goldenSite.built {
		srcs := loadSources(t)
		s := publishAll(t, srcs, [][]string{keysOfSources(srcs)})
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
	return !strings.HasPrefix(o.contentType, "text/") && !strings.Contains(o.contentType, "xml") &&
		!strings.Contains(o.contentType, "json") || !utf8.Valid(o.body)
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
		t.Errorf("%s differs (- want, + got; go test -update rewrites it):\n%s", file, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first place where want and got differ, as a
// unified-style hunk: a few lines of context, then the differing lines of
// each, up to a limit, then where they agree again.
func firstDiff(want, got string) string {
	const context, limit = 3, 12
	a, b := splitLines(want), splitLines(got)
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	// Trim the common tail, so the hunk holds only what differs.
	ea, eb := len(a), len(b)
	for ea > i && eb > i && a[ea-1] == b[eb-1] {
		ea, eb = ea-1, eb-1
	}
	var out strings.Builder
	fmt.Fprintf(&out, "@@ line %d @@\n", i+1)
	line := func(op byte, s string) {
		s = strings.TrimSuffix(s, "\n")
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		fmt.Fprintf(&out, "%c %s\n", op, s)
	}
	for k := max(0, i-context); k < i; k++ {
		line(' ', a[k])
	}
	for k := i; k < ea && k < i+limit; k++ {
		line('-', a[k])
	}
	if ea-i > limit {
		fmt.Fprintf(&out, "- … %d more lines\n", ea-i-limit)
	}
	for k := i; k < eb && k < i+limit; k++ {
		line('+', b[k])
	}
	if eb-i > limit {
		fmt.Fprintf(&out, "+ … %d more lines\n", eb-i-limit)
	}
	for k := ea; k < len(a) && k < ea+context; k++ {
		line(' ', a[k])
	}
	return out.String()
}

// splitLines splits s after each newline; a final newline ends the last
// line rather than starting an empty one.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func TestFirstDiff(t *testing.T) {
	for _, tc := range []struct {
		name, want, got, diff string
	}{
		{
			name: "one line changed",
			want: "a\nb\nc\nd\n", got: "a\nB\nc\nd\n",
			diff: "@@ line 2 @@\n  a\n- b\n+ B\n  c\n  d\n",
		},
		{
			name: "line added at the end",
			want: "a\n", got: "a\nb\n",
			diff: "@@ line 2 @@\n  a\n+ b\n",
		},
		{
			name: "no trailing newline",
			want: "x\ny", got: "x\nz",
			diff: "@@ line 2 @@\n  x\n- y\n+ z\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := firstDiff(tc.want, tc.got); got != tc.diff {
				t.Errorf("firstDiff =\n%s\nwant\n%s", got, tc.diff)
			}
		})
	}
}

// TestSiteDeterministic builds the site again with the same files applied
// in other orders and batches: the output must be the same bytes with the
// same headers.
func TestSiteDeterministic(t *testing.T) {
	want := buildGoldenSite(t)
	srcs := loadSources(t)
	keys := keysOfSources(srcs)

	reversed := slices.Clone(keys)
	slices.Reverse(reversed)
	var oneByOne [][]string
	for _, k := range reversed {
		oneByOne = append(oneByOne, []string{k})
	}

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
	}{
		{"reverse order one by one", oneByOne},
		{"shuffled in batches of three", threes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := publishAll(t, srcs, tc.batches).snapshot()
			compareSites(t, got, want)
		})
	}
}

// compareSites reports every object that is missing, extra or different
// in got.
func compareSites(t *testing.T, got, want map[string]siteObject) {
	t.Helper()
	for _, k := range sortedKeys(want) {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s is missing", k)
		case g.contentType != want[k].contentType || g.cacheControl != want[k].cacheControl:
			t.Errorf("%s: headers %q, %q; want %q, %q", k, g.contentType, g.cacheControl, want[k].contentType, want[k].cacheControl)
		case !bytes.Equal(g.body, want[k].body):
			t.Errorf("%s differs (- want, + got):\n%s", k, firstDiff(string(goldenText(want[k])), string(goldenText(g))))
		}
	}
	for _, k := range sortedKeys(got) {
		if _, ok := want[k]; !ok {
			t.Errorf("%s is extra", k)
		}
	}
}

// pathOf returns the site path of a site key: "a/b/index.html" → "/a/b/".
func pathOf(key string) string {
	if path.Base(key) == "index.html" {
		return "/" + strings.TrimSuffix(key, "index.html")
	}
	return "/" + key
}
