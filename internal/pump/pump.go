// Package pump is a local stand-in for Lambda's SQS event source mapping:
// it long-polls a queue, hands each batch to a function as an
// events.SQSEvent, and deletes the messages the function did not report
// as failed in its partial batch response.
//
// It follows the mapping's rules, not SQS's: a failed invocation deletes
// nothing, and a message's retries, visibility timeout and move to the
// dead-letter queue are left to the queue and its redrive policy, as they
// are in AWS. It is meant for the local stack and integration tests, where
// an emulator such as moto has queues but cannot run functions. It does
// not scale pollers, batch across a window, or handle FIFO ordering, and
// it does not create anything: the queue, its dead-letter queue and the
// functions (see package lambdart) are the caller's.
package pump

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// API is the part of the SQS client the pump uses, with the SDK's exact
// signatures, so that *sqs.Client satisfies it and tests can fake it.
type API interface {
	ReceiveMessage(ctx context.Context, params *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, params *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	GetQueueAttributes(ctx context.Context, params *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

var _ API = (*sqs.Client)(nil)

// Invoker runs a function synchronously, like Lambda's Invoke API: it
// returns the function's response, or an error if the invocation failed
// (a function error, a timeout, a crash). *lambdart.Process is one.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Defaults, and the limits SQS puts on ReceiveMessage.
const (
	DefaultBatchSize = 10
	MaxBatchSize     = 10
	DefaultWaitTime  = 5 * time.Second
	MinWaitTime      = time.Second
	MaxWaitTime      = 20 * time.Second
)

const (
	// drainInterval is how often Drain asks SQS how many messages are
	// left.
	drainInterval = 100 * time.Millisecond

	// The pause after a failed ReceiveMessage doubles from minBackoff
	// up to maxBackoff.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second

	// deleteTimeout bounds the DeleteMessageBatch that follows a
	// successful invocation, which runs even when the pump is stopping.
	deleteTimeout = 30 * time.Second
)

// Option configures a Pump.
type Option func(*Pump)

// WithBatchSize sets the most messages in one invocation, 1 to 10
// (default 10).
func WithBatchSize(n int) Option { return func(p *Pump) { p.batchSize = n } }

// WithWaitTime sets the long-poll time of each ReceiveMessage, rounded up
// to whole seconds, from 1s to 20s (default 5s; the real mapping uses
// 20s). There is no short polling: an idle pump would spin.
func WithWaitTime(d time.Duration) Option { return func(p *Pump) { p.waitTime = d } }

// WithLogger sets where each batch is logged (default: nowhere).
func WithLogger(l *slog.Logger) Option { return func(p *Pump) { p.log = l } }

// WithRegion sets the awsRegion of each record (default: the region in
// the queue ARN).
func WithRegion(region string) Option { return func(p *Pump) { p.region = region } }

// WithReportBatchItemFailures says whether the function's response is read
// as a partial batch response, as the mapping's ReportBatchItemFailures
// response type does (default true). Without it any successful invocation
// deletes the whole batch.
func WithReportBatchItemFailures(on bool) Option {
	return func(p *Pump) { p.reportFailures = on }
}

// Stats counts what a Pump has done.
type Stats struct {
	Batches      int // invocations
	Messages     int // messages received and handed to a function
	Deleted      int // messages deleted after their batch succeeded
	Failed       int // messages the function reported as batch item failures
	InvokeErrors int // invocations that failed whole, or answered with an invalid batch response
	DeleteErrors int // messages whose deletion failed, so SQS will deliver them again
}

// Pump feeds one queue to a set of functions, one poller per Invoker,
// each Invoker standing for one execution environment.
type Pump struct {
	api            API
	queueURL       string
	queueARN       string
	fns            []Invoker
	batchSize      int
	waitTime       time.Duration
	log            *slog.Logger
	region         string
	reportFailures bool

	mu       sync.Mutex
	stats    Stats
	inFlight int // batches received and not yet settled
}

// New returns a pump from the queue at queueURL, whose ARN (for the
// records' eventSourceARN) is queueARN, to the functions fns.
func New(api API, queueURL, queueARN string, fns []Invoker, opts ...Option) *Pump {
	p := &Pump{
		api:            api,
		queueURL:       queueURL,
		queueARN:       queueARN,
		fns:            fns,
		batchSize:      DefaultBatchSize,
		waitTime:       DefaultWaitTime,
		reportFailures: true,
	}
	for _, opt := range opts {
		opt(p)
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.region == "" {
		// arn:aws:sqs:region:account:name
		if parts := strings.Split(queueARN, ":"); len(parts) == 6 {
			p.region = parts[3]
		}
	}
	return p
}

// Validate reports whether the pump can run.
func (p *Pump) Validate() error {
	switch {
	case p.queueURL == "":
		return errors.New("pump: no queue URL")
	case len(p.fns) == 0:
		return errors.New("pump: no functions")
	case p.batchSize < 1 || p.batchSize > MaxBatchSize:
		return fmt.Errorf("pump: batch size %d is outside 1 to %d", p.batchSize, MaxBatchSize)
	case p.waitTime < MinWaitTime || p.waitTime > MaxWaitTime:
		return fmt.Errorf("pump: wait time %v is outside %v to %v", p.waitTime, MinWaitTime, MaxWaitTime)
	}
	return nil
}

// Run polls the queue and invokes the functions until ctx is done, then
// waits for the batches in flight to finish and returns nil. Receive
// errors are logged and retried with a growing pause, as the real mapping
// retries; only an invalid configuration is returned.
func (p *Pump) Run(ctx context.Context) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.runWorkers(ctx)
	return nil
}

// Drain runs the pump until the queue has been empty for two checks in a
// row (no message visible, in flight or delayed, and no batch being
// handled), then stops it and returns nil. Messages that keep failing
// count as not empty until the redrive policy moves them to the
// dead-letter queue, so a queue without one drains only when its
// functions succeed. It is meant for tests and scripts that fill a queue
// and wait for it to be processed; against real SQS, whose counts lag,
// it may return early.
func (p *Pump) Drain(ctx context.Context) error {
	if err := p.Validate(); err != nil {
		return err
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		p.runWorkers(wctx)
		close(done)
	}()
	defer func() {
		stop()
		<-done
	}()

	tick := time.NewTicker(drainInterval)
	defer tick.Stop()
	failedCounts := 0
	for empty := 0; empty < 2; {
		select {
		case <-ctx.Done():
			return fmt.Errorf("drain %s: %w", p.queueURL, context.Cause(ctx))
		case <-tick.C:
		}
		n, err := p.queued(ctx)
		if err != nil {
			// A count that fails (throttled, reset) says nothing about
			// the queue: try again a few times before giving up.
			if failedCounts++; failedCounts < 10 {
				empty = 0
				continue
			}
			return err
		}
		failedCounts = 0
		p.mu.Lock()
		idle := p.inFlight == 0
		p.mu.Unlock()
		if n == 0 && idle {
			empty++
		} else {
			empty = 0
		}
	}
	return nil
}

// Stats returns the counts so far.
func (p *Pump) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// queued returns how many messages the queue holds in any state.
func (p *Pump) queued(ctx context.Context) (int, error) {
	out, err := p.api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(p.queueURL),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return 0, fmt.Errorf("count messages in %s: %w", p.queueURL, err)
	}
	total := 0
	for _, name := range []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
	} {
		v, ok := out.Attributes[string(name)]
		if !ok {
			continue // an emulator that does not count delayed messages
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("count messages in %s: %s is %q", p.queueURL, name, v)
		}
		total += n
	}
	return total, nil
}

func (p *Pump) runWorkers(stop context.Context) {
	var wg sync.WaitGroup
	for i, fn := range p.fns {
		wg.Go(func() { p.work(stop, p.log.With("worker", i), fn) })
	}
	wg.Wait()
}

// work is one poller: receive a batch, invoke, settle, repeat, until stop
// is done. Stopping never cancels a receive in flight: an emulator or SQS
// may already have handed that long poll a message, which would then stay
// hidden for its visibility timeout and come back as a redelivery.
func (p *Pump) work(stop context.Context, log *slog.Logger, fn Invoker) {
	backoff := time.Duration(0)
	ctx := context.WithoutCancel(stop)
	for stop.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, p.waitTime+30*time.Second)
		out, err := p.api.ReceiveMessage(rctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(p.queueURL),
			MaxNumberOfMessages:         int32(p.batchSize),
			WaitTimeSeconds:             int32((p.waitTime + time.Second - 1) / time.Second),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		cancel()
		if err != nil {
			if stop.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			log.Warn("receive failed", "queue", p.queueURL, "retry_in", backoff, "err", err)
			select {
			case <-stop.Done():
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		if len(out.Messages) == 0 {
			continue
		}
		// A batch that was received is seen through, even if the pump
		// is stopping: SQS has already hidden it.
		p.handle(ctx, log, fn, out.Messages)
	}
}

// handle invokes fn with one batch and deletes what succeeded.
func (p *Pump) handle(ctx context.Context, log *slog.Logger, fn Invoker, msgs []types.Message) {
	p.mu.Lock()
	p.inFlight++
	p.stats.Batches++
	p.stats.Messages += len(msgs)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}()

	begin := time.Now()
	failed, err := p.invoke(ctx, fn, msgs)
	if err != nil {
		p.mu.Lock()
		p.stats.InvokeErrors++
		p.mu.Unlock()
		log.Error("batch failed, nothing deleted",
			"messages", len(msgs), "ids", ids(msgs), "duration", time.Since(begin), "err", err)
		return
	}
	p.settle(ctx, log, msgs, failed, time.Since(begin))
}

// invoke hands the batch to fn and returns the ids of the messages it
// reported as failed.
func (p *Pump) invoke(ctx context.Context, fn Invoker, msgs []types.Message) (map[string]bool, error) {
	payload, err := json.Marshal(p.event(msgs))
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	resp, err := fn.Invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	return p.failures(resp, msgs)
}

// settle deletes every message of a successful batch except the failed
// ones, and logs the batch.
func (p *Pump) settle(ctx context.Context, log *slog.Logger, msgs []types.Message, failed map[string]bool, took time.Duration) {
	var entries []types.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		if !failed[aws.ToString(m.MessageId)] {
			entries = append(entries, types.DeleteMessageBatchRequestEntry{
				Id:            aws.String(strconv.Itoa(i)),
				ReceiptHandle: m.ReceiptHandle,
			})
		}
	}
	deleted, delErr := p.delete(ctx, entries)

	p.mu.Lock()
	p.stats.Deleted += deleted
	p.stats.Failed += len(failed)
	p.stats.DeleteErrors += len(entries) - deleted
	p.mu.Unlock()

	attrs := []any{"messages", len(msgs), "deleted", deleted, "failed", len(failed), "duration", took}
	if len(failed) > 0 {
		attrs = append(attrs, "failed_ids", sortedKeys(failed))
	}
	if delErr != nil {
		log.Error("batch done, delete failed", append(attrs, "err", delErr)...)
		return
	}
	log.Info("batch done", attrs...)
}

