package pump_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postmill/postmill/internal/pump"
)

const testARN = "arn:aws:sqs:eu-west-1:123456789012:events"

func drain(t *testing.T, p *pump.Pump) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
}

func TestEventShape(t *testing.T) {
	t.Parallel()
	api := newFakeSQS("hello")
	api.messages[0].MD5OfMessageAttributes = aws.String("md5-attrs")
	api.messages[0].MessageAttributes = map[string]types.MessageAttributeValue{
		"kind": {DataType: aws.String("String"), StringValue: aws.String("post")},
	}
	var got events.SQSEvent
	fn := invokerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
		if err := json.Unmarshal(payload, &got); err != nil {
			t.Errorf("payload %s: %v", payload, err)
		}
		return nil, nil
	})
	p := pump.New(api, "http://sqs.local/123456789012/events", testARN, []pump.Invoker{fn},
		pump.WithBatchSize(5), pump.WithWaitTime(1500*time.Millisecond))
	drain(t, p)

	want := events.SQSEvent{Records: []events.SQSMessage{{
		MessageId:              "id-0",
		ReceiptHandle:          "rh-1",
		Body:                   "hello",
		Md5OfBody:              "md5-hello",
		Md5OfMessageAttributes: "md5-attrs",
		Attributes:             map[string]string{"ApproximateReceiveCount": "1"},
		MessageAttributes: map[string]events.SQSMessageAttribute{
			"kind": {DataType: "String", StringValue: aws.String("post"), StringListValues: []string{}, BinaryListValues: [][]byte{}},
		},
		EventSource:    "aws:sqs",
		EventSourceARN: testARN,
		AWSRegion:      "eu-west-1",
	}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event\n got %+v\nwant %+v", got, want)
	}

	in := api.inputs[0]
	if in.MaxNumberOfMessages != 5 || in.WaitTimeSeconds != 2 ||
		!slices.Equal(in.MessageSystemAttributeNames, []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}) ||
		!slices.Equal(in.MessageAttributeNames, []string{"All"}) {
		t.Errorf("ReceiveMessage input %+v", in)
	}
}

// TestBatchResponses runs three messages, "ok", "bad" and "also ok",
// through one function and checks what each kind of answer deletes. The
// queue moves a message to the dead-letter queue on its third receive.
func TestBatchResponses(t *testing.T) {
	tests := []struct {
		name        string
		respond     func(ev events.SQSEvent) (string, error) // called per batch
		noReport    bool                                     // without ReportBatchItemFailures
		failDelete  string                                   // a body whose deletion fails
		wantDeleted []string
		wantDLQ     []string
		wantStats   pump.Stats
	}{
		{
			name:        "empty response deletes the batch",
			respond:     func(events.SQSEvent) (string, error) { return "", nil },
			wantDeleted: []string{"ok", "bad", "also ok"},
			wantStats:   pump.Stats{Batches: 1, Messages: 3, Deleted: 3},
		},
		{
			name:        "null deletes the batch",
			respond:     func(events.SQSEvent) (string, error) { return "null", nil },
			wantDeleted: []string{"ok", "bad", "also ok"},
			wantStats:   pump.Stats{Batches: 1, Messages: 3, Deleted: 3},
		},
		{
			name:        "empty failure list deletes the batch",
			respond:     func(events.SQSEvent) (string, error) { return `{"batchItemFailures":[]}`, nil },
			wantDeleted: []string{"ok", "bad", "also ok"},
			wantStats:   pump.Stats{Batches: 1, Messages: 3, Deleted: 3},
		},
		{
			name:        "reported failure is kept and redriven",
			respond:     failBodies("bad"),
			wantDeleted: []string{"ok", "also ok"},
			wantDLQ:     []string{"bad"},
			wantStats:   pump.Stats{Batches: 2, Messages: 4, Deleted: 2, Failed: 2},
		},
		{
			name:      "function error deletes nothing",
			respond:   func(events.SQSEvent) (string, error) { return "", errors.New("function error") },
			wantDLQ:   []string{"ok", "bad", "also ok"},
			wantStats: pump.Stats{Batches: 2, Messages: 6, InvokeErrors: 2},
		},
		{
			name:      "invalid JSON fails the batch",
			respond:   func(events.SQSEvent) (string, error) { return `{"batchItemFailures":`, nil },
			wantDLQ:   []string{"ok", "bad", "also ok"},
			wantStats: pump.Stats{Batches: 2, Messages: 6, InvokeErrors: 2},
		},
		{
			name:      "unknown item identifier fails the batch",
			respond:   func(events.SQSEvent) (string, error) { return `{"batchItemFailures":[{"itemIdentifier":"nope"}]}`, nil },
			wantDLQ:   []string{"ok", "bad", "also ok"},
			wantStats: pump.Stats{Batches: 2, Messages: 6, InvokeErrors: 2},
		},
		{
			name:      "missing item identifier fails the batch",
			respond:   func(events.SQSEvent) (string, error) { return `{"batchItemFailures":[{"id":"id-1"}]}`, nil },
			wantDLQ:   []string{"ok", "bad", "also ok"},
			wantStats: pump.Stats{Batches: 2, Messages: 6, InvokeErrors: 2},
		},
		{
			name:        "without ReportBatchItemFailures success deletes all",
			respond:     failBodies("bad"),
			noReport:    true,
			wantDeleted: []string{"ok", "bad", "also ok"},
			wantStats:   pump.Stats{Batches: 1, Messages: 3, Deleted: 3},
		},
		{
			name:        "failed delete is counted and redelivered",
			respond:     func(events.SQSEvent) (string, error) { return "", nil },
			failDelete:  "bad",
			wantDeleted: []string{"ok", "also ok"},
			wantDLQ:     []string{"bad"},
			wantStats:   pump.Stats{Batches: 2, Messages: 4, Deleted: 2, DeleteErrors: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeSQS("ok", "bad", "also ok")
			api.failDelete = map[string]bool{tt.failDelete: true}
			fn := invokerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
				var ev events.SQSEvent
				if err := json.Unmarshal(payload, &ev); err != nil {
					t.Errorf("payload: %v", err)
					return nil, err
				}
				resp, err := tt.respond(ev)
				return []byte(resp), err
			})
			p := pump.New(api, "http://sqs.local/123456789012/events", testARN, []pump.Invoker{fn},
				pump.WithReportBatchItemFailures(!tt.noReport))
			drain(t, p)

			if got := sorted(api.deleted); !slices.Equal(got, sorted(tt.wantDeleted)) {
				t.Errorf("deleted %q, want %q", got, sorted(tt.wantDeleted))
			}
			if got := sorted(api.dlq); !slices.Equal(got, sorted(tt.wantDLQ)) {
				t.Errorf("dead-lettered %q, want %q", got, sorted(tt.wantDLQ))
			}
			if got := p.Stats(); got != tt.wantStats {
				t.Errorf("Stats() = %+v, want %+v", got, tt.wantStats)
			}
		})
	}
}

