package handler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postmill/postmill/internal/publish"
)

type fakePublisher struct {
	mu      sync.Mutex
	calls   [][]publish.Change
	fail    map[string]bool // keys that fail transiently
	panicOn string          // a key whose presence panics
}

func (f *fakePublisher) Apply(_ context.Context, cs []publish.Change) publish.Result {
	f.mu.Lock()
	f.calls = append(f.calls, cs)
	f.mu.Unlock()
	var res publish.Result
	for _, c := range cs {
		if c.Key == f.panicOn {
			panic("boom on " + c.Key)
		}
		o := publish.Outcome{Key: c.Key, Status: "published"}
		if f.fail[c.Key] {
			o.Err = errors.New("503 SlowDown")
		} else {
			res.Written = append(res.Written, c.Key+".html")
		}
		res.Outcomes = append(res.Outcomes, o)
	}
	return res
}

type fakeCDN struct{ calls [][]string }

func (f *fakeCDN) Invalidate(_ context.Context, keys []string) error {
	f.calls = append(f.calls, keys)
	return nil
}

func msg(id, key string, receives int) events.SQSMessage {
	return events.SQSMessage{
		MessageId:  id,
		Body:       fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":%q}}}]}`, key),
		Attributes: map[string]string{"ApproximateReceiveCount": fmt.Sprint(receives)},
	}
}

func failedIDs(r events.SQSEventResponse) []string {
	var ids []string
	for _, f := range r.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	sort.Strings(ids)
	return ids
}

func TestHandleSQS(t *testing.T) {
	tests := []struct {
		name       string
		msgs       []events.SQSMessage
		fail       map[string]bool
		panicOn    string
		wantFailed []string
		wantCalls  int
	}{
		{
			name:      "a batch is one call to the engine",
			msgs:      []events.SQSMessage{msg("m1", "posts/a.md", 1), msg("m2", "posts/b.md", 1), msg("m3", "posts/my+post.md", 1)},
			wantCalls: 1,
		},
		{
			name:       "only the messages of failed keys are retried",
			msgs:       []events.SQSMessage{msg("m1", "posts/a.md", 1), msg("m2", "posts/b.md", 1)},
			fail:       map[string]bool{"posts/b.md": true},
			wantFailed: []string{"m2"},
			wantCalls:  1,
		},
		{
			name: "test events and garbage are acknowledged",
			msgs: []events.SQSMessage{
				{MessageId: "t", Body: `{"Service":"Amazon S3","Event":"s3:TestEvent"}`},
				{MessageId: "g", Body: `not json`},
			},
			wantCalls: 0,
		},
		{
			name:       "a panic fails only the key that panics",
			msgs:       []events.SQSMessage{msg("m1", "posts/a.md", 1), msg("m2", "posts/boom.md", 1)},
			panicOn:    "posts/boom.md",
			wantFailed: []string{"m2"},
			wantCalls:  3, // the batch, then each key alone
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{fail: tt.fail, panicOn: tt.panicOn}
			cdn := &fakeCDN{}
			h := New(pub, cdn, nil)
			resp, err := h.HandleSQS(context.Background(), events.SQSEvent{Records: tt.msgs})
			if err != nil {
				t.Fatal(err)
			}
			if got := failedIDs(resp); !slices.Equal(got, tt.wantFailed) {
				t.Errorf("failed = %v, want %v", got, tt.wantFailed)
			}
			if len(pub.calls) != tt.wantCalls {
				t.Errorf("engine called %d times, want %d", len(pub.calls), tt.wantCalls)
			}
			if tt.wantCalls > 0 && len(cdn.calls) != 1 {
				t.Errorf("invalidations = %d, want 1 per batch", len(cdn.calls))
			}
		})
	}
}

func TestRedeliveryIsCareful(t *testing.T) {
	pub := &fakePublisher{}
	h := New(pub, nil, nil)
	if _, err := h.HandleSQS(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg("m1", "posts/a.md", 1), msg("m2", "posts/b.md", 2)}}); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, c := range pub.calls[0] {
		got[c.Key] = c.Careful
	}
	if got["posts/a.md"] || !got["posts/b.md"] {
		t.Errorf("careful = %v; want only the redelivered key careful", got)
	}
}
