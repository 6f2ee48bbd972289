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
