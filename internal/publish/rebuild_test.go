package publish

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/blob/memblob"
	"github.com/postmill/postmill/internal/site"
)

func TestRebuildAppliesNewSettingsAndRemovesOrphans(t *testing.T) {
	f := newFixture(t)
	f.put("posts/a.md", doc("Alpha", "2019-11-01T10:00:00Z", "Go", "AWS"))
	f.put("posts/b.md", doc("Beta", "2019-10-02T10:00:00Z", "Go"))
	f.apply("posts/a.md", "posts/b.md")
	if _, err := f.dst.Write(context.Background(), "tags/gone/index.html", []byte("stale"), nil); err != nil {
		t.Fatal(err)
	}
	// A post deleted while no event reached the function.
	f.rm("posts/b.md")

	cfg, err := site.Load(func(k string) (string, bool) {
		v, ok := map[string]string{"SITE_BASE_URL": "https://blog.example/", "SITE_TITLE": "Renamed Notes", "SITE_AUTHOR": "Ada"}[k]
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
	eng := New(f.src, f.dst, r, Options{Clock: clock})
	rep, err := eng.Rebuild(context.Background(), 1)
	if err != nil {
		t.Fatalf("rebuild: %v (%+v)", err, rep)
	}
	if len(rep.Orphans) == 0 || rep.Orphans[0] != "tags/gone/index.html" {
		t.Errorf("orphans = %v", rep.Orphans)
	}

	clean := memblob.New(memblob.WithClock(clock))
	src := memblob.New(memblob.WithClock(clock))
	src.Write(context.Background(), "posts/a.md", []byte(doc("Alpha", "2019-11-01T10:00:00Z", "Go", "AWS")), nil)
	New(src, clean, r, Options{Clock: clock}).Apply(context.Background(), []Change{{Key: "posts/a.md"}})
	got, want := snapshot(t, f.dst), snapshot(t, clean)
	if strings.Join(keysOf(got), " ") != strings.Join(keysOf(want), " ") {
		t.Fatalf("keys after rebuild:\n%v\nclean build:\n%v", keysOf(got), keysOf(want))
	}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("%s differs from a clean build", k)
		}
	}
	if !strings.Contains(got["index.html"], "Renamed Notes") {
		t.Error("new title not applied")
	}
}
