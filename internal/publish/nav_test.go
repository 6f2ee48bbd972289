package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/catalog"
	"github.com/postmill/postmill/internal/permalink"
	"github.com/postmill/postmill/internal/site"
)

var navLinkRE = regexp.MustCompile(`<a class="(older|newer)" href="([^"]*)" rel="(?:prev|next)"`)

// pageNav reads the older and newer links of a rendered post page.
func pageNav(page string) (older, newer string) {
	for _, m := range navLinkRE.FindAllStringSubmatch(page, -1) {
		if m[1] == "older" {
			older = m[2]
		} else {
			newer = m[2]
		}
	}
	return older, newer
}

// checkNav checks every published page's older and newer links against
// the order of the published records, worked out here independently of
// the engine: newest first by publish time, then by key.
func checkNav(t *testing.T, f *fixture, step string) {
	t.Helper()
	var published []*catalog.Entry
	for k, v := range snapshot(t, f.src) {
		if !strings.HasPrefix(k, DefaultStatePrefix+"posts/") {
			continue
		}
		var r catalog.Record
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			t.Fatal(err)
		}
		if r.Status == "published" && r.Entry != nil {
			published = append(published, r.Entry)
		}
	}
	sort.Slice(published, func(i, j int) bool {
		a, b := published[i], published[j]
		if !a.Published.Equal(b.Published) {
			return a.Published.After(b.Published)
		}
		return a.Key < b.Key
	})
	site := snapshot(t, f.dst)
	for i, e := range published {
		var wantNewer, wantOlder string
		if i > 0 {
			wantNewer = published[i-1].Path
		}
		if i+1 < len(published) {
			wantOlder = published[i+1].Path
		}
		page, ok := site[permalink.File(e.Path)]
		if !ok {
			t.Fatalf("%s: no page for %s at %s", step, e.Key, e.Path)
		}
		older, newer := pageNav(page)
		if older != wantOlder || newer != wantNewer {
			t.Fatalf("%s: %s links older %q newer %q; want older %q newer %q", step, e.Key, older, newer, wantOlder, wantNewer)
		}
	}
}

// TestPostPagesLinkTheirNeighbours publishes, moves, retitles and deletes
// posts, one or a few at a time, and checks after every step that each
// post page links to the posts just older and newer than it. Tiny heads
// put most of the order in month shards.
func TestPostPagesLinkTheirNeighbours(t *testing.T) {
	for _, sizes := range []map[string]string{nil, {"FEED_LIMIT": "3", "PAGE_SIZE": "2"}} {
		for seed := range 6 {
			t.Run(fmt.Sprintf("heads%v/seed%d", sizes["FEED_LIMIT"], seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(seed), 11))
				f := newFixtureWith(t, sizes)
				keys := make([]string, 14)
				for i := range keys {
					keys[i] = fmt.Sprintf("posts/n%02d.md", i)
				}
				for step := 0; step < 40; step++ {
					batch := map[string]bool{}
					for n := 1 + rng.IntN(3); n > 0; n-- {
						k := keys[rng.IntN(len(keys))]
						batch[k] = true
						if rng.IntN(5) == 0 {
							f.rm(k)
							continue
						}
						// Few distinct days, so ties on the publish
						// time are common and broken by key.
						day := 1 + rng.IntN(40)
						date := fmt.Sprintf("2020-%02d-%02dT08:00:00Z", 1+day/20, 1+day%20)
						f.put(k, doc(fmt.Sprintf("Note %s take %d", k[6:9], rng.IntN(4)), date, "Go"))
					}
					var ks []string
					for k := range batch {
						ks = append(ks, k)
					}
					sort.Strings(ks)
					f.apply(ks...)
					checkNav(t, f, fmt.Sprintf("step %d (%v)", step, ks))
				}
			})
		}
	}
}

