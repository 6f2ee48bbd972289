// Package handler is the Lambda side of postmill: it turns an SQS batch of
// S3 notifications into one call to the publishing engine, reports the
// messages to retry through a partial batch response, and asks the CDN to
// drop what changed.
//
// It decodes, logs and classifies; the publishing rules live in package
// publish. When a WebSub hub is configured it also pings the hub with the
// feeds a batch changed.
package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/s3event"
	"github.com/postmill/postmill/internal/schedule"
)

// Publisher applies a batch of changes.
type Publisher interface {
	Apply(ctx context.Context, changes []publish.Change) publish.Result
}

// Invalidator drops changed site keys from the CDN.
type Invalidator interface {
	Invalidate(ctx context.Context, keys []string) error
}

// Pinger tells a WebSub hub which feeds have new content.
type Pinger interface {
	Ping(ctx context.Context, feedURLs []string) error
}

// Handler handles SQS batches for the render function.
type Handler struct {
	pub     Publisher
	cdn     Invalidator // nil: no CDN to invalidate
	log     *slog.Logger
	meter   func() blob.Counts
	clock   func() time.Time
	pinger  Pinger                  // nil: no hub
	feedURL func(key string) string // a feed's site key → its absolute URL
}

// Option configures a Handler.
type Option func(*Handler)

// WithMeter makes every batch log the storage requests it made, read from
// meter before and after (a blob.Counter's Snapshot).
func WithMeter(meter func() blob.Counts) Option { return func(h *Handler) { h.meter = meter } }

// WithPinger makes every batch that wrote feeds ping a WebSub hub with
// their absolute URLs, which feedURL makes from site keys ("index.xml",
// "tags/go/index.json"); they must be the URLs the feeds give as
// rel="self", the topics subscribers know. A feed is a written key named
// index.xml or index.json. Deleted feeds are not pinged.
func WithPinger(p Pinger, feedURL func(key string) string) Option {
	return func(h *Handler) { h.pinger, h.feedURL = p, feedURL }
}

// New returns a handler. cdn may be nil.
func New(pub Publisher, cdn Invalidator, log *slog.Logger, opts ...Option) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{pub: pub, cdn: cdn, log: log, clock: time.Now}
	for _, o := range opts {
		o(h)
	}
	return h
}

// HandleSQS processes a batch. Messages whose keys failed for a reason
// that may pass are returned as batch item failures, so SQS delivers them
// again and, after the redrive count, parks them in the dead-letter queue.
// Everything else is acknowledged: a post that cannot be published is a
// result, recorded in its status, not an error.
func (h *Handler) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	keysOf := map[string][]string{} // message id → keys
	var changes []publish.Change
	for _, m := range ev.Records {
		recs, err := s3event.Parse(m.Body)
		switch {
		case errors.Is(err, s3event.ErrTestEvent):
			h.log.InfoContext(ctx, "acknowledged s3:TestEvent", "messageId", m.MessageId)
			continue
		case err != nil:
			h.log.ErrorContext(ctx, "acknowledged a message that is not an S3 notification", "messageId", m.MessageId, "reason", err.Error())
			continue
		}
		// A redelivery may follow a run that died midway; a scheduled
		// event may fire a little early. Either way, look carefully.
		careful := receiveCount(m) > 1
		for _, r := range recs {
			keysOf[m.MessageId] = append(keysOf[m.MessageId], r.Key)
			changes = append(changes, publish.Change{Key: r.Key, Sequencer: r.Sequencer, Careful: careful || r.EventName == schedule.EventName})
		}
	}
	if len(changes) == 0 {
		return events.SQSEventResponse{}, nil
	}

	start := h.clock()
	var before blob.Counts
	if h.meter != nil {
		before = h.meter()
	}
	res := h.apply(ctx, changes)
	h.logBatch(ctx, len(ev.Records), res, h.clock().Sub(start), before)
	failed := map[string]error{}
	for _, o := range res.Outcomes {
		h.logOutcome(ctx, o)
		if o.Err != nil {
			failed[o.Key] = o.Err
		}
	}
	if h.cdn != nil && len(res.Written)+len(res.Deleted) > 0 {
		keys := append(append([]string{}, res.Written...), res.Deleted...)
		if err := h.cdn.Invalidate(ctx, keys); err != nil {
			// The site is right; the CDN's short TTL on pages and feeds
			// bounds how long readers see the old version.
			h.log.ErrorContext(ctx, "invalidation failed", "keys", len(keys), "reason", err.Error())
		}
	}
	// After the invalidation, so the hub is more likely to fetch the new
	// feed than the CDN's copy.
	h.ping(ctx, res.Written)

	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		for _, k := range keysOf[m.MessageId] {
			if failed[k] != nil {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
				break
			}
		}
	}
	return resp, nil
}

