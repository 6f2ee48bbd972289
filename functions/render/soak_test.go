package main

// Soak tests (issue 5, item 2: load and ordering). Per seed, a generated
// blog is uploaded at once, then edited, retitled, retagged, redated,
// drafted, deleted and recreated, the same few keys again and again,
// while eight handlers consume the S3 notifications concurrently: each
// the render function's own handler.Handler with its own engine and
// clients, on the same two buckets. Every notification is delivered one
// to three times, in random order, some of them late: after later changes
// of their key, also after it was deleted. Redeliveries carry an
// ApproximateReceiveCount above one, as SQS's do, so handlers take their
// careful path; a message a handler reports failed comes back later, as
// after a visibility timeout.
//
// Then the outcome must equal the oracle's: a full Engine.Rebuild (what
// functions/rebuild runs) of the final sources into empty buckets, in
// memory. The site bucket must hold the same keys, bytes, content type,
// cache control and content hash; every record must have nothing pending
// and be about its source's current version; authors' statuses must say
// what the oracle's say.
//
//   TestSoakEmulator  the buckets are in the emulator (moto), the handlers
//                     built by setup, as the Lambda builds them; 100
//                     posts unless POSTMILL_SOAK_POSTS says otherwise.
//   TestSoakMemory    the same schedule against internal/blob/memblob:
//                     the same handlers and concurrency, no S3 in the
//                     way, so 500 posts and more seeds fit.
//
// A seed fixes the posts, the changes and every delivery decision; which
// handler takes which batch when is the scheduler's, so a failing seed
// may need a few runs to fail again. Set POSTMILL_SOAK_SEED (the first
// seed), POSTMILL_SOAK_SEEDS (emulator), POSTMILL_SOAK_MEMORY_SEEDS,
// POSTMILL_SOAK_POSTS and POSTMILL_SOAK_HANDLERS to run other or more;
// a failure prints the line that reruns it.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postmill/postmill/internal/awstest"
	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/blob/memblob"
	"github.com/postmill/postmill/internal/catalog"
	"github.com/postmill/postmill/internal/handler"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/s3store"
)

// The defaults, which `make test` runs: one 100-post seed against moto
// (about 70 s on two cores) and twenty 500-post seeds in memory (about
// 6 s each);
// `make soak` runs twenty 500-post seeds of each, about twelve minutes a
// seed against moto.
const (
	soakDefaultEmulatorSeeds = 1
	soakDefaultEmulatorPosts = 100
	soakDefaultMemorySeeds   = 20
	soakDefaultMemoryPosts   = 500
	soakDefaultHandlers      = 8
	// soakMaxReceives is the queue's redrive policy (infra's default
	// max_receive_count): a message failing its fifth receive would be
	// dead-lettered, its change waiting for a redrive. The test's queue
	// keeps delivering, as after a redrive, and counts them.
	soakMaxReceives = 5
	// soakVisibility is how many batches go out before a failed message
	// comes back: SQS hides it for the visibility timeout, minutes in
	// the deployed queue, while other messages are received.
	soakVisibility = 16
	// soakGiveUp is where the test's queue stops: a message failing this
	// often is not being retried into success.
	soakGiveUp = 50
)

// soakSettings are a soak test's knobs, from the environment.
type soakSettings struct {
	first, seeds, posts, handlers int
}

func soakSettingsFrom(t *testing.T, seedsVar string, seeds, posts int) soakSettings {
	t.Helper()
	get := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("%s=%q: want a whole number", name, v)
		}
		return n
	}
	s := soakSettings{
		first:    get("POSTMILL_SOAK_SEED", 1),
		seeds:    get(seedsVar, seeds),
		posts:    get("POSTMILL_SOAK_POSTS", posts),
		handlers: get("POSTMILL_SOAK_HANDLERS", soakDefaultHandlers),
	}
	if testing.Short() && os.Getenv(seedsVar) == "" {
		s.seeds = min(s.seeds, 2)
	}
	if testing.Short() && os.Getenv("POSTMILL_SOAK_POSTS") == "" {
		s.posts = min(s.posts, 100)
	}
	return s
}