func TestAroundSkipsTheSlotsOwnKey(t *testing.T) {
	at := func(d int) time.Time { return time.Date(2020, 1, d, 8, 0, 0, 0, time.UTC) }
	e := func(key string, d int) catalog.Entry {
		return catalog.Entry{Key: key, Published: at(d), Month: "2020-01", Path: "/" + key + "/"}
	}
	// Newest first; c and b share a time, and b sorts first by key.
	month := &catalog.Month{Listing: catalog.Site, Month: "2020-01", Entries: []catalog.Entry{e("d", 9), e("b", 5), e("c", 5), e("a", 1)}}
	head := &catalog.Head{Listing: catalog.Site, Entries: month.Entries[:2], Months: []catalog.MonthCount{{Month: "2020-01", Count: 4}}}
	v := siteView{head: head, loc: time.UTC, month: func(string) (*catalog.Month, error) { return month, nil }}
	for _, tc := range []struct {
		s            slot
		newer, older string
	}{
		{slot{at(9), "d"}, "", "b"},
		{slot{at(5), "b"}, "d", "c"}, // the head's last: older from the month
		{slot{at(5), "c"}, "b", "a"}, // below the head
		{slot{at(5), "bb"}, "b", "c"},
		{slot{at(7), "x"}, "d", "b"},
		{slot{at(1), "a"}, "c", ""},
		{slot{at(10), "z"}, "", "d"},
	} {
		n, o, err := v.around(tc.s)
		if err != nil {
			t.Fatal(err)
		}
		if key(n) != tc.newer || key(o) != tc.older {
			t.Errorf("around(%v %s) = %q, %q; want %q, %q", tc.s.at.Day(), tc.s.key, key(n), key(o), tc.newer, tc.older)
		}
	}
}

func key(e *catalog.Entry) string {
	if e == nil {
		return ""
	}
	return e.Key
}

// TestNeighbourPagesAfterAWriterDied: a writer records a post's move and
// dies before touching any page; the redelivered event must fix the
// pages around the place the post left, which no state but the record's
// Vacated list remembers.
func TestNeighbourPagesAfterAWriterDied(t *testing.T) {
	f := newFixtureWith(t, map[string]string{"FEED_LIMIT": "3", "PAGE_SIZE": "2"})
	for i, d := range []int{1, 5, 9, 13, 17} {
		f.put(fmt.Sprintf("posts/m%d.md", i), doc(fmt.Sprintf("Mover %d", i), fmt.Sprintf("2020-02-%02dT08:00:00Z", d), "Go"))
	}
	f.apply("posts/m0.md", "posts/m1.md", "posts/m2.md", "posts/m3.md", "posts/m4.md")
	checkNav(t, f, "setup")

	// m2 moves from the middle to the top; the writer dies right after
	// committing the record (every site write fails).
	f.put("posts/m2.md", doc("Mover 2", "2020-02-20T08:00:00Z", "Go"))
	dst := f.eng.dst
	f.eng.dst = failingWrites{dst}
	res := f.eng.Apply(context.Background(), []Change{{Key: "posts/m2.md"}})
	if res.Outcomes[0].Err == nil {
		t.Fatal("the dying writer reported success")
	}
	f.eng.dst = dst
	// Its listings may even be committed by a writer for another key
	// that does not know about the move's old place.
	res = f.eng.Apply(context.Background(), []Change{{Key: "posts/m2.md", Careful: true}})
	for _, o := range res.Outcomes {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
	}
	checkNav(t, f, "after redelivery")
}

// failingWrites is a site bucket whose writes all fail.
type failingWrites struct{ Bucket }

func (failingWrites) Write(context.Context, string, []byte, *blob.WriteOptions) (blob.Attributes, error) {
	return blob.Attributes{}, errSlowDown
}

