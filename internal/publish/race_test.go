package publish

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentShuffledEventsConvergeToCleanBuild mutates posts while
// several engines process duplicated, shuffled hints for them at once,
// then checks the site equals one built from scratch from the final
// sources.
func TestConcurrentShuffledEventsConvergeToCleanBuild(t *testing.T) {
	seeds := 20
	if testing.Short() {
		seeds = 4
	}
	// Default heads hold 20 entries, so these listings stay compact; tiny
	// heads make tags outgrow them and exercise month shards and refill.
	for _, sizes := range []map[string]string{nil, {"FEED_LIMIT": "3", "PAGE_SIZE": "2"}} {
		for seed := range seeds {
			t.Run(fmt.Sprintf("heads%v/seed%d", sizes["FEED_LIMIT"], seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(seed), 7))
				f := newFixtureWith(t, sizes)
				tags := []string{"Go", "go", "AWS", "Terraform", "SRE", "Kubernetes"}
				keys := make([]string, 12)
				for i := range keys {
					keys[i] = fmt.Sprintf("posts/p%02d.md", i)
				}
				var hints []string
				for round := 0; round < 4; round++ {
					for _, k := range keys {
						switch rng.IntN(5) {
						case 0:
							f.rm(k)
						default:
							n := 1 + rng.IntN(3)
							var ts []string
							for j := 0; j < n; j++ {
								ts = append(ts, tags[rng.IntN(len(tags))])
							}
							day := 1 + rng.IntN(60)
							date := fmt.Sprintf("2019-%02d-%02dT10:00:00Z", 9+day/30, 1+day%28)
							f.put(k, doc("Post "+k[7:10]+fmt.Sprint(round), date, ts...))
						}
						for d := 0; d < 1+rng.IntN(3); d++ {
							hints = append(hints, k)
						}
					}
					rng.Shuffle(len(hints), func(i, j int) { hints[i], hints[j] = hints[j], hints[i] })
					// Several engines at once, each taking batches.
					var wg sync.WaitGroup
					batches := make(chan []string)
					for w := 0; w < raceWorkers; w++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for b := range batches {
								var cs []Change
								for _, k := range b {
									cs = append(cs, Change{Key: k})
								}
								for _, o := range f.eng.Apply(context.Background(), cs).Outcomes {
									if o.Err != nil {
										t.Errorf("%s: %v", o.Key, o.Err)
									}
								}
							}
						}()
					}
					for len(hints) > 0 {
						n := min(len(hints), 1+rng.IntN(5))
						batches <- hints[:n]
						hints = hints[n:]
					}
					close(batches)
					wg.Wait()
				}
				got := snapshot(t, f.dst)
				g := newFixtureWith(t, sizes)
				for k, v := range snapshot(t, f.src) {
					if strings.HasPrefix(k, "posts/") {
						g.put(k, v)
					}
				}
				g.apply(keys...)
				want := snapshot(t, g.dst)
				compareState(t, snapshot(t, f.src), snapshot(t, g.src))
				gh, wh := headKeys(t, snapshot(t, f.src)), headKeys(t, snapshot(t, g.src))
				for l, w := range wh {
					if gh[l] != w {
						t.Errorf("head of %s: %s\nclean build:   %s", l, gh[l], w)
					}
				}
				for k := range got {
					if _, ok := want[k]; !ok {
						t.Errorf("%s is left over: a clean build has no such file", k)
						if testing.Verbose() {
							st := snapshot(t, f.src)
							for sk, sv := range st {
								if strings.Contains(sk, "/lists/site/") {
									t.Logf("%s: %s", sk, sv)
								}
							}
						}
					}
				}
				for k := range want {
					if _, ok := got[k]; !ok {
						t.Errorf("%s is missing: a clean build has it", k)
					}
				}
				for k := range want {
					if g, ok := got[k]; ok && g != want[k] {
						t.Errorf("%s differs from a clean build", k)
						if testing.Verbose() {
							t.Logf("got:\n%s\nwant:\n%s", got[k], want[k])
						}
					}
				}
			})
		}
	}
}

// raceWorkers is how many engines run at once in the convergence test.
var raceWorkers = 4