// soakSiteSettings alternates by seed between the default listing heads
// and tiny ones, with which most tags outgrow their head and move into
// month shards while posts come and go.
func soakSiteSettings(seed int) map[string]string {
	if seed%2 == 0 {
		return map[string]string{"FEED_LIMIT": "4", "PAGE_SIZE": "3"}
	}
	return nil
}

// sqsHandler is what the Lambda runtime calls.
type sqsHandler interface {
	HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)
}

// soakSite is one run's buckets and handlers.
type soakSite struct {
	src, dst blob.Bucket
	handlers []sqsHandler
	log      *soakLog
	settings map[string]string
	bucket   string // the source bucket's name, for the notifications
}

func TestSoakEmulator(t *testing.T) {
	s := soakSettingsFrom(t, "POSTMILL_SOAK_SEEDS", soakDefaultEmulatorSeeds, soakDefaultEmulatorPosts)
	endpoint := awstest.Endpoint(t)
	client := awstest.S3(t)
	runSoak(t, "TestSoakEmulator", "POSTMILL_SOAK_SEEDS", s, func(t *testing.T, seed int) *soakSite {
		ss := &soakSite{log: newSoakLog(), settings: soakSiteSettings(seed)}
		srcName, dstName := awstest.NewBucket(t, client), awstest.NewBucket(t, client)
		ss.src, ss.dst, ss.bucket = s3store.New(client, srcName), s3store.New(client, dstName), srcName
		// The function's environment, as newStack gives it to the
		// bootstrap binary; setup reads it.
		env := map[string]string{
			"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
			"SOURCE_BUCKET": srcName, "SITE_BUCKET": dstName,
			"DISTRIBUTION_ID": "", "SCHEDULE_GROUP": "", "WEBSUB_HUB_URL": "", "FEED_LIMIT": "", "PAGE_SIZE": "",
		}
		for k, v := range siteEnv {
			env[k] = v
		}
		for k, v := range ss.settings {
			env[k] = v
		}
		for k, v := range env {
			t.Setenv(k, v)
		}
		for range s.handlers {
			h, err := setup(t.Context(), slog.New(ss.log))
			if err != nil {
				t.Fatal(err)
			}
			ss.handlers = append(ss.handlers, h)
		}
		return ss
	})
}

func TestSoakMemory(t *testing.T) {
	s := soakSettingsFrom(t, "POSTMILL_SOAK_MEMORY_SEEDS", soakDefaultMemorySeeds, soakDefaultMemoryPosts)
	runSoak(t, "TestSoakMemory", "POSTMILL_SOAK_MEMORY_SEEDS", s, func(t *testing.T, seed int) *soakSite {
		ss := &soakSite{log: newSoakLog(), settings: soakSiteSettings(seed), bucket: "memory"}
		ss.src, ss.dst = memblob.New(), memblob.New()
		r := renderer(t, ss.settings)
		for range s.handlers {
			// As setup wires it, with buckets of their own counting.
			src, dst := blob.NewCounter(ss.src), blob.NewCounter(ss.dst)
			eng := publish.New(src, dst, r, publish.Options{})
			meter := func() blob.Counts { return src.Snapshot().Add(dst.Snapshot()) }
			ss.handlers = append(ss.handlers, handler.New(eng, nil, slog.New(ss.log), handler.WithMeter(meter)))
		}
		return ss
	})
}

// runSoak runs the seeds one after the other and logs a line for each.
func runSoak(t *testing.T, test, seedsVar string, s soakSettings, newSite func(t *testing.T, seed int) *soakSite) {
	var rows []string
	for seed := s.first; seed < s.first+s.seeds; seed++ {
		begin := time.Now()
		var st soakStats
		ok := t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			ss := newSite(t, seed)
			st = soak(t, ss, seed, s.posts)
			if t.Failed() {
				t.Logf("rerun: POSTMILL_SOAK_SEED=%d %s=1 POSTMILL_SOAK_POSTS=%d POSTMILL_SOAK_HANDLERS=%d go test -count=1 -v -run '^%s$' ./functions/render",
					seed, seedsVar, s.posts, s.handlers, test)
			}
		})
		result := "passed"
		if !ok {
			result = "FAILED"
		}
		rows = append(rows, fmt.Sprintf("seed %d: %s; %s; %v in all (with bucket cleanup)", seed, result, st, time.Since(begin).Round(100*time.Millisecond)))
	}
	t.Logf("%d seeds × %d posts × %d handlers:\n%s", s.seeds, s.posts, s.handlers, strings.Join(rows, "\n"))
}

