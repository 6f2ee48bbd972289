package pump_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postmill/postmill/internal/pump"
)

// fakeSQS is one in-memory queue with a redrive policy: a message received
// maxReceive times and still not deleted moves to dlq on the next receive,
// as in SQS. Messages become visible again visibility after a receive.
type fakeSQS struct {
	visibility time.Duration
	maxReceive int
	failDelete map[string]bool // bodies whose deletion fails

	mu       sync.Mutex
	messages []*fakeMessage
	dlq      []string // bodies
	deleted  []string // bodies
	inputs   []*sqs.ReceiveMessageInput
	seq      int
}

type fakeMessage struct {
	types.Message
	receives  int
	visibleAt time.Time
}

var _ pump.API = (*fakeSQS)(nil)

func newFakeSQS(bodies ...string) *fakeSQS {
	f := &fakeSQS{visibility: 10 * time.Millisecond, maxReceive: 2}
	for i, b := range bodies {
		f.messages = append(f.messages, &fakeMessage{Message: types.Message{
			MessageId: aws.String(fmt.Sprintf("id-%d", i)),
			Body:      aws.String(b),
			MD5OfBody: aws.String("md5-" + b),
		}})
	}
	return f
}

func (f *fakeSQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	deadline := time.Now().Add(20 * time.Millisecond) // a short long poll
	f.mu.Lock()
	f.inputs = append(f.inputs, in)
	f.mu.Unlock()
	for {
		if out := f.receive(int(in.MaxNumberOfMessages)); len(out) > 0 {
			return &sqs.ReceiveMessageOutput{Messages: out}, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return &sqs.ReceiveMessageOutput{}, nil
		}
	}
}

func (f *fakeSQS) receive(max int) []types.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	var out []types.Message
	var keep []*fakeMessage
	for _, m := range f.messages {
		switch {
		case now.Before(m.visibleAt) || len(out) == max:
			keep = append(keep, m)
		case m.receives >= f.maxReceive:
			f.dlq = append(f.dlq, aws.ToString(m.Body))
		default:
			m.receives++
			m.visibleAt = now.Add(f.visibility)
			f.seq++
			m.ReceiptHandle = aws.String("rh-" + strconv.Itoa(f.seq))
			m.Attributes = map[string]string{"ApproximateReceiveCount": strconv.Itoa(m.receives)}
			out = append(out, m.Message)
			keep = append(keep, m)
		}
	}
	f.messages = keep
	return out
}

func (f *fakeSQS) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &sqs.DeleteMessageBatchOutput{}
	for _, e := range in.Entries {
		i := f.find(aws.ToString(e.ReceiptHandle))
		if i < 0 || f.failDelete[aws.ToString(f.messages[i].Body)] {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{
				Id: e.Id, Code: aws.String("ReceiptHandleIsInvalid"), SenderFault: true,
			})
			continue
		}
		f.deleted = append(f.deleted, aws.ToString(f.messages[i].Body))
		f.messages = append(f.messages[:i], f.messages[i+1:]...)
		out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func (f *fakeSQS) find(receipt string) int {
	for i, m := range f.messages {
		if aws.ToString(m.ReceiptHandle) == receipt {
			return i
		}
	}
	return -1
}

func (f *fakeSQS) GetQueueAttributes(_ context.Context, _ *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	visible, hidden := 0, 0
	for _, m := range f.messages {
		if time.Now().Before(m.visibleAt) {
			hidden++
		} else {
			visible++
		}
	}
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(hidden),
		"ApproximateNumberOfMessagesDelayed":    "0",
	}}, nil
}

// invokerFunc adapts a function to pump.Invoker.
type invokerFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}
