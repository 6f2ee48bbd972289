package readers

import (
	"context"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/blob/memblob"
	"github.com/postmill/postmill/internal/edge"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/site"
)

var (
	// publishedAt is when the test site is built: the golden site's
	// moment, so the post dated 2031 stays scheduled.
	publishedAt = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

	// settings are the golden site's, with a description as most blogs
	// have one. SITE_BASE_URL is the test server's address.
	settings = map[string]string{
		"SITE_TITLE":       "Field Notes",
		"SITE_DESCRIPTION": "Notes on platforms, pipelines and the people who run them.",
		"SITE_AUTHOR":      "Ada Lindqvist",
		"TIME_ZONE":        "Europe/Amsterdam",
		"JSON_FEED":        "true", // opt-in; the feed-reader tests check it too
	}

	repoRoot    = filepath.Join("..", "..")
	postsDir    = filepath.Join(repoRoot, "testdata", "posts")
	nodeDir     = filepath.Join(repoRoot, "testdata", "readers")
	headersFile = filepath.Join(repoRoot, "infra", "cloudfront", "security-headers.json")
)

// clock is the engine's and the buckets' clock, moved on by hand so that
// a republish happens later than the publish before it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testSite is the test posts published by the engine into memory and
// served by the local CDN on 127.0.0.1, as make preview serves them.
type testSite struct {
	t        *testing.T
	URL      string // the base URL, with a trailing slash
	src, dst *memblob.Bucket
	eng      *publish.Engine
	clock    *clock
	paths    map[string]string // source key → page path, for published posts
}

// newTestSite publishes every file of testdata/posts in one batch and
// serves the result until the test ends. extra overrides settings.
func newTestSite(t *testing.T, extra map[string]string) *testSite {
	t.Helper()
	clk := &clock{now: publishedAt}
	s := &testSite{
		t:     t,
		src:   memblob.New(memblob.WithClock(clk.Now)),
		dst:   memblob.New(memblob.WithClock(clk.Now)),
		clock: clk,
		paths: map[string]string{},
	}
	headers, err := edge.LoadHeaders(headersFile)
	if err != nil {
		t.Fatal(err)
	}
	// The CDN reads the site bucket on every request, so it can be
	// listening before the first publish: the site's base URL is its
	// address.
	srv := httptest.NewServer(edge.New(s.dst, headers, edge.WithErrorHandler(func(r *http.Request, err error) {
		t.Errorf("edge: %s: %v", r.URL.Path, err)
	})))
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/"

	env := maps.Clone(settings)
	env["SITE_BASE_URL"] = s.URL
	maps.Copy(env, extra)
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
	s.eng = publish.New(s.src, s.dst, r, publish.Options{Clock: clk.Now})
	s.publish(s.putPosts()...)
	return s
}

// putPosts uploads every file of testdata/posts to the source bucket at
// "posts/" + its path, and returns the keys, sorted.
func (s *testSite) putPosts() []string {
	s.t.Helper()
	var keys []string
	err := filepath.WalkDir(postsDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
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
		key := "posts/" + filepath.ToSlash(rel)
		s.put(key, string(data))
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}

func (s *testSite) put(key, body string) {
	s.t.Helper()
	if _, err := s.src.Write(context.Background(), key, []byte(body), nil); err != nil {
		s.t.Fatal(err)
	}
}

// source returns the current text of a source object.
func (s *testSite) source(key string) string {
	s.t.Helper()
	data, _, err := s.src.Read(context.Background(), key)
	if err != nil {
		s.t.Fatal(err)
	}
	return string(data)
}

// publish applies keys in one batch; every test post is valid, so an
// error or a rejection fails the test.
func (s *testSite) publish(keys ...string) publish.Result {
	s.t.Helper()
	cs := make([]publish.Change, len(keys))
	for i, k := range keys {
		cs[i] = publish.Change{Key: k}
	}
	res := s.eng.Apply(context.Background(), cs)
	for _, o := range res.Outcomes {
		switch {
		case o.Err != nil:
			s.t.Fatalf("%s: %v", o.Key, o.Err)
		case o.Status == "rejected":
			s.t.Fatalf("%s rejected:\n%s", o.Key, strings.Join(o.Problems, "\n"))
		case o.Status == "published":
			s.paths[o.Key] = o.Path
		}
	}
	return res
}

// path is the page path of a published post.
func (s *testSite) path(key string) string {
	s.t.Helper()
	p, ok := s.paths[key]
	if !ok {
		s.t.Fatalf("%s is not published", key)
	}
	return p
}

// get requests a site path through the CDN, with headers given as
// name, value pairs, and returns the response with its body read.
func (s *testSite) get(path string, header ...string) (*http.Response, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(s.URL, "/")+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp, body
}

// needNode fails the test unless node and the npm packages of
// testdata/readers are installed. Under -short (make test-unit, which
// installs neither) it skips.
func needNode(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs node and the npm packages of testdata/readers; not under -short")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on the PATH: install Node.js 20 or later")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", ".package-lock.json")); err != nil {
		t.Fatalf("the npm packages of testdata/readers are not installed: run npm ci --prefix testdata/readers (make test does) (%v)", err)
	}
	return node
}

// runNode runs a script of testdata/readers and fails the test, with the
// script's output, if it exits with an error. The output is logged
// either way.
func runNode(t *testing.T, node string, timeout time.Duration, script string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Dir = nodeDir
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("node %s:\n%s", script, out)
	if ctx.Err() != nil {
		t.Fatalf("node %s did not finish within %s", script, timeout)
	}
	if err != nil {
		t.Fatalf("node %s: %v (its output is above)", script, err)
	}
}