// soakStats is what one seed did.
type soakStats struct {
	ops             map[string]int
	deliveries      int // records handed to handlers
	redeliveries    int // SQS receives with ApproximateReceiveCount > 1
	duplicates      int // extra S3 notifications of one change (new message ids)
	late            int // deliveries after a later change of their key
	lateDeleted     int // … of which for a key deleted at the time
	batches         int
	retried         int // messages reported failed and received again
	conflicts       int // keys the engine gave up on after conflicting writes
	otherFailures   int // keys that failed for another reason
	parked          int // messages that failed on receive soakMaxReceives or later
	abandoned       int // messages that failed soakGiveUp times
	maxReceive      int
	requests        blob.Counts
	files           int
	siteDiffs       int // files that differ from the oracle's, missing or left over
	records         int // records not settled on their source's version
	statuses        int // authors' statuses that differ from the oracle's
	events, oracleT time.Duration
}

func (st soakStats) String() string {
	if st.ops == nil {
		return "no run"
	}
	var kinds []string
	for k, n := range st.ops {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	return fmt.Sprintf("ops: %s; %d deliveries in %d batches (%d redelivered by SQS, %d duplicate notifications, %d late, %d of those after the key's deletion), highest receive count %d; "+
		"%d messages failed and were received again (%d keys gave up on conflicting writes, %d other failures), %d would have been dead-lettered; "+
		"%d S3 requests (%s); site of %d files, %d differ from the oracle's; %d records unsettled; %d statuses wrong; events %v, checks and oracle %v",
		strings.Join(kinds, ", "), st.deliveries, st.batches, st.redeliveries, st.duplicates, st.late, st.lateDeleted, st.maxReceive,
		st.retried, st.conflicts, st.otherFailures, st.parked, st.requests.Requests(), st.requests, st.files, st.siteDiffs, st.records, st.statuses,
		st.events.Round(100*time.Millisecond), st.oracleT.Round(100*time.Millisecond))
}

// delivery is one receive of a message to come.
type delivery struct {
	op      int    // the change it announces
	id      string // the SQS message id: copies SQS redelivers share it
	dup     bool   // a duplicate notification: S3 sent the change again
	release int    // the op that must have happened before it is handed over
	visible int    // the batches that must have gone before it (a failed receive's visibility timeout)
}

// soakRun is one seed in flight.
type soakRun struct {
	t    *testing.T
	ss   *soakSite
	ops  []soakOp
	rng  *rand.Rand
	plan [][]delivery // by op: its deliveries

	mu       sync.Mutex
	applied  []bool
	bodies   []string       // by op: the notification, once the op is done
	last     map[string]int // key → its latest op done
	pool     []delivery     // released or not
	receives map[string]int // message id → receives so far
	msgOp    map[string]int // message id → its op
	parked   map[string]bool
	inFlight int
	st       soakStats
}

// soak runs one seed and checks the outcome.
func soak(t *testing.T, ss *soakSite, seed, posts int) soakStats {
	ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
	defer cancel()
	g := newSoakGen(uint64(seed))
	r := &soakRun{t: t, ss: ss, ops: g.schedule(posts, posts), rng: rand.New(rand.NewPCG(uint64(seed), 0xde1)),
		last: map[string]int{}, receives: map[string]int{}, msgOp: map[string]int{}, parked: map[string]bool{}}
	r.st.ops = map[string]int{}
	r.applied = make([]bool, len(r.ops))
	r.bodies = make([]string, len(r.ops))
	r.planDeliveries()

	begin := time.Now()
	r.run(ctx, posts)
	r.st.events = time.Since(begin)
	r.st.requests = ss.log.counts()
	conflicts, others := ss.log.failures()
	r.st.conflicts, r.st.otherFailures = conflicts, len(others)
	for _, o := range others {
		t.Errorf("a handler failed for a reason other than a conflict: %s", o)
	}
	if ps := ss.log.problems(); len(ps) > 0 {
		t.Errorf("handlers logged %d warnings or errors besides retries; the first: %s", len(ps), strings.Join(ps[:min(len(ps), 10)], "\n"))
	}
	if r.st.abandoned > 0 {
		t.Errorf("%d messages failed %d receives in a row", r.st.abandoned, soakGiveUp)
	}

	begin = time.Now()
	r.check(ctx, seed)
	r.st.oracleT = time.Since(begin)
	t.Logf("seed %d: %s", seed, r.st)
	return r.st
}

// planDeliveries decides, for every op, how often and when its
// notification arrives: one to three times; each extra copy half the
// time an SQS redelivery of the same message, else a duplicate
// notification from S3; one copy in four late, held back until a later
// change of the same key (its deletion, where there is one, half the
// time) or, for the key's last change, to the end.
func (r *soakRun) planDeliveries() {
	later := map[string][]int{} // key → its ops, in order
	for i, op := range r.ops {
		later[op.key] = append(later[op.key], i)
	}
	r.plan = make([][]delivery, len(r.ops))
	for i, op := range r.ops {
		var after, deletes []int
		for _, j := range later[op.key] {
			if j > i {
				after = append(after, j)
				if r.ops[j].kind == "delete" {
					deletes = append(deletes, j)
				}
			}
		}
		id := fmt.Sprintf("%08x-soak-%d", r.rng.Uint32(), i)
		for c := 0; c < 1+r.rng.IntN(3); c++ {
			d := delivery{op: i, id: id, release: i}
			if c > 0 && r.rng.IntN(2) == 0 {
				d.id, d.dup = fmt.Sprintf("%08x-soak-%d-%d", r.rng.Uint32(), i, c), true
			}
			r.msgOp[d.id] = i
			if r.rng.IntN(4) == 0 {
				switch {
				case len(deletes) > 0 && r.rng.IntN(2) == 0:
					d.release = deletes[r.rng.IntN(len(deletes))]
				case len(after) > 0:
					d.release = after[r.rng.IntN(len(after))]
				default:
					d.release = len(r.ops) - 1
				}
			}
			r.plan[i] = append(r.plan[i], d)
		}
	}
}

// apply makes op i's change in the source bucket and releases its
// notification.
func (r *soakRun) apply(ctx context.Context, i int) {
	op := r.ops[i]
	var attrs blob.Attributes
	var err error
	name := "ObjectRemoved:Delete"
	if op.body != nil {
		name = "ObjectCreated:Put"
		attrs, err = r.ss.src.Write(ctx, op.key, op.body, nil)
	} else {
		err = r.ss.src.Delete(ctx, op.key, nil)
	}
	if err != nil {
		r.t.Errorf("op %d, %s %s: %v", i, op.kind, op.key, err)
	}
	body := notification(r.ss.bucket, op.key, name, attrs, i)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied[i] = true
	r.bodies[i] = body
	if i > r.lastOf(op.key) {
		r.last[op.key] = i
	}
	r.st.ops[op.kind]++
	r.pool = append(r.pool, r.plan[i]...)
}

func (r *soakRun) lastOf(key string) int {
	if i, ok := r.last[key]; ok {
		return i
	}
	return -1
}

// notification is the SQS message body S3 sends for a change: one
// record, the key form-encoded as S3 encodes it, a sequencer growing with
// every change.
func notification(bucket, key, name string, a blob.Attributes, i int) string {
	object := map[string]any{"key": strings.ReplaceAll(url.QueryEscape(key), "%2F", "/"), "sequencer": fmt.Sprintf("%016X", 0x0066A0000000000+i)}
	if a.ETag != "" {
		object["size"] = a.Size
		object["eTag"] = strings.Trim(a.ETag, `"`)
	}
	b, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
		"eventTime": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "eventName": name,
		"s3": map[string]any{"s3SchemaVersion": "1.0", "configurationId": "posts",
			"bucket": map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket},
			"object": object},
	}}})
	return string(b)
}