// TestWholeArchiveComesAndGoes: the whole-archive page of a listing
// appears when it has more months than a listing page shows, and goes
// when it no longer has; at each step the site equals a clean build.
func TestWholeArchiveComesAndGoes(t *testing.T) {
	f := newFixture(t)
	// One post a month over fourteen months.
	var keys []string
	add := func(ks ...string) {
		for _, k := range ks {
			var i int
			fmt.Sscanf(k, "posts/m%02d.md", &i)
			f.put(k, doc(fmt.Sprintf("Month %d", i), fmt.Sprintf("%d-%02d-03T08:00:00Z", 2020+i/12, i%12+1), "Go"))
		}
		f.apply(ks...)
	}
	for i := 0; i < site.ArchiveMonths+2; i++ {
		keys = append(keys, fmt.Sprintf("posts/m%02d.md", i))
	}
	clean := func(step string, wantArchive bool) {
		t.Helper()
		got := snapshot(t, f.dst)
		for _, k := range []string{"archive/index.html", "tags/go/archive/index.html"} {
			if _, ok := got[k]; ok != wantArchive {
				t.Errorf("%s: %s present: %v, want %v", step, k, ok, wantArchive)
			}
		}
		sameSite(t, step+": ", got, cleanBuild(t, f, keys))
	}
	for _, k := range keys[:site.ArchiveMonths] {
		add(k)
	}
	clean("twelve months", false)
	add(keys[site.ArchiveMonths:]...)
	clean("fourteen months", true)
	f.rm(keys[0])
	f.rm(keys[1])
	f.apply(keys[0])
	f.apply(keys[1])
	clean("twelve again", false)
}

// failingAttributes is a state bucket whose metadata reads of one key
// fail once armed: a writer's re-check of the head that never comes.
type failingAttributes struct {
	Bucket
	key   string
	armed *atomic.Bool
}

func (b failingAttributes) Attributes(ctx context.Context, key string) (blob.Attributes, error) {
	if key == b.key && b.armed.Load() {
		return blob.Attributes{}, errSlowDown
	}
	return b.Bucket.Attributes(ctx, key)
}

// TestStaleWriterThatNeverLooksAgain: writer A publishes c between a and
// b. Just as A writes b's page (older post: c), writer B deletes c and
// finishes. A's view is stale, and A never re-checks it: its re-check of
// the head fails, as a writer that gives up does not re-check. B found
// b's page as it should be and wrote nothing, so A's conditional write
// goes through (S3's ETag is the content's hash: it cannot tell "written
// again, the same" from "untouched"). A notes the pages it wrote in c's
// record, and the next writer of c checks them: neither A's links to c
// nor its page for c may outlive that. The soak test found this
// (TestSoakMemory seeds 11 and 29): a writer giving up after its views
// had gone stale left stale links, or a deleted post's page.
func TestStaleWriterThatNeverLooksAgain(t *testing.T) {
	f := newFixture(t)
	keys := []string{"posts/a.md", "posts/b.md", "posts/c.md"}
	f.put(keys[0], doc("Post A", "2019-10-01T10:00:00Z", "Go"))
	f.put(keys[1], doc("Post B", "2019-10-05T10:00:00Z", "Go"))
	f.apply(keys[0], keys[1])
	var rec catalog.Record
	if _, err := f.eng.load(context.Background(), catalog.RecordName(keys[1]), &rec); err != nil {
		t.Fatal(err)
	}
	bPage := permalink.File(rec.Entry.Path)

	other := New(f.src, f.dst, f.eng.r, f.eng.opt)
	armed := &atomic.Bool{}
	a := New(failingAttributes{Bucket: f.src, key: f.eng.stateKey(catalog.HeadName(catalog.Site)), armed: armed}, nil, f.eng.r, f.eng.opt)
	h := &hookedWrite{Bucket: f.dst, key: bPage}
	h.before = func() {
		f.rm(keys[2])
		if res := other.Apply(context.Background(), []Change{{Key: keys[2]}}); res.Outcomes[0].Err != nil {
			t.Fatalf("B: %v", res.Outcomes[0].Err)
		}
		armed.Store(true)
	}
	a.dst = h
	f.put(keys[2], doc("Post C", "2019-10-03T10:00:00Z", "Go"))
	res := a.Apply(context.Background(), []Change{{Key: keys[2]}})
	if !h.ran.Load() {
		t.Fatal("A never wrote b's page")
	}
	if res.Outcomes[0].Err == nil {
		t.Fatal("A's re-check did not fail: the test no longer tests a writer that never looks again")
	}
	// Its message failed, so it comes back; or the next event for c
	// comes first. Either way the writer checks what A left.
	f.apply(keys[2])
	sameSite(t, "after the redelivery: ", snapshot(t, f.dst), cleanBuild(t, f, keys))
}