// failBodies answers with a partial batch response naming the messages
// with those bodies.
func failBodies(bodies ...string) func(events.SQSEvent) (string, error) {
	return func(ev events.SQSEvent) (string, error) {
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			if slices.Contains(bodies, r.Body) {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		b, err := json.Marshal(resp)
		return string(b), err
	}
}

func sorted(s []string) []string {
	if s == nil {
		s = []string{}
	}
	return slices.Sorted(slices.Values(s))
}

func TestValidate(t *testing.T) {
	t.Parallel()
	fn := invokerFunc(func(context.Context, []byte) ([]byte, error) { return nil, nil })
	tests := []struct {
		name    string
		url     string
		fns     []pump.Invoker
		opts    []pump.Option
		wantErr string
	}{
		{name: "defaults are valid", url: "u", fns: []pump.Invoker{fn}},
		{name: "no queue", fns: []pump.Invoker{fn}, wantErr: "no queue URL"},
		{name: "no functions", url: "u", wantErr: "no functions"},
		{name: "batch too small", url: "u", fns: []pump.Invoker{fn}, opts: []pump.Option{pump.WithBatchSize(0)}, wantErr: "batch size 0"},
		{name: "batch too big", url: "u", fns: []pump.Invoker{fn}, opts: []pump.Option{pump.WithBatchSize(11)}, wantErr: "batch size 11"},
		{name: "wait too long", url: "u", fns: []pump.Invoker{fn}, opts: []pump.Option{pump.WithWaitTime(21 * time.Second)}, wantErr: "wait time 21s"},
		{name: "no long poll", url: "u", fns: []pump.Invoker{fn}, opts: []pump.Option{pump.WithWaitTime(0)}, wantErr: "wait time 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pump.New(newFakeSQS(), tt.url, testARN, tt.fns, tt.opts...).Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate: %v, want an error saying %q", err, tt.wantErr)
			}
			if err := pump.New(newFakeSQS(), tt.url, testARN, tt.fns, tt.opts...).Run(t.Context()); err == nil {
				t.Error("Run with an invalid configuration succeeded")
			}
		})
	}
}

func TestRunStopsWithContext(t *testing.T) {
	t.Parallel()
	api := newFakeSQS()
	fn := invokerFunc(func(context.Context, []byte) ([]byte, error) { return nil, nil })
	p := pump.New(api, "u", testARN, []pump.Invoker{fn, fn, fn})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestManyWorkersShareTheQueue(t *testing.T) {
	t.Parallel()
	var bodies []string
	for i := range 45 {
		bodies = append(bodies, fmt.Sprint(i))
	}
	api := newFakeSQS(bodies...)
	var fns []pump.Invoker
	for range 3 {
		fns = append(fns, invokerFunc(func(context.Context, []byte) ([]byte, error) {
			time.Sleep(5 * time.Millisecond)
			return nil, nil
		}))
	}
	p := pump.New(api, "u", testARN, fns)
	drain(t, p)
	if got := sorted(api.deleted); !slices.Equal(got, sorted(bodies)) {
		t.Errorf("deleted %d messages, want %d", len(got), len(bodies))
	}
	if s := p.Stats(); s.Messages != 45 || s.Deleted != 45 || s.Batches < 5 {
		t.Errorf("Stats() = %+v, want 45 messages in at least 5 batches", s)
	}
}