// run uploads the posts from eight goroutines while the handlers start on
// their notifications, then makes the changes a few at a time between
// batches, so that they land while earlier ones are being published, and
// delivers until nothing is left.
func (r *soakRun) run(ctx context.Context, posts int) {
	batches := make(chan []events.SQSMessage)
	var handlers sync.WaitGroup
	for _, h := range r.ss.handlers {
		handlers.Add(1)
		go func() {
			defer handlers.Done()
			for b := range batches {
				r.handle(ctx, h, b)
			}
		}()
	}
	defer func() {
		close(batches)
		handlers.Wait()
	}()

	uploads := make(chan int)
	var uploaders sync.WaitGroup
	for range 8 {
		uploaders.Add(1)
		go func() {
			defer uploaders.Done()
			for i := range uploads {
				r.apply(ctx, i)
			}
		}()
	}
	uploaded := make(chan struct{})
	go func() {
		for i := range posts {
			uploads <- i
		}
		close(uploads)
		uploaders.Wait()
		close(uploaded)
	}()
	for {
		select {
		case <-uploaded:
		default:
			if !r.dispatch(ctx, batches) {
				time.Sleep(time.Millisecond)
			}
			continue
		}
		break
	}

	next := posts
	for ctx.Err() == nil {
		for n := r.rng.IntN(4); n > 0 && next < len(r.ops); n-- {
			r.apply(ctx, next)
			next++
		}
		if r.dispatch(ctx, batches) || next < len(r.ops) {
			continue
		}
		r.mu.Lock()
		done := len(r.pool) == 0 && r.inFlight == 0
		r.mu.Unlock()
		if done {
			return
		}
		time.Sleep(time.Millisecond) // a batch in flight may fail and come back
	}
	r.t.Errorf("gave up delivering: %v", ctx.Err())
}

