package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/cdn"
	"github.com/postmill/postmill/internal/handler"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/s3store"
	"github.com/postmill/postmill/internal/site"
)

// target is a site the measured operations run against: the engine and
// handler wired as functions/render wires them, over counted buckets, and
// a way for the "author" to change sources without being counted.
type target struct {
	srcName    string
	h          *handler.Handler
	srcC, dstC *blob.Counter
	pub        *recordingPublisher
	inv        *recordingInvalidator
	put        func(ctx context.Context, key string, body []byte) error
	rm         func(ctx context.Context, key string) error
	// noGC skips the collection before each measured call, which
	// evens out CPU samples but would show in a profile.
	noGC bool
}

// recordingPublisher keeps the engine's last result for the report.
type recordingPublisher struct {
	eng  *publish.Engine
	last publish.Result
}

func (p *recordingPublisher) Apply(ctx context.Context, cs []publish.Change) publish.Result {
	p.last = p.eng.Apply(ctx, cs)
	return p.last
}

// recordingInvalidator stands in for CloudFront: it keeps the keys the
// handler asks to invalidate.
type recordingInvalidator struct{ keys []string }

func (v *recordingInvalidator) Invalidate(_ context.Context, keys []string) error {
	v.keys = keys
	return nil
}

func wire(srcName string, src, dst blob.Bucket, r *site.Renderer) *target {
	t := &target{srcName: srcName, inv: &recordingInvalidator{}}
	t.srcC, t.dstC = blob.NewCounter(src), blob.NewCounter(dst)
	t.pub = &recordingPublisher{eng: publish.New(t.srcC, t.dstC, r, publish.Options{})}
	meter := handler.WithMeter(func() blob.Counts { return t.srcC.Snapshot().Add(t.dstC.Snapshot()) })
	t.h = handler.New(t.pub, t.inv, nil, meter)
	return t
}

// s3Target wires the engine to two emulator buckets with an S3 client
// configured as the function's.
func s3Target(ctx context.Context, e *emulator, src, dst string) (*target, error) {
	client, err := e.functionS3(ctx)
	if err != nil {
		return nil, err
	}
	r, err := newRenderer()
	if err != nil {
		return nil, err
	}
	t := wire(src, s3store.New(client, src), s3store.New(client, dst), r)
	t.put = func(ctx context.Context, key string, body []byte) error { return e.put(ctx, src, key, body) }
	t.rm = func(ctx context.Context, key string) error {
		_, err := e.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(src), Key: aws.String(key)})
		return err
	}
	return t, nil
}

// memTarget wires the engine to an in-memory site.
func memTarget(s *memSite) (*target, error) {
	r, err := newRenderer()
	if err != nil {
		return nil, err
	}
	t := wire("source", s.src, s.dst, r)
	t.put = func(ctx context.Context, key string, body []byte) error {
		_, err := s.src.Write(ctx, key, body, nil)
		return err
	}
	t.rm = func(ctx context.Context, key string) error { return s.src.Delete(ctx, key, nil) }
	return t, nil
}

// sample is one measured operation.
type sample struct {
	Wall, CPU        time.Duration
	Counts           blob.Counts
	Paths            int // CloudFront paths for the changed keys
	Written, Deleted int
}

var sequencer atomic.Int64

// s3Message is an SQS message carrying the S3 notification of one change,
// as S3 writes it.
func s3Message(bucket, key string, removed bool) events.SQSMessage {
	name := "ObjectCreated:Put"
	if removed {
		name = "ObjectRemoved:Delete"
	}
	seq := sequencer.Add(1)
	enc := strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
	body := fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":%q,"eventTime":%q,"eventName":%q,`+
		`"s3":{"s3SchemaVersion":"1.0","bucket":{"name":%q,"arn":"arn:aws:s3:::%s"},"object":{"key":%q,"sequencer":"%016X"}}}]}`,
		region, time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), name, bucket, bucket, enc, seq)
	return events.SQSMessage{
		MessageId:  fmt.Sprintf("bench-%d", seq),
		Body:       body,
		Attributes: map[string]string{"ApproximateReceiveCount": "1"},
	}
}

// apply hands the handler one SQS batch with a message per key and
// measures it: wall and CPU time of the handler, S3 requests and bytes,
// and what it changed.
func (t *target) apply(ctx context.Context, keys []string, removed bool) (sample, error) {
	var ev events.SQSEvent
	for _, k := range keys {
		ev.Records = append(ev.Records, s3Message(t.srcName, k, removed))
	}
	t.srcC.Reset()
	t.dstC.Reset()
	t.inv.keys = nil
	if !t.noGC {
		runtime.GC()
	}
	cpu0, start := cpuTime(), time.Now()
	resp, err := t.h.HandleSQS(ctx, ev)
	wall, cpu := time.Since(start), cpuTime()-cpu0
	if err != nil {
		return sample{}, err
	}
	for _, o := range t.pub.last.Outcomes {
		if o.Err != nil {
			return sample{}, fmt.Errorf("%s: %w", o.Key, o.Err)
		}
		if want := map[bool]string{false: "published", true: "deleted"}[removed]; o.Status != want {
			return sample{}, fmt.Errorf("%s: %s, want %s: %s", o.Key, o.Status, want, strings.Join(o.Problems, "; "))
		}
	}
	if len(resp.BatchItemFailures) > 0 {
		return sample{}, errors.New("the handler reported batch item failures")
	}
	return sample{
		Wall: wall, CPU: cpu,
		Counts:  t.srcC.Snapshot().Add(t.dstC.Snapshot()),
		Paths:   len(cdn.Paths(t.inv.keys, 0)),
		Written: len(t.pub.last.Written), Deleted: len(t.pub.last.Deleted),
	}, nil
}

