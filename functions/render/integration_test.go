package main

// Integration tests: the exact bootstrap binary that ships, driven through
// the Lambda Runtime API by a local event source mapping, against the AWS
// emulator (moto, started on a free port unless AWS_ENDPOINT_URL is set).
// They fail, never skip, when no emulator can be had.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postmill/postmill/internal/awstest"
	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/blob/memblob"
	"github.com/postmill/postmill/internal/lambdart"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/pump"
	"github.com/postmill/postmill/internal/s3store"
	"github.com/postmill/postmill/internal/site"
	"github.com/postmill/postmill/internal/textdiff"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// siteEnv is the function's configuration in these tests.
var siteEnv = map[string]string{
	"SITE_BASE_URL": "https://blog.example/",
	"SITE_TITLE":    "Field Notes",
	"SITE_AUTHOR":   "Ada Lovelace",
	"TIME_ZONE":     "Europe/Amsterdam",
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// bootstrap builds the function once per test run, as `make build` does
// for the local stack.
func bootstrap(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "postmill-render-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// stack is one isolated deployment: its own buckets, queue and functions.
type stack struct {
	t        *testing.T
	s3       *s3.Client
	sqs      *sqs.Client
	src, dst string
	queueURL string
	dlqURL   string
	pump     *pump.Pump
	logs     *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newStack(t *testing.T, workers int, extraEnv ...string) *stack {
	t.Helper()
	ctx := context.Background()
	st := &stack{t: t, s3: awstest.S3(t), sqs: awstest.SQS(t), logs: &syncBuffer{}}
	st.src = awstest.NewBucket(t, st.s3)
	st.dst = awstest.NewBucket(t, st.s3)

	name := strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-")
	name = fmt.Sprintf("pm-%x", time.Now().UnixNano())
	dlq, err := st.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	st.dlqURL = *dlq.QueueUrl
	dlqARN := st.queueARN(st.dlqURL)
	q, err := st.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{
		"VisibilityTimeout": "2",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"4"}`, dlqARN),
	}})
	if err != nil {
		t.Fatal(err)
	}
	st.queueURL = *q.QueueUrl
	arn := st.queueARN(st.queueURL)
	t.Cleanup(func() {
		st.sqs.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(st.queueURL)})
		st.sqs.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(st.dlqURL)})
	})
	_, err = st.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(st.src),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: aws.String(arn),
			Events:   []s3types.Event{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"},
			Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{
				{Name: s3types.FilterRuleNamePrefix, Value: aws.String("posts/")},
			}}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}

	env := append(os.Environ(),
		"AWS_ENDPOINT_URL="+awstest.Endpoint(t),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
		"SOURCE_BUCKET="+st.src, "SITE_BUCKET="+st.dst,
		// What Lambda sets for the JSON logging Terraform configures.
		"AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL=INFO")
	env = append(env, extraEnv...)
	for k, v := range siteEnv {
		env = append(env, k+"="+v)
	}
	var fns []pump.Invoker
	for i := 0; i < workers; i++ {
		p, err := lambdart.Start(ctx, bootstrap(t), env, st.logs, lambdart.WithFunctionName("render"), lambdart.WithTimeout(60*time.Second))
		if err != nil {
			t.Fatalf("start function: %v\n%s", err, st.logs.String())
		}
		t.Cleanup(func() { p.Stop() })
		fns = append(fns, p)
	}
	st.pump = pump.New(st.sqs, st.queueURL, arn, fns, pump.WithWaitTime(time.Second))
	st.drain() // the s3:TestEvent
	return st
}

func (st *stack) queueARN(url string) string {
	st.t.Helper()
	out, err := st.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		st.t.Fatal(err)
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
}

// drain delivers every queued event and waits until the queue is empty.
func (st *stack) drain() {
	st.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := st.pump.Drain(ctx); err != nil {
		st.t.Fatalf("drain: %v\nfunction logs:\n%s", err, st.logs.String())
	}
}

func (st *stack) put(key string, body []byte) {
	st.t.Helper()
	if _, err := st.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(st.src), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		st.t.Fatal(err)
	}
}

func (st *stack) rm(key string) {
	st.t.Helper()
	if _, err := st.s3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(st.src), Key: aws.String(key)}); err != nil {
		st.t.Fatal(err)
	}
}

// object is a site file with the headers it is served with and the
// content hash the engine keeps on it.
type object struct {
	body, contentType, cacheControl, hash string
}

func (st *stack) site() map[string]object {
	st.t.Helper()
	b := s3store.New(st.s3, st.dst)
	return objects(st.t, b)
}

// sources lists the posts currently in the source bucket.
func (st *stack) sources() map[string][]byte {
	st.t.Helper()
	out := map[string][]byte{}
	b := s3store.New(st.s3, st.src)
	objs, err := blob.ListAll(context.Background(), b, "posts/")
	if err != nil {
		st.t.Fatal(err)
	}
	for _, o := range objs {
		data, _, err := b.Read(context.Background(), o.Key)
		if err != nil {
			st.t.Fatal(err)
		}
		out[o.Key] = data
	}
	return out
}

type reader interface {
	blob.Lister
	Read(ctx context.Context, key string) ([]byte, blob.Attributes, error)
}

func objects(t *testing.T, b reader) map[string]object {
	t.Helper()
	objs, err := blob.ListAll(context.Background(), b, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]object{}
	for _, o := range objs {
		data, a, err := b.Read(context.Background(), o.Key)
		if err != nil {
			t.Fatal(err)
		}
		out[o.Key] = object{string(data), a.ContentType, a.CacheControl, a.Metadata["postmill-sha256"]}
	}
	return out
}

// renderer is the function's renderer for siteEnv, with settings on top.
func renderer(t *testing.T, settings map[string]string) *site.Renderer {
	t.Helper()
	cfg, err := site.Load(func(k string) (string, bool) {
		if v, ok := settings[k]; ok {
			return v, true
		}
		v, ok := siteEnv[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := site.NewRenderer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// oracle builds the site the sources should produce, in memory, with the
// same engine and settings: what the event-driven site must equal.
func oracle(t *testing.T, sources map[string][]byte) map[string]object {
	t.Helper()
	r := renderer(t, nil)
	src, dst := memblob.New(), memblob.New()
	var changes []publish.Change
	for k, v := range sources {
		if _, err := src.Write(context.Background(), k, v, nil); err != nil {
			t.Fatal(err)
		}
		changes = append(changes, publish.Change{Key: k})
	}
	for _, o := range publish.New(src, dst, r, publish.Options{}).Apply(context.Background(), changes).Outcomes {
		if o.Err != nil {
			t.Fatalf("oracle: %s: %v", o.Key, o.Err)
		}
	}
	return objects(t, dst)
}

// assertSite checks the site bucket equals the oracle's build of the
// current sources: same keys, bytes and headers.
func (st *stack) assertSite() map[string]object {
	st.t.Helper()
	got, want := st.site(), oracle(st.t, st.sources())
	if problems := compareSites(got, want, 5); len(problems) > 0 {
		st.t.Fatalf("site differs from a clean build of the sources:\n%s\nfunction logs (tail):\n%s", strings.Join(problems, "\n"), tail(st.logs.String(), 3000))
	}
	return got
}

// compareSites lists, in key order, every file left over in got, missing
// from it, or differing from want in bytes, headers or content hash; the
// first diffs of them show where the bodies part (- want, + got).
func compareSites(got, want map[string]object, diffs int) []string {
	keys := make([]string, 0, len(got)+len(want))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var problems []string
	for _, k := range keys {
		g, inGot := got[k]
		w, inWant := want[k]
		switch {
		case !inWant:
			problems = append(problems, "left over: "+k)
		case !inGot:
			problems = append(problems, "missing: "+k)
		case g.body != w.body:
			p := "differs: " + k
			if diffs > 0 {
				diffs--
				p += " (- want, + got)\n" + textdiff.First(w.body, g.body)
			}
			problems = append(problems, p)
		case g.contentType != w.contentType || g.cacheControl != w.cacheControl:
			problems = append(problems, fmt.Sprintf("headers of %s: %q %q, want %q %q", k, g.contentType, g.cacheControl, w.contentType, w.cacheControl))
		case g.hash != w.hash:
			problems = append(problems, fmt.Sprintf("content hash of %s: %q, want %q", k, g.hash, w.hash))
		}
	}
	return problems
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// testdataPosts reads testdata/posts as source keys.
func testdataPosts(t *testing.T) map[string][]byte {
	t.Helper()
	root := filepath.Join("..", "..", "testdata", "posts")
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		data, err := os.ReadFile(p)
		out["posts/"+filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 12 {
		t.Fatalf("only %d test posts in %s", len(out), root)
	}
	return out
}

func TestPublishesThroughTheEventPath(t *testing.T) {
	st := newStack(t, 2)
	posts := testdataPosts(t)
	keys := make([]string, 0, len(posts))
	for k := range posts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		st.put(k, posts[k])
	}
	st.drain()
	got := st.assertSite()
	for k, want := range map[string]string{
		"index.html": "text/html; charset=utf-8", "index.xml": "application/atom+xml",
		"sitemap.xml": "application/xml",
	} {
		if got[k].contentType != want {
			t.Errorf("%s served as %q, want %q", k, got[k].contentType, want)
		}
	}
	if _, ok := got["index.json"]; ok {
		t.Errorf("index.json published, though JSON_FEED is off by default")
	}

	t.Run("retag moves the post between tag feeds", func(t *testing.T) {
		st.put("posts/retag.md", []byte("+++\ntitle = \"Retagged\"\ndate = 2020-02-02T10:00:00Z\ntags = [\"alpha-only\"]\n+++\nbody"))
		st.drain()
		st.put("posts/retag.md", []byte("+++\ntitle = \"Retagged\"\ndate = 2020-02-02T10:00:00Z\ntags = [\"beta-only\"]\n+++\nbody"))
		st.drain()
		got := st.assertSite()
		if _, ok := got["tags/alpha-only/index.xml"]; ok {
			t.Error("the emptied tag's feed is still published")
		}
		if !strings.Contains(got["tags/beta-only/index.xml"].body, "Retagged") {
			t.Error("the new tag's feed lacks the post")
		}
	})
	t.Run("delete removes the page and updates feeds", func(t *testing.T) {
		st.rm("posts/retag.md")
		st.drain()
		got := st.assertSite()
		if strings.Contains(got["index.xml"].body, "Retagged") {
			t.Error("site feed still lists the deleted post")
		}
	})
	t.Run("draft unpublishes", func(t *testing.T) {
		st.put("posts/ci-cache-keys.md", bytes.Replace(posts["posts/ci-cache-keys.md"], []byte("\ntitle"), []byte("\ndraft = true\ntitle"), 1))
		st.drain()
		st.assertSite()
	})
	t.Run("awkward keys", func(t *testing.T) {
		for _, k := range []string{"posts/plus+sign.md", "posts/space and more.md", "posts/ünïcødé/日本語.md"} {
			st.put(k, []byte(fmt.Sprintf("+++\ntitle = %q\ndate = 2021-03-04T05:06:07Z\n+++\nhello", "key "+k)))
		}
		st.drain()
		st.assertSite()
	})
}

// TestReplayedShuffledEventsChangeNothing captures the notifications of a
// publish, delivers each three times in random order, and expects the
// same bytes as the clean run.
func TestReplayedShuffledEventsChangeNothing(t *testing.T) {
	st := newStack(t, 2)
	posts := testdataPosts(t)
	var bodies []string
	for k, v := range posts {
		st.put(k, v)
	}
	// Take the notifications off the queue before the function sees them.
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for len(bodies) < len(posts) && time.Now().Before(deadline) {
		out, err := st.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(st.queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			bodies = append(bodies, *m.Body)
			st.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(st.queueURL), ReceiptHandle: m.ReceiptHandle})
		}
	}
	if len(bodies) != len(posts) {
		t.Fatalf("captured %d notifications for %d uploads", len(bodies), len(posts))
	}
	var replay []string
	for i := 0; i < 3; i++ {
		replay = append(replay, bodies...)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(replay), func(i, j int) { replay[i], replay[j] = replay[j], replay[i] })
	for _, b := range replay {
		if _, err := st.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(st.queueURL), MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	st.drain()
	st.assertSite()
}

// TestConcurrentBulkUpload uploads 50 posts at once to four function
// instances: every feed must come out exact.
func TestConcurrentBulkUpload(t *testing.T) {
	st := newStack(t, 4)
	tags := []string{"Go", "AWS", "SRE", "Terraform", "Kubernetes", "Observability", "DevOps", "devops"}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := fmt.Sprintf("+++\ntitle = \"Bulk post %d\"\ndate = 2022-%02d-%02dT08:00:00Z\ntags = [%q, %q]\n+++\n\nNotes number %d.\n",
				i, 1+i%12, 1+i%28, tags[i%len(tags)], tags[(i*3+1)%len(tags)], i)
			st.put(fmt.Sprintf("posts/bulk/%02d.md", i), []byte(body))
		}(i)
	}
	wg.Wait()
	st.drain()
	st.assertSite()
}

var _ = io.Discard
var _ = json.Marshal

// batchLine is the function's per-batch log record.
type batchLine struct {
	Msg                          string `json:"message"`
	Keys, Written, Deleted       int
	MS                           int64 `json:"ms"`
	Get, Head, Put, Delete, List int64
	BytesRead, BytesWritten      int64
}

func (st *stack) batches() []batchLine {
	var out []batchLine
	for _, l := range strings.Split(st.logs.String(), "\n") {
		var b batchLine
		if json.Unmarshal([]byte(l), &b) == nil && b.Msg == "batch" {
			out = append(out, b)
		}
	}
	return out
}

// TestOnePublishCost measures one post with three tags published into the
// test site: the S3 requests by kind and the handler's time, from the
// function's own batch log. The bound is a tripwire against a design that
// reads or writes the whole site; the target lives in the benchmarks.
func TestOnePublishCost(t *testing.T) {
	st := newStack(t, 1)
	for k, v := range testdataPosts(t) {
		st.put(k, v)
	}
	st.drain()
	n := len(st.batches())
	st.put("posts/measured.md", []byte("+++\ntitle = \"Measured\"\ndate = 2024-06-01T10:00:00Z\ntags = [\"Go\", \"SRE\", \"Observability\"]\n+++\n\nA post to measure.\n"))
	st.drain()
	bs := st.batches()[n:]
	if len(bs) != 1 || bs[0].Keys != 1 {
		t.Fatalf("want one batch with one key, got %+v\nlogs:\n%s", bs, tail(st.logs.String(), 1500))
	}
	b := bs[0]
	total := b.Get + b.Head + b.Put + b.Delete + b.List
	t.Logf("one publish, 3 tags: %d requests (GET %d, HEAD %d, PUT %d, DELETE %d, LIST %d), %d B read, %d B written, handler %d ms",
		total, b.Get, b.Head, b.Put, b.Delete, b.List, b.BytesRead, b.BytesWritten, b.MS)
	if total > 80 || b.List > 0 {
		t.Errorf("one publish made %d requests (%d LIST): the cost should not depend on the site's size", total, b.List)
	}
	st.assertSite()
}