// dispatch hands a batch of one to ten released messages, picked at
// random, to the next free handler. It reports false when none is
// released.
func (r *soakRun) dispatch(ctx context.Context, batches chan<- []events.SQSMessage) bool {
	r.mu.Lock()
	var ready, hidden []int
	for i, d := range r.pool {
		switch {
		case !r.applied[d.release]:
		case d.visible > r.st.batches:
			hidden = append(hidden, i)
		default:
			ready = append(ready, i)
		}
	}
	if len(ready) == 0 {
		ready = hidden // nothing else to do: time passes
	}
	if len(ready) == 0 {
		r.mu.Unlock()
		return false
	}
	r.rng.Shuffle(len(ready), func(i, j int) { ready[i], ready[j] = ready[j], ready[i] })
	// Half the batches are full, as SQS fills them in a burst.
	size := 10
	if r.rng.IntN(2) == 0 {
		size = 1 + r.rng.IntN(9)
	}
	var batch []events.SQSMessage
	taken := map[int]bool{}
	ids := map[string]bool{}
	for _, i := range ready {
		if len(batch) == size {
			break
		}
		d := r.pool[i]
		if ids[d.id] {
			continue // SQS hands out one receive of a message at a time
		}
		ids[d.id] = true
		taken[i] = true
		batch = append(batch, r.receive(d))
	}
	kept := r.pool[:0]
	for i, d := range r.pool {
		if !taken[i] {
			kept = append(kept, d)
		}
	}
	r.pool = kept
	r.inFlight++
	r.st.batches++
	r.mu.Unlock()
	select {
	case batches <- batch:
	case <-ctx.Done():
	}
	return true
}

