package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/lambdart"
	"github.com/postmill/postmill/internal/pump"
)

// The event path's settings where they differ from production's. The
// queue's visibility timeout is 6 × 60 s there, so a message that fails
// comes back after six minutes; here after a few seconds.
const (
	eventVisibility = 30 // seconds
	eventMaxReceive = 10
	uploaders       = 16
)

// syncBuffer collects the functions' logs.
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

// batchLine is the render function's log record of one batch.
type batchLine struct {
	Msg                          string `json:"message"`
	Keys                         int
	MS                           int64 `json:"ms"`
	Get, Head, Put, Delete, List int64
	BytesRead, BytesWritten      int64
}

func batchLines(logs string) []batchLine {
	var out []batchLine
	for _, l := range strings.Split(logs, "\n") {
		var b batchLine
		if json.Unmarshal([]byte(l), &b) == nil && b.Msg == "batch" {
			out = append(out, b)
		}
	}
	return out
}

// importEvents publishes every post of c through the event path: the
// posts are uploaded to a new source bucket all at once, its notifications
// go to an SQS queue, and a pump feeds the queue to workers instances of
// the render function's bootstrap, run through the Lambda Runtime API. It
// returns the buckets, left holding the site.
func importEvents(ctx context.Context, e *emulator, bootstrap string, c *corpus, workers int) (src, dst string, st importStats, err error) {
	st.Path = fmt.Sprintf("event path, %d functions, batches of 10", workers)
	if src, err = e.newBucket(ctx, "source"); err != nil {
		return
	}
	if dst, err = e.newBucket(ctx, "site"); err != nil {
		return
	}
	queueURL, queueARN, dlqURL, cleanup, err := e.newQueue(ctx)
	if err != nil {
		return
	}
	defer cleanup()
	if err = e.notify(ctx, src, queueARN); err != nil {
		return
	}
	defer e.notify(context.Background(), src, "")

	logs := &syncBuffer{}
	var fns []pump.Invoker
	for i := 0; i < workers; i++ {
		p, err := lambdart.Start(ctx, bootstrap, e.functionEnv(src, dst), logs,
			lambdart.WithFunctionName("render"), lambdart.WithTimeout(60*time.Second))
		if err != nil {
			return "", "", st, fmt.Errorf("start the function: %w\n%s", err, tail(logs.String(), 2000))
		}
		defer p.Stop()
		fns = append(fns, p)
	}
	// The s3:TestEvent the notification configuration sent.
	if err = pump.New(e.SQS, queueURL, queueARN, fns, pump.WithWaitTime(time.Second)).Drain(ctx); err != nil {
		return
	}
	before := len(batchLines(logs.String()))

	start := time.Now()
	running := pump.New(e.SQS, queueURL, queueARN, fns, pump.WithWaitTime(time.Second))
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { running.Run(rctx); close(done) }()
	err = e.upload(ctx, src, c.Posts)
	stop()
	<-done
	if err != nil {
		return
	}
	drain := pump.New(e.SQS, queueURL, queueARN, fns, pump.WithWaitTime(time.Second))
	dctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	stopProgress := every(30*time.Second, func() {
		keys := 0
		for _, l := range batchLines(logs.String())[before:] {
			keys += l.Keys
		}
		a, b := running.Stats(), drain.Stats()
		progress("  %s: %d batches, %d keys handled, %d failed and queued again", time.Since(start).Round(time.Second), a.Batches+b.Batches, keys, a.Failed+b.Failed)
	})
	err = drain.Drain(dctx)
	stopProgress()
	if err != nil {
		return
	}
	st.Wall = time.Since(start)

	a, b := running.Stats(), drain.Stats()
	st.Invocations = a.Batches + b.Batches
	st.Retried = a.Failed + b.Failed
	for _, l := range batchLines(logs.String())[before:] {
		st.Counts = st.Counts.Add(blob.Counts{Get: l.Get, Head: l.Head, Put: l.Put, Delete: l.Delete, List: l.List,
			BytesRead: l.BytesRead, BytesWritten: l.BytesWritten})
	}
	if n, err := e.queued(ctx, dlqURL); err != nil || n > 0 {
		return src, dst, st, fmt.Errorf("%d messages in the dead-letter queue (%v); function logs end:\n%s", n, err, tail(logs.String(), 3000))
	}
	return src, dst, st, nil
}

// upload puts the posts into bucket, uploaders at a time, as an author
// syncing a folder would.
func (e *emulator) upload(ctx context.Context, bucket string, posts []srcPost) error {
	ch := make(chan srcPost)
	errs := make(chan error, uploaders)
	var wg sync.WaitGroup
	for w := 0; w < uploaders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range ch {
				if err := e.put(ctx, bucket, p.Key, p.Body); err != nil {
					errs <- err
					for range ch {
					}
					return
				}
			}
		}()
	}
	for _, p := range posts {
		ch <- p
	}
	close(ch)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func (e *emulator) put(ctx context.Context, bucket, key string, body []byte) error {
	_, err := e.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	return nil
}

// newQueue creates an event queue with a dead-letter queue, and returns a
// function that deletes both.
func (e *emulator) newQueue(ctx context.Context) (url, arn, dlqURL string, cleanup func(), err error) {
	name := fmt.Sprintf("postmill-bench-%x", time.Now().UnixNano())
	dlq, err := e.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		return "", "", "", nil, err
	}
	dlqARN, err := e.queueARN(ctx, *dlq.QueueUrl)
	if err != nil {
		return "", "", "", nil, err
	}
	q, err := e.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{
		"VisibilityTimeout": strconv.Itoa(eventVisibility),
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, dlqARN, eventMaxReceive),
	}})
	if err != nil {
		return "", "", "", nil, err
	}
	arn, err = e.queueARN(ctx, *q.QueueUrl)
	if err != nil {
		return "", "", "", nil, err
	}
	cleanup = func() {
		e.SQS.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})
		e.SQS.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: dlq.QueueUrl})
	}
	return *q.QueueUrl, arn, *dlq.QueueUrl, cleanup, nil
}

func (e *emulator) queueARN(ctx context.Context, url string) (string, error) {
	out, err := e.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", err
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

func (e *emulator) queued(ctx context.Context, url string) (int, error) {
	out, err := e.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"},
	})
	if err != nil {
		return 0, err
	}
	a, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	b, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return a + b, nil
}

// notify sends the source bucket's post events to the queue, or nowhere
// when queueARN is empty.
func (e *emulator) notify(ctx context.Context, bucket, queueARN string) error {
	cfg := &s3types.NotificationConfiguration{}
	if queueARN != "" {
		cfg.QueueConfigurations = []s3types.QueueConfiguration{{
			QueueArn: aws.String(queueARN),
			Events:   []s3types.Event{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"},
			Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{
				{Name: s3types.FilterRuleNamePrefix, Value: aws.String("posts/")},
			}}},
		}}
	}
	_, err := e.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(bucket), NotificationConfiguration: cfg,
	})
	if err != nil {
		return fmt.Errorf("notification configuration of %s: %w", bucket, err)
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
