package publish

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/postmill/postmill/internal/blob"
)

// TestResultIsExactlyWhatChanged applies random edits one at a time and
// checks that each Result lists exactly the site keys whose bytes changed
// and exactly those that disappeared.
func TestResultIsExactlyWhatChanged(t *testing.T) {
	f := newFixture(t)
	rng := rand.New(rand.NewPCG(3, 4))
	tags := []string{"Go", "AWS", "SRE", "Terraform"}
	keys := []string{"posts/a.md", "posts/b.md", "posts/c.md", "posts/d.md", "posts/e.md"}
	for step := 0; step < 60; step++ {
		k := keys[rng.IntN(len(keys))]
		switch rng.IntN(4) {
		case 0:
			f.rm(k)
		default:
			day := 1 + rng.IntN(50)
			f.put(k, doc(fmt.Sprintf("Post %s v%d", k[6:7], rng.IntN(3)), fmt.Sprintf("2019-%02d-%02dT10:00:00Z", 9+day/28, 1+day%28),
				tags[rng.IntN(len(tags))], tags[rng.IntN(len(tags))]))
		}
		before := snapshot(t, f.dst)
		res := f.apply(k)
		after := snapshot(t, f.dst)
		var changed, gone []string
		for key, v := range after {
			if before[key] != v {
				changed = append(changed, key)
			}
		}
		for key := range before {
			if _, ok := after[key]; !ok {
				gone = append(gone, key)
			}
		}
		sort.Strings(changed)
		sort.Strings(gone)
		if !slices.Equal(res.Written, changed) {
			t.Fatalf("step %d (%s): wrote %v; bytes changed at %v", step, k, res.Written, changed)
		}
		if !slices.Equal(res.Deleted, gone) {
			t.Fatalf("step %d (%s): deleted %v; gone are %v", step, k, res.Deleted, gone)
		}
	}
}

// writeLog records every write to a bucket.
type writeLog struct {
	Bucket
	mu     sync.Mutex
	writes map[string]int
}

func (w *writeLog) Write(ctx context.Context, key string, data []byte, opts *blob.WriteOptions) (blob.Attributes, error) {
	w.mu.Lock()
	w.writes[key]++
	w.mu.Unlock()
	return w.Bucket.Write(ctx, key, data, opts)
}

func TestBatchRegeneratesEachListingOnce(t *testing.T) {
	f := newFixture(t)
	log := &writeLog{Bucket: f.dst, writes: map[string]int{}}
	f.eng.dst = log
	var keys []string
	for i := 0; i < 10; i++ {
		k := fmt.Sprintf("posts/p%d.md", i)
		f.put(k, doc(fmt.Sprintf("Post %d", i), fmt.Sprintf("2019-11-%02dT10:00:00Z", i+1), "Go", "AWS"))
		keys = append(keys, k)
	}
	f.apply(keys...)
	for _, k := range []string{"index.xml", "index.html", "index.json", "tags/go/index.xml", "tags/aws/index.xml", "tags/index.html", "sitemap.xml", "archive/2019/11/index.html"} {
		if n := log.writes[k]; n != 1 {
			t.Errorf("%s written %d times in one batch of ten posts; want once", k, n)
		}
	}
}

// flaky fails a share of operations with a retryable error, as S3 does
// with 503 SlowDown.
type flaky struct {
	Bucket
	mu   sync.Mutex
	rng  *rand.Rand
	rate float64
}

var errSlowDown = errors.New("503 SlowDown")

func (f *flaky) fail() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Float64() < f.rate
}

func (f *flaky) ReadAtMost(ctx context.Context, key string, max int64) ([]byte, blob.Attributes, error) {
	if f.fail() {
		return nil, blob.Attributes{}, errSlowDown
	}
	return f.Bucket.ReadAtMost(ctx, key, max)
}

func (f *flaky) Attributes(ctx context.Context, key string) (blob.Attributes, error) {
	if f.fail() {
		return blob.Attributes{}, errSlowDown
	}
	return f.Bucket.Attributes(ctx, key)
}

func (f *flaky) Write(ctx context.Context, key string, data []byte, opts *blob.WriteOptions) (blob.Attributes, error) {
	if f.fail() {
		return blob.Attributes{}, errSlowDown
	}
	// Sometimes the write lands but the answer is lost.
	a, err := f.Bucket.Write(ctx, key, data, opts)
	if err == nil && f.fail() {
		return blob.Attributes{}, errSlowDown
	}
	return a, err
}

func (f *flaky) Delete(ctx context.Context, key string, opts *blob.DeleteOptions) error {
	if f.fail() {
		return errSlowDown
	}
	return f.Bucket.Delete(ctx, key, opts)
}

// TestTransientFailuresHealOnRedelivery injects failures into storage
// calls — 3%, what is left of a 20% failure rate on the wire after the
// SDK's three attempts — some after the write landed; keys that fail are
// delivered again (carefully, as a redelivery is) until none fails, and
// the site must equal a clean build.
func TestTransientFailuresHealOnRedelivery(t *testing.T) {
	for seed := uint64(0); seed < 5; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			f := newFixture(t)
			rng := rand.New(rand.NewPCG(seed, 9))
			f.eng.src = &flaky{Bucket: f.src, rng: rand.New(rand.NewPCG(seed, 1)), rate: 0.03}
			f.eng.dst = &flaky{Bucket: f.dst, rng: rand.New(rand.NewPCG(seed, 2)), rate: 0.03}
			tags := []string{"Go", "AWS", "SRE"}
			var keys []string
			for i := 0; i < 8; i++ {
				keys = append(keys, fmt.Sprintf("posts/p%d.md", i))
			}
			for round := 0; round < 3; round++ {
				for _, k := range keys {
					if rng.IntN(4) == 0 {
						f.rm(k)
					} else {
						f.put(k, doc("Post "+k+fmt.Sprint(round), fmt.Sprintf("2019-%02d-%02dT10:00:00Z", 9+rng.IntN(3), 1+rng.IntN(28)), tags[rng.IntN(3)], tags[rng.IntN(3)]))
					}
				}
				pending := append([]string(nil), keys...)
				careful := false
				for tries := 0; len(pending) > 0; tries++ {
					if tries > 200 {
						t.Fatalf("keys still failing after 200 deliveries: %v", pending)
					}
					var cs []Change
					for _, k := range pending {
						cs = append(cs, Change{Key: k, Careful: careful})
					}
					pending = f.eng.Apply(context.Background(), cs).Failed()
					careful = true
				}
			}
			f.eng.src, f.eng.dst = f.src, f.dst
			sameSite(t, "", snapshot(t, f.dst), cleanBuild(t, f, keys))
		})
	}
}
