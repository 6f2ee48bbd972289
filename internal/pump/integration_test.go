package pump_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postmill/postmill/internal/awstest"
	"github.com/postmill/postmill/internal/lambdart"
	"github.com/postmill/postmill/internal/pump"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// queue is an SQS queue made for one test, deleted when it ends.
type queue struct{ url, arn string }

func newQueue(t *testing.T, client *sqs.Client, name string, attrs map[string]string) queue {
	t.Helper()
	name = fmt.Sprintf("postmill-%s-%d", name, time.Now().UnixNano())
	out, err := client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	t.Cleanup(func() {
		client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl})
	})
	a, err := client.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
		QueueUrl:       out.QueueUrl,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes %s: %v", name, err)
	}
	return queue{url: aws.ToString(out.QueueUrl), arn: a.Attributes["QueueArn"]}
}

// recorder is a function that fails the messages whose body starts with
// "fail" through its partial batch response, and fails whole any batch
// holding "boom" on its first delivery. It records every receive count
// it sees per body.
type recorder struct {
	t  *testing.T
	mu sync.Mutex
	// seen holds the ApproximateReceiveCount of every delivery, per body.
	seen map[string][]int
}

func (r *recorder) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	var resp events.SQSEventResponse
	boom := false
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range ev.Records {
		n, err := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
		if err != nil {
			r.t.Errorf("message %s: ApproximateReceiveCount %q", m.Body, m.Attributes["ApproximateReceiveCount"])
		}
		for _, a := range []string{"SentTimestamp", "ApproximateFirstReceiveTimestamp", "SenderId"} {
			if m.Attributes[a] == "" {
				r.t.Errorf("message %s has no %s attribute: %v", m.Body, a, m.Attributes)
			}
		}
		if m.EventSource != "aws:sqs" || m.AWSRegion == "" || m.EventSourceARN == "" {
			r.t.Errorf("record %s: source %q region %q ARN %q", m.Body, m.EventSource, m.AWSRegion, m.EventSourceARN)
		}
		r.seen[m.Body] = append(r.seen[m.Body], n)
		if m.Body == "boom" && n == 1 {
			boom = true
		}
		if strings.HasPrefix(m.Body, "fail") {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	if boom {
		return nil, fmt.Errorf("boom")
	}
	return json.Marshal(resp)
}

// TestDrainAgainstEmulator runs the pump against the emulator's SQS with
// a redrive policy of two receives: good messages are deleted, reported
// failures come back with a higher receive count and end in the
// dead-letter queue, and a failed invocation deletes nothing.
func TestDrainAgainstEmulator(t *testing.T) {
	t.Parallel()
	client := awstest.SQS(t)
	ctx := t.Context()
	dlq := newQueue(t, client, "pump-dlq", nil)
	redrive, _ := json.Marshal(map[string]string{"deadLetterTargetArn": dlq.arn, "maxReceiveCount": "2"})
	q := newQueue(t, client, "pump", map[string]string{
		"VisibilityTimeout": "1",
		"RedrivePolicy":     string(redrive),
	})

	bodies := []string{"ok-0", "ok-1", "ok-2", "ok-3", "ok-4", "ok-5", "fail-0", "fail-1", "boom"}
	for _, b := range bodies {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.url), MessageBody: aws.String(b)}); err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
	}

	fn := &recorder{t: t, seen: map[string][]int{}}
	var logs strings.Builder
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))
	p := pump.New(client, q.url, q.arn, []pump.Invoker{fn, fn},
		pump.WithWaitTime(time.Second), pump.WithLogger(log))

	begin := time.Now()
	dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := p.Drain(dctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	t.Logf("drained in %v: %+v", time.Since(begin).Round(time.Millisecond), p.Stats())
	defer func() {
		if t.Failed() {
			logMu.Lock()
			t.Logf("pump log:\n%s", logs.String())
			logMu.Unlock()
		}
	}()

	fn.mu.Lock()
	seen := maps.Clone(fn.seen)
	fn.mu.Unlock()
	for _, b := range bodies {
		counts := seen[b]
		var want []int
		switch {
		case strings.HasPrefix(b, "fail"), b == "boom":
			want = []int{1, 2}
		case slices.Equal(counts, []int{1, 2}):
			want = counts // an ok message in boom's first batch
		default:
			want = []int{1}
		}
		if !slices.Equal(counts, want) {
			t.Errorf("%s delivered with receive counts %v, want %v", b, counts, want)
		}
	}

	// The main queue is empty; the dead-letter queue holds the failures.
	if n := countMessages(t, client, q.url); n != 0 {
		t.Errorf("%d messages left in the queue", n)
	}
	var inDLQ []string
	for range 5 {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(dlq.url),
			MaxNumberOfMessages:         10,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatalf("ReceiveMessage from the DLQ: %v", err)
		}
		for _, m := range out.Messages {
			inDLQ = append(inDLQ, aws.ToString(m.Body))
			t.Logf("dead-lettered %s with ApproximateReceiveCount %s", aws.ToString(m.Body), m.Attributes["ApproximateReceiveCount"])
		}
		if len(inDLQ) >= 2 {
			break
		}
	}
	if got, want := sorted(inDLQ), []string{"fail-0", "fail-1"}; !slices.Equal(got, want) {
		t.Errorf("dead-letter queue holds %q, want %q", got, want)
	}

	deliveries := 0
	for _, counts := range seen {
		deliveries += len(counts)
	}
	s := p.Stats()
	if s.Deleted != 7 || s.InvokeErrors != 1 || s.Failed < 2 || s.DeleteErrors != 0 || s.Messages != deliveries {
		t.Errorf("Stats() = %+v, want 7 deleted, 1 invoke error, at least 2 failed, %d messages", s, deliveries)
	}
}

