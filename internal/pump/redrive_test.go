package pump_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postmill/postmill/internal/awstest"
	"github.com/postmill/postmill/internal/pump"
)

// TestRedriveAgainstEmulator moves a dead-letter queue's messages, with
// their attributes, back to the source queue and leaves the DLQ empty.
func TestRedriveAgainstEmulator(t *testing.T) {
	t.Parallel()
	client := awstest.SQS(t)
	ctx := t.Context()
	dlq := newQueue(t, client, "redrive-dlq", nil)
	q := newQueue(t, client, "redrive", nil)
	var want []string
	for i := range 13 { // more than one receive's worth
		body := fmt.Sprintf("event-%02d", i)
		want = append(want, body)
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(dlq.url), MessageBody: aws.String(body),
			MessageAttributes: map[string]types.MessageAttributeValue{
				"origin": {DataType: aws.String("String"), StringValue: aws.String("test " + body)},
			},
		}); err != nil {
			t.Fatal(err)
		}
	}

	n, err := pump.Redrive(ctx, client, dlq.url, q.url)
	if err != nil {
		t.Fatalf("Redrive: %v", err)
	}
	if n != len(want) {
		t.Errorf("moved %d messages, want %d", n, len(want))
	}
	if n := countMessages(t, client, dlq.url); n != 0 {
		t.Errorf("%d messages left in the dead-letter queue", n)
	}
	var got []string
	for len(got) < len(want) {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(q.url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			body := aws.ToString(m.Body)
			got = append(got, body)
			if a := m.MessageAttributes["origin"]; aws.ToString(a.StringValue) != "test "+body {
				t.Errorf("%s lost its attribute: %+v", body, m.MessageAttributes)
			}
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the queue holds %q, want %q", got, want)
	}
}

// redriveFake is a dead-letter queue and a queue in memory, whose sends
// or deletes fail for chosen bodies.
type redriveFake struct {
	mu                   sync.Mutex
	dlq, queue           []string
	hidden               map[string]bool
	failSend, failDelete string
}

func (f *redriveFake) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &sqs.ReceiveMessageOutput{}
	for _, b := range f.dlq {
		if len(out.Messages) < int(in.MaxNumberOfMessages) && !f.hidden[b] {
			f.hidden[b] = true
			out.Messages = append(out.Messages, types.Message{MessageId: aws.String("id-" + b), Body: aws.String(b), ReceiptHandle: aws.String(b)})
		}
	}
	return out, nil
}

func (f *redriveFake) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if aws.ToString(in.MessageBody) == f.failSend {
		return nil, errors.New("send refused")
	}
	f.queue = append(f.queue, aws.ToString(in.MessageBody))
	return &sqs.SendMessageOutput{}, nil
}

func (f *redriveFake) DeleteMessage(_ context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := aws.ToString(in.ReceiptHandle)
	if h == f.failDelete {
		return nil, errors.New("delete refused")
	}
	f.dlq = slices.DeleteFunc(f.dlq, func(b string) bool { return b == h })
	return &sqs.DeleteMessageOutput{}, nil
}

// TestRedriveNeverLosesAMessage checks a message is deleted from the
// dead-letter queue only once it is in the queue.
func TestRedriveNeverLosesAMessage(t *testing.T) {
	t.Run("send fails", func(t *testing.T) {
		f := &redriveFake{dlq: []string{"a", "b", "c"}, hidden: map[string]bool{}, failSend: "b"}
		n, err := pump.Redrive(t.Context(), f, "dlq", "q")
		if err == nil || !strings.Contains(err.Error(), "send refused") {
			t.Errorf("err = %v, want the send's", err)
		}
		if n != 1 || !slices.Equal(f.queue, []string{"a"}) || !slices.Equal(f.dlq, []string{"b", "c"}) {
			t.Errorf("moved %d; queue %q, dlq %q; want a moved, b and c left", n, f.queue, f.dlq)
		}
	})
	t.Run("delete fails", func(t *testing.T) {
		f := &redriveFake{dlq: []string{"a", "b"}, hidden: map[string]bool{}, failDelete: "a"}
		n, err := pump.Redrive(t.Context(), f, "dlq", "q")
		if err == nil || !strings.Contains(err.Error(), "still in dlq") {
			t.Errorf("err = %v, want one saying the message is in both queues", err)
		}
		if n != 1 || !slices.Equal(f.queue, []string{"a"}) || !slices.Equal(f.dlq, []string{"a", "b"}) {
			t.Errorf("moved %d; queue %q, dlq %q; want a in both", n, f.queue, f.dlq)
		}
	})
	t.Run("all moved", func(t *testing.T) {
		var dlq []string
		for i := range 25 {
			dlq = append(dlq, fmt.Sprint(i))
		}
		f := &redriveFake{dlq: slices.Clone(dlq), hidden: map[string]bool{}}
		n, err := pump.Redrive(t.Context(), f, "dlq", "q")
		if err != nil || n != 25 || len(f.dlq) != 0 || !slices.Equal(f.queue, dlq) {
			t.Errorf("moved %d, err %v; queue %q, dlq %q", n, err, f.queue, f.dlq)
		}
	})
}