// receive makes the SQS message for d, counting what it is. r.mu is held.
func (r *soakRun) receive(d delivery) events.SQSMessage {
	op := r.ops[d.op]
	r.receives[d.id]++
	n := r.receives[d.id]
	r.st.deliveries++
	r.st.maxReceive = max(r.st.maxReceive, n)
	if n > 1 {
		r.st.redeliveries++
	}
	if d.dup && n == 1 {
		r.st.duplicates++
	}
	if last := r.lastOf(op.key); last > d.op {
		r.st.late++
		if r.ops[last].body == nil {
			r.st.lateDeleted++
		}
	}
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	return events.SQSMessage{
		MessageId:     d.id,
		ReceiptHandle: fmt.Sprintf("%s#%d", d.id, n),
		Body:          r.bodies[d.op],
		Attributes: map[string]string{
			"ApproximateReceiveCount":          strconv.Itoa(n),
			"SentTimestamp":                    now,
			"ApproximateFirstReceiveTimestamp": now,
		},
		EventSource:    "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:postmill-soak",
		AWSRegion:      "us-east-1",
	}
}

// handle gives a batch to a handler and puts the messages it reports
// failed back in the queue, as SQS does after the visibility timeout.
func (r *soakRun) handle(ctx context.Context, h sqsHandler, batch []events.SQSMessage) {
	resp, err := h.HandleSQS(ctx, events.SQSEvent{Records: batch})
	failed := map[string]bool{}
	if err != nil {
		r.t.Errorf("HandleSQS returned an error, failing the whole batch: %v", err)
		for _, m := range batch {
			failed[m.MessageId] = true
		}
	}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range batch {
		if !failed[m.MessageId] {
			continue
		}
		n := r.receives[m.MessageId]
		if n >= soakMaxReceives && !r.parked[m.MessageId] {
			r.parked[m.MessageId] = true
			r.st.parked++
		}
		if n >= soakGiveUp {
			r.st.abandoned++
			continue
		}
		r.st.retried++
		op := r.msgOp[m.MessageId]
		r.pool = append(r.pool, delivery{op: op, id: m.MessageId, release: op, visible: r.st.batches + soakVisibility})
	}
	r.inFlight--
}

// check compares the outcome with the oracle's: the site, file by file;
// the records, each settled and about its source's current version; and
// the statuses authors read. Each is a verdict of its own.
func (r *soakRun) check(ctx context.Context, seed int) {
	t := r.t
	sources := map[string][]byte{}
	etags := map[string]string{}
	objs, err := blob.ListAll(ctx, r.ss.src, "posts/")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		data, a, err := r.ss.src.Read(ctx, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		sources[o.Key], etags[o.Key] = data, a.ETag
	}

	// The oracle: a rebuild of the final sources from empty buckets.
	src, dst := memblob.New(), memblob.New()
	for k, v := range sources {
		if _, err := src.Write(ctx, k, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	eng := publish.New(src, dst, renderer(t, r.ss.settings), publish.Options{})
	rep, err := eng.Rebuild(ctx, 0)
	if err != nil || len(rep.Rejected) > 0 {
		t.Fatalf("the oracle's rebuild: %v; rejected: %q", err, rep.Rejected)
	}
	got, want := objects(t, r.ss.dst), objects(t, dst)
	r.st.files = len(got)
	r.st.siteDiffs = len(report(t, seed, "the incrementally built site differs from the oracle's rebuild", compareSites(got, want, 5)))

	var records []string
	seen := map[string]bool{}
	for _, rec := range decodeAll[catalog.Record](t, r.ss.src, publish.DefaultStatePrefix+"posts/") {
		seen[rec.Key] = true
		etag, live := etags[rec.Key]
		switch {
		case len(rec.Pending) > 0 || len(rec.PendingDeletes) > 0:
			records = append(records, fmt.Sprintf("record of %s still has pending listings %q and deletes %q", rec.Key, rec.Pending, rec.PendingDeletes))
		case !live && rec.Status != "deleted":
			records = append(records, fmt.Sprintf("record of %s says %q (rev %d), but its source is deleted", rec.Key, rec.Status, rec.Rev))
		case live && (rec.Status == "deleted" || rec.SourceETag != etag):
			records = append(records, fmt.Sprintf("record of %s says %q about version %s (rev %d), but the source is at %s", rec.Key, rec.Status, rec.SourceETag, rec.Rev, etag))
		}
	}
	for k := range sources {
		if !seen[k] && strings.HasSuffix(k, ".md") {
			records = append(records, "no record of "+k)
		}
	}
	sort.Strings(records)
	r.st.records = len(report(t, seed, "records are not settled on their sources' current versions", records))

	// What authors read: the oracle's statuses, and "deleted" for the
	// rest. Revisions differ between the two builds.
	var sts []string
	wantStatus := statuses(t, src)
	for k, got := range statuses(t, r.ss.src) {
		want, ok := wantStatus[k]
		if !ok {
			want = publish.Status{Key: got.Key, Status: "deleted"}
		}
		got.Revision, want.Revision = 0, 0
		if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w {
			sts = append(sts, fmt.Sprintf("status of %s is %s, want %s", k, g, w))
		}
		delete(wantStatus, k)
	}
	for k := range wantStatus {
		sts = append(sts, "no status for "+k)
	}
	sort.Strings(sts)
	r.st.statuses = len(report(t, seed, "authors' statuses differ from the oracle's", sts))
}

// report fails the test with the first of problems, if any, and returns
// them.
func report(t *testing.T, seed int, what string, problems []string) []string {
	t.Helper()
	if len(problems) == 0 {
		return nil
	}
	const most = 30
	shown := problems
	if len(shown) > most {
		shown = append(shown[:most:most], fmt.Sprintf("… %d more", len(problems)-most))
	}
	t.Errorf("seed %d: %s (%d):\n%s", seed, what, len(problems), strings.Join(shown, "\n"))
	return problems
}

// statuses reads the authors' status objects, by source key.
func statuses(t *testing.T, b blob.Bucket) map[string]publish.Status {
	t.Helper()
	out := map[string]publish.Status{}
	for _, s := range decodeAll[publish.Status](t, b, publish.DefaultStatePrefix+"status/") {
		out[s.Key] = s
	}
	return out
}

// decodeAll reads and decodes every JSON object under prefix.
func decodeAll[T any](t *testing.T, b blob.Bucket, prefix string) []T {
	t.Helper()
	objs, err := blob.ListAll(t.Context(), b, prefix)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]T, len(objs))
	for i, o := range objs {
		data, _, err := b.Read(t.Context(), o.Key)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &out[i]); err != nil {
			t.Fatalf("%s: %v", o.Key, err)
		}
	}
	return out
}