// pingTimeout bounds a batch's pings, so that a hub that hangs cannot
// run the function into its timeout and have SQS deliver the batch again.
const pingTimeout = 10 * time.Second

// ping tells the hub about the feeds among written. A failure is logged,
// not retried: the feeds are right, and readers' next poll finds them.
func (h *Handler) ping(ctx context.Context, written []string) {
	if h.pinger == nil {
		return
	}
	var urls []string
	for _, k := range written {
		if base := path.Base(k); base == "index.xml" || base == "index.json" {
			urls = append(urls, h.feedURL(k))
		}
	}
	if len(urls) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := h.pinger.Ping(ctx, urls); err != nil {
		h.log.ErrorContext(ctx, "websub ping failed", "feeds", len(urls), "reason", err.Error())
		return
	}
	h.log.InfoContext(ctx, "websub ping", "feeds", len(urls))
}

// apply runs the batch, containing panics: if the batch panics, each key
// is retried alone, and a key that panics alone fails by itself.
func (h *Handler) apply(ctx context.Context, changes []publish.Change) (res publish.Result) {
	res, err := h.safeApply(ctx, changes)
	if err == nil {
		return res
	}
	h.log.ErrorContext(ctx, "batch panicked; retrying keys one by one", "reason", err.Error())
	res = publish.Result{}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Key < changes[j].Key })
	for _, c := range changes {
		r, err := h.safeApply(ctx, []publish.Change{c})
		if err != nil {
			r = publish.Result{Outcomes: []publish.Outcome{{Key: c.Key, Err: err}}}
		}
		res.Outcomes = append(res.Outcomes, r.Outcomes...)
		res.Written = append(res.Written, r.Written...)
		res.Deleted = append(res.Deleted, r.Deleted...)
	}
	return res
}

func (h *Handler) safeApply(ctx context.Context, changes []publish.Change) (res publish.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h.pub.Apply(ctx, changes), nil
}

func (h *Handler) logOutcome(ctx context.Context, o publish.Outcome) {
	switch {
	case o.Err != nil:
		h.log.ErrorContext(ctx, "will retry", "key", o.Key, "reason", o.Err.Error())
	case o.Status == "rejected":
		h.log.WarnContext(ctx, "rejected", "key", o.Key, "reason", strings.Join(o.Problems, "; "), "kept", o.Path)
	default:
		h.log.InfoContext(ctx, o.Status, "key", o.Key, "path", o.Path)
	}
}

// logBatch records what a batch did and cost, for dashboards and for the
// integration tests' measurements.
func (h *Handler) logBatch(ctx context.Context, messages int, res publish.Result, took time.Duration, before blob.Counts) {
	attrs := []any{"messages", messages, "keys", len(res.Outcomes), "written", len(res.Written), "deleted", len(res.Deleted), "ms", took.Milliseconds()}
	if h.meter != nil {
		c := h.meter()
		attrs = append(attrs, "get", c.Get-before.Get, "head", c.Head-before.Head, "put", c.Put-before.Put,
			"delete", c.Delete-before.Delete, "list", c.List-before.List,
			"bytesRead", c.BytesRead-before.BytesRead, "bytesWritten", c.BytesWritten-before.BytesWritten)
	}
	h.log.InfoContext(ctx, "batch", attrs...)
}

func receiveCount(m events.SQSMessage) int {
	n, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	return n
}
