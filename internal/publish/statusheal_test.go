package publish

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/postmill/postmill/internal/blob"
)

// failingWrites fails every write of one key while armed.
type failingWrites struct {
	Bucket
	key   string
	armed atomic.Bool
}

func (f *failingWrites) Write(ctx context.Context, key string, data []byte, opts *blob.WriteOptions) (blob.Attributes, error) {
	if f.armed.Load() && key == f.key {
		return blob.Attributes{}, errSlowDown
	}
	return f.Bucket.Write(ctx, key, data, opts)
}

// TestStatusHealsOnRedelivery fails a post's publish after its record is
// committed (the site feed cannot be written), then delivers it again,
// carefully, as SQS does. The site heals; the author's status must too.
// The soak test (functions/render, TestSoakMemory) found both cases under
// load, where "gave up after repeated conflicting writes" in a listing
// plays the failed write's part.
//
// It fails today: finish writes the status only when it differs between
// the old record and the new, and the old record is the one the failed
// run committed, whose status was never written.
func TestStatusHealsOnRedelivery(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first bool // the failed publish is the post's first
	}{
		{"a new post's first status", true},
		{"an edited post's status", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if !tc.first {
				f.put("posts/a.md", doc("Version one", "2019-11-01T10:00:00Z", "Go"))
				f.apply("posts/a.md")
			}
			fw := &failingWrites{Bucket: f.dst, key: "index.xml"}
			f.eng.dst = fw
			f.put("posts/a.md", doc("Version two", "2019-11-01T10:00:00Z", "Go"))
			want, err := f.src.Attributes(context.Background(), "posts/a.md")
			if err != nil {
				t.Fatal(err)
			}

			fw.armed.Store(true)
			res := f.eng.Apply(context.Background(), []Change{{Key: "posts/a.md"}})
			if err := res.Outcomes[0].Err; !errors.Is(err, errSlowDown) {
				t.Fatalf("the first delivery: %v, want the injected failure", err)
			}
			fw.armed.Store(false)
			res = f.eng.Apply(context.Background(), []Change{{Key: "posts/a.md", Careful: true}})
			if err := res.Outcomes[0].Err; err != nil {
				t.Fatalf("the redelivery: %v", err)
			}

			data, _, err := f.src.Read(context.Background(), f.eng.StatusKey("posts/a.md"))
			if err != nil {
				t.Fatalf("no status after the redelivery: %v", err)
			}
			if s := f.status("posts/a.md"); s.SourceETag != want.ETag || s.Status != "published" {
				t.Errorf("status after the redelivery is about version %s (%s), want %s (published):\n%s", s.SourceETag, s.Status, want.ETag, data)
			}
		})
	}
}

// hookedWrite runs before once, at the first write of key.
type hookedWrite struct {
	Bucket
	key    string
	before func()
	ran    atomic.Bool
}

func (h *hookedWrite) Write(ctx context.Context, key string, data []byte, opts *blob.WriteOptions) (blob.Attributes, error) {
	if key == h.key && h.ran.CompareAndSwap(false, true) {
		h.before()
	}
	return h.Bucket.Write(ctx, key, data, opts)
}

// TestStatusOfTheNewestVersionWins edits a draft twice, and the run for
// the first edit writes its status last: A commits version one's record,
// B commits version two's and finishes, then A writes its status. A draft
// has no listings, so no pending list: A's finish returns without looking
// at the record again, and version one's status stays, through a careful
// redelivery too. The soak test found it on drafts edited while drafted
// (TestSoakMemory, seeds 17 and 19, no failed message involved).
func TestStatusOfTheNewestVersionWins(t *testing.T) {
	f := newFixture(t)
	const key = "posts/a.md"
	draft := func(title string) string {
		return "+++\ntitle = \"" + title + "\"\ndate = 2019-11-01T10:00:00Z\ndraft = true\n+++\n\nNot yet.\n"
	}
	f.put(key, draft("Version zero"))
	f.apply(key)
	other := New(f.src, f.dst, f.eng.r, f.eng.opt)
	h := &hookedWrite{Bucket: f.src, key: f.eng.StatusKey(key)}
	h.before = func() {
		f.put(key, draft("Version two"))
		if res := other.Apply(context.Background(), []Change{{Key: key}}); res.Outcomes[0].Err != nil {
			t.Fatalf("B: %v", res.Outcomes[0].Err)
		}
	}
	f.eng.src = h
	f.put(key, draft("Version one"))
	if res := f.eng.Apply(context.Background(), []Change{{Key: key}}); res.Outcomes[0].Err != nil {
		t.Fatalf("A: %v", res.Outcomes[0].Err)
	}
	if !h.ran.Load() {
		t.Fatal("A never wrote a status")
	}
	if res := other.Apply(context.Background(), []Change{{Key: key, Careful: true}}); res.Outcomes[0].Err != nil {
		t.Fatalf("redelivery: %v", res.Outcomes[0].Err)
	}
	want, err := f.src.Attributes(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if s := f.status(key); s.SourceETag != want.ETag {
		t.Errorf("status is about version %s, want the current one, %s", s.SourceETag, want.ETag)
	}
}
