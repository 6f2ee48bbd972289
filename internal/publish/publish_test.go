package publish

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/blob/memblob"
	"github.com/postmill/postmill/internal/site"
)

var testNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	t        *testing.T
	src, dst *memblob.Bucket
	eng      *Engine
	settings map[string]string // given to newFixtureWith
}

func newFixture(t *testing.T) *fixture { return newFixtureWith(t, nil) }

// newFixtureWith overrides site settings; a tiny FEED_LIMIT and PAGE_SIZE
// make listings outgrow their heads with a handful of posts.
func newFixtureWith(t *testing.T, settings map[string]string) *fixture {
	t.Helper()
	env := map[string]string{"SITE_BASE_URL": "https://blog.example/", "SITE_TITLE": "Field Notes", "SITE_AUTHOR": "Ada", "JSON_FEED": "true"}
	for k, v := range settings {
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
	clock := func() time.Time { return testNow }
	f := &fixture{t: t, src: memblob.New(memblob.WithClock(clock)), dst: memblob.New(memblob.WithClock(clock)), settings: settings}
	f.eng = New(f.src, f.dst, r, Options{Clock: clock})
	return f
}

func (f *fixture) put(key, body string) {
	f.t.Helper()
	if _, err := f.src.Write(context.Background(), key, []byte(body), nil); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) rm(key string) {
	f.t.Helper()
	if err := f.src.Delete(context.Background(), key, nil); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) apply(keys ...string) Result {
	f.t.Helper()
	var cs []Change
	for _, k := range keys {
		cs = append(cs, Change{Key: k})
	}
	res := f.eng.Apply(context.Background(), cs)
	for _, o := range res.Outcomes {
		if o.Err != nil {
			f.t.Fatalf("%s: %v", o.Key, o.Err)
		}
	}
	return res
}

func snapshot(t *testing.T, b *memblob.Bucket) map[string]string {
	t.Helper()
	objs, err := blob.ListAll(context.Background(), b, "")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, o := range objs {
		data, _, err := b.Read(context.Background(), o.Key)
		if err != nil {
			t.Fatal(err)
		}
		m[o.Key] = string(data)
	}
	return m
}

func keysOf(m map[string]string) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

func doc(title, date string, tags ...string) string {
	q := make([]string, len(tags))
	for i, t := range tags {
		q[i] = fmt.Sprintf("%q", t)
	}
	return fmt.Sprintf("+++\ntitle = %q\ndate = %s\ntags = [%s]\n+++\n\nSome words about %s.\n", title, date, strings.Join(q, ", "), title)
}

func TestPublishRetagDelete(t *testing.T) {
	f := newFixture(t)
	f.put("posts/a.md", doc("Alpha", "2019-11-01T10:00:00Z", "Go", "AWS"))
	f.put("posts/b.md", doc("Beta", "2019-11-02T10:00:00Z", "go"))
	f.put("posts/c.md", doc("Gamma", "2019-10-05T10:00:00Z", "Terraform"))
	f.apply("posts/a.md", "posts/b.md", "posts/c.md")

	got := snapshot(t, f.dst)
	for _, k := range []string{"index.html", "index.xml", "index.json", "sitemap.xml", "404.html", "tags/index.html",
		"tags/go/index.xml", "tags/aws/index.xml", "tags/terraform/index.html", "2019/11/01/alpha/index.html",
		"archive/2019/11/index.html", "sitemaps/2019-10.xml"} {
		if _, ok := got[k]; !ok {
			t.Errorf("missing %s; have %v", k, keysOf(got))
		}
	}
	if !strings.Contains(got["tags/go/index.xml"], "Beta") || !strings.Contains(got["tags/go/index.xml"], "Alpha") {
		t.Errorf("go feed lacks posts:\n%s", got["tags/go/index.xml"])
	}

	// Retag c away from Terraform: its tag is emptied and disappears.
	f.put("posts/c.md", doc("Gamma", "2019-10-05T10:00:00Z", "Go"))
	f.apply("posts/c.md")
	got = snapshot(t, f.dst)
	if _, ok := got["tags/terraform/index.xml"]; ok {
		t.Errorf("emptied tag's feed still there")
	}
	if !strings.Contains(got["tags/go/index.xml"], "Gamma") {
		t.Errorf("go feed lacks Gamma")
	}

	// Delete a: its page goes, the aws tag goes, the site feed drops it.
	f.rm("posts/a.md")
	f.apply("posts/a.md")
	got = snapshot(t, f.dst)
	for _, k := range []string{"2019/11/01/alpha/index.html", "tags/aws/index.xml", "tags/aws/index.html"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s still there after delete", k)
		}
	}
	if strings.Contains(got["index.xml"], "Alpha") {
		t.Errorf("site feed still has Alpha")
	}

	// A replay changes nothing.
	if res := f.apply("posts/a.md", "posts/b.md", "posts/c.md"); len(res.Written)+len(res.Deleted) > 0 {
		t.Errorf("replay wrote %v deleted %v", res.Written, res.Deleted)
	}

	// The incremental site equals a site built from scratch.
	g := newFixture(t)
	for k, v := range snapshot(t, f.src) {
		if strings.HasPrefix(k, "posts/") {
			g.put(k, v)
		}
	}
	g.apply("posts/a.md", "posts/b.md", "posts/c.md")
	want := snapshot(t, g.dst)
	if strings.Join(keysOf(got), "\n") != strings.Join(keysOf(want), "\n") {
		t.Fatalf("keys differ:\nincremental %v\nrebuilt     %v", keysOf(got), keysOf(want))
	}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("%s differs from a clean build", k)
		}
	}
}

// cleanBuild builds the posts now in f's source bucket into a new site
// from scratch and returns its files.
func cleanBuild(t *testing.T, f *fixture, keys []string) map[string]string {
	t.Helper()
	g := newFixtureWith(t, f.settings)
	for k, v := range snapshot(t, f.src) {
		if strings.HasPrefix(k, "posts/") {
			g.put(k, v)
		}
	}
	g.apply(keys...)
	return snapshot(t, g.dst)
}

// sameSite reports every file of got that is missing from, left over in
// or different from want.
func sameSite(t *testing.T, step string, got, want map[string]string) {
	t.Helper()
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s%s is left over", step, k)
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s%s differs from a clean build", step, k)
		}
	}
}