func countMessages(t *testing.T, client *sqs.Client, url string) int {
	t.Helper()
	out, err := client.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	n := 0
	for _, a := range []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"} {
		v, _ := strconv.Atoi(out.Attributes[a])
		n += v
	}
	return n
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestEndToEndWithLambdaRuntime runs a real aws-lambda-go function, built
// from testdata/sqsfn and run by package lambdart, behind the pump, so the
// event the pump builds and the partial batch response the library
// encodes meet as they do in AWS.
func TestEndToEndWithLambdaRuntime(t *testing.T) {
	t.Parallel()
	client := awstest.SQS(t)
	ctx := t.Context()

	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./testdata/sqsfn")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build function: %v\n%s", err, out)
	}
	var fns []pump.Invoker
	for range 2 {
		p, err := lambdart.Start(ctx, bin, nil, nil, lambdart.WithTimeout(5*time.Second))
		if err != nil {
			t.Fatalf("start function: %v", err)
		}
		t.Cleanup(func() { p.Stop() })
		fns = append(fns, p)
	}

	dlq := newQueue(t, client, "e2e-dlq", nil)
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1})
	q := newQueue(t, client, "e2e", map[string]string{"VisibilityTimeout": "1", "RedrivePolicy": string(redrive)})
	var entries []types.SendMessageBatchRequestEntry
	for i, b := range []string{"ok-0", "fail-0", "ok-1", "ok-2", "fail-1"} {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(b)})
	}
	if _, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries}); err != nil {
		t.Fatalf("SendMessageBatch: %v", err)
	}

	p := pump.New(client, q.url, q.arn, fns, pump.WithWaitTime(time.Second))
	dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := p.Drain(dctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if s := p.Stats(); s.Deleted != 3 || s.Failed != 2 || s.InvokeErrors != 0 {
		t.Errorf("Stats() = %+v, want 3 deleted and 2 failed", s)
	}
	if n := countMessages(t, client, dlq.url); n != 2 {
		t.Errorf("%d messages in the dead-letter queue, want 2", n)
	}
}