// soakLog is the handlers' logger: it keeps what they log at WARN and
// above and adds up the storage requests of their batches.
type soakLog struct {
	mu       sync.Mutex
	warnings []string
	gaveUp   int      // "will retry" after conflicting writes
	others   []string // "will retry" for any other reason
	reqs     blob.Counts
}

func newSoakLog() *soakLog { return &soakLog{} }

func (l *soakLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *soakLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *soakLog) WithGroup(string) slog.Handler            { return l }

func (l *soakLog) Handle(_ context.Context, rec slog.Record) error {
	if rec.Level < slog.LevelWarn && rec.Message != "batch" {
		return nil
	}
	attrs := map[string]slog.Value{}
	var line strings.Builder
	line.WriteString(rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value
		fmt.Fprintf(&line, " %s=%q", a.Key, a.Value.String())
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case rec.Message == "batch":
		n := func(k string) int64 {
			if v, ok := attrs[k]; ok && v.Kind() == slog.KindInt64 {
				return v.Int64()
			}
			return 0
		}
		l.reqs = l.reqs.Add(blob.Counts{Get: n("get"), Head: n("head"), Put: n("put"), Delete: n("delete"), List: n("list"),
			BytesRead: n("bytesRead"), BytesWritten: n("bytesWritten")})
	case rec.Message == "will retry" && strings.Contains(attrs["reason"].String(), "gave up after repeated conflicting writes"):
		l.gaveUp++
	case rec.Message == "will retry":
		l.others = append(l.others, line.String())
	default:
		l.warnings = append(l.warnings, line.String())
	}
	return nil
}

func (l *soakLog) counts() blob.Counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reqs
}

func (l *soakLog) failures() (gaveUp int, others []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gaveUp, append([]string(nil), l.others...)
}

func (l *soakLog) problems() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.warnings...)
}