// publishNew uploads p and publishes it.
func (t *target) publishNew(ctx context.Context, p srcPost) (sample, error) {
	if err := t.put(ctx, p.Key, p.Body); err != nil {
		return sample{}, err
	}
	return t.apply(ctx, []string{p.Key}, false)
}

// edit changes a published post as an author fixing it would: a
// paragraph more at the end, and a new lastmod.
func (t *target) edit(ctx context.Context, p srcPost) (sample, error) {
	if err := t.put(ctx, p.Key, edited(p)); err != nil {
		return sample{}, err
	}
	return t.apply(ctx, []string{p.Key}, false)
}

// edited is p's file after the edit.
func edited(p srcPost) []byte {
	lines := strings.Split(string(p.Body), "\n")
	fence, sep := lines[0], " = "
	if fence == "---" {
		sep = ": "
	}
	stamp := p.Date.Add(90 * 24 * time.Hour).Format(time.RFC3339)
	out := []string{fence}
	inFront := true
	for _, l := range lines[1:] {
		switch {
		case inFront && l == fence:
			inFront = false
		case inFront && strings.HasPrefix(l, "lastmod"):
			continue
		case inFront && strings.HasPrefix(l, "date"):
			out = append(out, l, "lastmod"+sep+stamp)
			continue
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, "\n") + "\nUpdate: measured again after the fix, with the same results.\n")
}

func (t *target) remove(ctx context.Context, p srcPost) (sample, error) {
	if err := t.rm(ctx, p.Key); err != nil {
		return sample{}, err
	}
	return t.apply(ctx, []string{p.Key}, true)
}

// summary is a set of samples of one operation.
type summary struct {
	Runs             int
	Wall, CPU        time.Duration // medians
	WallMin, WallMax time.Duration
	Counts           blob.Counts // of the run with the median request count
	ReqMin, ReqMax   int64
	Paths            int
	Written, Deleted int
}

func summarize(ss []sample) summary {
	if len(ss) == 0 {
		return summary{}
	}
	med := func(f func(sample) time.Duration) time.Duration {
		v := make([]time.Duration, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	byReq := slices.Clone(ss)
	slices.SortFunc(byReq, func(a, b sample) int { return int(a.Counts.Requests() - b.Counts.Requests()) })
	m := byReq[len(byReq)/2]
	s := summary{
		Runs: len(ss), Wall: med(func(s sample) time.Duration { return s.Wall }), CPU: med(func(s sample) time.Duration { return s.CPU }),
		Counts: m.Counts, ReqMin: byReq[0].Counts.Requests(), ReqMax: byReq[len(byReq)-1].Counts.Requests(),
		Paths: m.Paths, Written: m.Written, Deleted: m.Deleted,
	}
	s.WallMin, s.WallMax = ss[0].Wall, ss[0].Wall
	for _, x := range ss {
		s.WallMin, s.WallMax = min(s.WallMin, x.Wall), max(s.WallMax, x.Wall)
	}
	return s
}

// measuredTags are the tags of the i-th measured post: the most popular
// tag and two rare ones, different for each post.
func measuredTags(c *corpus, i int) []string {
	rare := c.rareTags(40)
	return []string{c.Vocab[0], rare[(2*i)%len(rare)], rare[(2*i+1)%len(rare)]}
}

// opResults are the measured operations at one size.
type opResults struct {
	Publish, Edit, Delete summary
}

// measureOps publishes runs new posts, edits one post from the middle of
// the site and deletes another.
func measureOps(ctx context.Context, t *target, c *corpus, runs int) (opResults, error) {
	var res opResults
	var ss []sample
	for i := 0; i < runs; i++ {
		s, err := t.publishNew(ctx, c.newPost(i, measuredTags(c, i)))
		if err != nil {
			return res, fmt.Errorf("publish: %w", err)
		}
		ss = append(ss, s)
	}
	res.Publish = summarize(ss)
	mid := len(c.Posts) / 2
	s, err := t.edit(ctx, c.Posts[mid])
	if err != nil {
		return res, fmt.Errorf("edit: %w", err)
	}
	res.Edit = summarize([]sample{s})
	s, err = t.remove(ctx, c.Posts[mid+1])
	if err != nil {
		return res, fmt.Errorf("delete: %w", err)
	}
	res.Delete = summarize([]sample{s})
	return res, nil
}

// cpuOfPublish measures the engine's CPU time for one publish in-process
// against the in-memory site: the median of runs publishes.
func cpuOfPublish(ctx context.Context, s *memSite, c *corpus, runs int) (summary, error) {
	t, err := memTarget(s)
	if err != nil {
		return summary{}, err
	}
	var ss []sample
	for i := 0; i < runs; i++ {
		x, err := t.publishNew(ctx, c.newPost(i, measuredTags(c, i)))
		if err != nil {
			return summary{}, err
		}
		ss = append(ss, x)
	}
	return summarize(ss), nil
}