// delete deletes entries and returns how many went.
func (p *Pump) delete(ctx context.Context, entries []types.DeleteMessageBatchRequestEntry) (int, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(ctx, deleteTimeout)
	defer cancel()
	out, err := p.api.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(p.queueURL),
		Entries:  entries,
	})
	if err != nil {
		return 0, fmt.Errorf("delete %d messages from %s: %w", len(entries), p.queueURL, err)
	}
	if len(out.Failed) > 0 {
		var reasons []string
		for _, f := range out.Failed {
			reasons = append(reasons, fmt.Sprintf("entry %s: %s: %s", aws.ToString(f.Id), aws.ToString(f.Code), aws.ToString(f.Message)))
		}
		return len(out.Successful), fmt.Errorf("delete from %s: %s", p.queueURL, strings.Join(reasons, "; "))
	}
	return len(out.Successful), nil
}

// failures reads the function's response as the mapping does with
// ReportBatchItemFailures: an empty or null response, or an empty list,
// is full success; invalid JSON, or an item identifier that is empty or
// not a message of the batch, fails the whole batch.
func (p *Pump) failures(resp []byte, msgs []types.Message) (map[string]bool, error) {
	failed := map[string]bool{}
	resp = bytes.TrimSpace(resp)
	if !p.reportFailures || len(resp) == 0 || string(resp) == "null" {
		return failed, nil
	}
	var r events.SQSEventResponse
	if err := json.Unmarshal(resp, &r); err != nil {
		return nil, fmt.Errorf("invalid batch response %.200q: %w", resp, err)
	}
	inBatch := map[string]bool{}
	for _, m := range msgs {
		inBatch[aws.ToString(m.MessageId)] = true
	}
	for _, f := range r.BatchItemFailures {
		if !inBatch[f.ItemIdentifier] {
			return nil, fmt.Errorf("invalid batch response: item identifier %q is not a message of the batch", f.ItemIdentifier)
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, nil
}

// event builds the payload the mapping sends for a batch.
func (p *Pump) event(msgs []types.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		rec := events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             map[string]string{},
			MessageAttributes:      map[string]events.SQSMessageAttribute{},
			EventSource:            "aws:sqs",
			EventSourceARN:         p.queueARN,
			AWSRegion:              p.region,
		}
		maps.Copy(rec.Attributes, m.Attributes)
		for k, v := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{
				StringValue:      v.StringValue,
				BinaryValue:      v.BinaryValue,
				StringListValues: nonNil(v.StringListValues),
				BinaryListValues: nonNil(v.BinaryListValues),
				DataType:         aws.ToString(v.DataType),
			}
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

// nonNil returns s, or an empty slice for nil: the mapping sends [] for
// empty list values, not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func ids(msgs []types.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = aws.ToString(m.MessageId)
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	return slices.Sorted(maps.Keys(m))
}
