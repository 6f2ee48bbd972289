package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/blob/memblob"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/site"
)

// siteEnv is the site's configuration: the function's environment in
// the event path, and what the in-process engines are built from.
var siteEnv = map[string]string{
	"SITE_BASE_URL": "https://blog.example/",
	"SITE_TITLE":    "Field Notes",
	"SITE_AUTHOR":   "Ada Lovelace",
	"TIME_ZONE":     "UTC",
}

func newRenderer() (*site.Renderer, error) {
	cfg, err := site.Load(func(k string) (string, bool) { v, ok := siteEnv[k]; return v, ok })
	if err != nil {
		return nil, err
	}
	return site.NewRenderer(cfg)
}

// memSite is a site held in memory: source bucket (posts and state) and
// site bucket.
type memSite struct {
	src, dst *memblob.Bucket
}

// importStats is what a bulk import cost.
type importStats struct {
	Wall        time.Duration
	Invocations int // engine runs (function invocations in the event path)
	Retried     int // keys that failed in a run and were delivered again
	Counts      blob.Counts
	Path        string // how the import ran
}

// importInMemory publishes every post of c into a new in-memory site the
// way the event path does: the keys in batches of batch, taken by workers
// engines at once, a failed key delivered again (carefully, as SQS
// redelivers it) until none fails.
func importInMemory(ctx context.Context, c *corpus, workers, batch int) (*memSite, importStats, error) {
	r, err := newRenderer()
	if err != nil {
		return nil, importStats{}, err
	}
	s := &memSite{src: memblob.New(), dst: memblob.New()}
	for _, p := range c.Posts {
		if _, err := s.src.Write(ctx, p.Key, p.Body, nil); err != nil {
			return nil, importStats{}, err
		}
	}
	srcC, dstC := blob.NewCounter(s.src), blob.NewCounter(s.dst)

	queue := make(chan []publish.Change, len(c.Posts)/batch+workers)
	var pending sync.WaitGroup
	for i := 0; i < len(c.Posts); i += batch {
		var cs []publish.Change
		for _, p := range c.Posts[i:min(i+batch, len(c.Posts))] {
			cs = append(cs, publish.Change{Key: p.Key})
		}
		pending.Add(1)
		queue <- cs
	}
	var mu sync.Mutex
	st := importStats{Path: fmt.Sprintf("in-process (memblob), %d engine%s, batches of %d", workers, map[bool]string{true: "s"}[workers != 1], batch)}
	var firstErr error
	start := time.Now()
	stopProgress := every(30*time.Second, func() {
		mu.Lock()
		n := st.Invocations
		mu.Unlock()
		progress("  %s: %s engine runs", time.Since(start).Round(time.Second), count(n))
	})
	defer stopProgress()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			eng := publish.New(srcC, dstC, r, publish.Options{})
			for cs := range queue {
				res := eng.Apply(ctx, cs)
				var again []publish.Change
				var failure error
				for _, o := range res.Outcomes {
					if o.Err != nil {
						again = append(again, publish.Change{Key: o.Key, Careful: true})
						failure = fmt.Errorf("%s: %w", o.Key, o.Err)
					}
				}
				mu.Lock()
				st.Invocations++
				st.Retried += len(again)
				switch {
				case firstErr != nil:
				case ctx.Err() != nil:
					firstErr = ctx.Err()
				case st.Retried > 10*len(c.Posts):
					firstErr = fmt.Errorf("import keeps failing: %w", failure)
				}
				stop := firstErr != nil
				mu.Unlock()
				if len(again) > 0 && !stop {
					pending.Add(1)
					// A redelivery comes back later, not at once.
					go func() { time.Sleep(10 * time.Millisecond); queue <- again }()
				}
				pending.Done()
			}
		}()
	}
	pending.Wait()
	close(queue)
	wg.Wait()
	st.Wall = time.Since(start)
	st.Counts = srcC.Snapshot().Add(dstC.Snapshot())
	if firstErr != nil {
		return nil, st, firstErr
	}
	return s, st, nil
}
