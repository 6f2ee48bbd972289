// Package publish brings the site in line with the source bucket. Given
// the keys that changed (an S3 event is only a hint), it reads the current
// source objects, updates the catalog's shards with conditional writes,
// and writes and deletes exactly the site files whose bytes changed.
//
// Correctness does not depend on event order, duplicates or concurrent
// runs: every decision is taken from current state, shared shards are
// written with If-Match and retried, derived files are checked against the
// state they came from after they are written, and a writer that dies
// midway leaves a pending list in the record that the next run repairs.
//
// It does not decode events, talk to SQS or log; the Lambda handler does.
package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/catalog"
	"github.com/postmill/postmill/internal/post"
	"github.com/postmill/postmill/internal/site"
)

// Bucket is what the engine needs of a bucket.
type Bucket interface {
	ReadAtMost(ctx context.Context, key string, max int64) ([]byte, blob.Attributes, error)
	Attributes(ctx context.Context, key string) (blob.Attributes, error)
	Write(ctx context.Context, key string, data []byte, opts *blob.WriteOptions) (blob.Attributes, error)
	Delete(ctx context.Context, key string, opts *blob.DeleteOptions) error
	List(ctx context.Context, prefix, token string, max int) (blob.ListPage, error)
}

// Defaults for Options.
const (
	DefaultStatePrefix = "_postmill/"
	DefaultPostsPrefix = "posts/"
	// Posts are text: the longest real one we know is 35 KiB. 256 KiB
	// bounds what goldmark may need (its AST costs ~250 bytes of heap per
	// byte of pathological input) well within a 128 MB function.
	DefaultMaxPostBytes = 256 << 10
	DefaultMaxAsset     = 20 << 20
	hashMeta            = "postmill-sha256"
	maxAttempts         = 8
	maxRechecks         = 64
)

// Options tune an Engine; zero values take the defaults.
type Options struct {
	StatePrefix   string // where the catalog lives in the source bucket
	PostsPrefix   string // where posts live in the source bucket
	MaxPostBytes  int64
	MaxAssetBytes int64
	Clock         func() time.Time
	// Concurrency bounds parallel listing updates within a batch.
	Concurrency int
	// Scheduler, when set, is asked to look at a post again when its
	// visibility changes by itself (publish date reached, expiry passed).
	Scheduler Scheduler
}

// Scheduler arranges for a key to be reconciled again at a moment.
type Scheduler interface {
	Set(ctx context.Context, key string, at time.Time) error
	Clear(ctx context.Context, key string) error
}

// Engine publishes changes from a source bucket to a site bucket.
type Engine struct {
	src, dst Bucket
	r        *site.Renderer
	opt      Options
}

// New returns an engine reading posts and keeping state in src and writing
// the site to dst.
func New(src, dst Bucket, r *site.Renderer, opt Options) *Engine {
	if opt.StatePrefix == "" {
		opt.StatePrefix = DefaultStatePrefix
	}
	if opt.PostsPrefix == "" {
		opt.PostsPrefix = DefaultPostsPrefix
	}
	if opt.MaxPostBytes == 0 {
		opt.MaxPostBytes = DefaultMaxPostBytes
	}
	if opt.MaxAssetBytes == 0 {
		opt.MaxAssetBytes = DefaultMaxAsset
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 8
	}
	return &Engine{src: src, dst: dst, r: r, opt: opt}
}

// Change is a hint that a source key may have changed.
type Change struct {
	Key string
	// Sequencer is the S3 event's sequencer, when it carried one.
	Sequencer string
	// Careful asks for a repair pass: every derived file is compared with
	// what is stored rather than with the previous state. Set it when a
	// message is delivered again, since an earlier attempt may have died.
	Careful bool
}

// Outcome is what became of one key.
type Outcome struct {
	Key string
	// Status is the record's status after the change ("published",
	// "draft", "scheduled", "expired", "deleted", "rejected"), "asset",
	// or "ignored" for keys outside the posts prefix.
	Status string
	// Path is the post's page path while it is published.
	Path string
	// Problems explain a rejection. A rejection is final: the message is
	// done, the post's previous version stays on the site.
	Problems []string
	// Err is set when the key could not be processed for a reason that may
	// pass (storage errors): the caller should retry it.
	Err error
}

// Result is the outcome of a batch.
type Result struct {
	Outcomes []Outcome
	// Written and Deleted are the site keys changed, sorted.
	Written, Deleted []string
}

// Failed returns the keys whose processing should be retried.
func (r Result) Failed() []string {
	var f []string
	for _, o := range r.Outcomes {
		if o.Err != nil {
			f = append(f, o.Key)
		}
	}
	return f
}

// transition is one post's move from its old record to its new one.
type transition struct {
	key     string
	careful bool
	old     *catalog.Record // before (never nil; Rev 0 when new)
	rec     *catalog.Record // after, as committed
	etag    string          // of rec in the state bucket
	places  []place
	deletes []string // site keys the old version owned and the new does not
}

type place struct{ listing, month string }

// recorder gathers the site changes of a batch.
type recorder struct {
	mu      sync.Mutex
	written map[string]bool
	deleted map[string]bool
}

func (rc *recorder) wrote(k string) {
	rc.mu.Lock()
	rc.written[k] = true
	delete(rc.deleted, k)
	rc.mu.Unlock()
}

func (rc *recorder) removed(k string) {
	rc.mu.Lock()
	rc.deleted[k] = true
	delete(rc.written, k)
	rc.mu.Unlock()
}

// Apply processes a batch of changes. Each key is reconciled with the
// current state of its source object; listings shared by several keys are
// updated once.
func (e *Engine) Apply(ctx context.Context, changes []Change) Result {
	rc := &recorder{written: map[string]bool{}, deleted: map[string]bool{}}
	byKey := map[string]*Change{}
	var keys []string
	for _, c := range changes {
		if prev, ok := byKey[c.Key]; ok {
			prev.Careful = prev.Careful || c.Careful
			if catalogSeqLess(prev.Sequencer, c.Sequencer) {
				prev.Sequencer = c.Sequencer
			}
			continue
		}
		c := c
		byKey[c.Key] = &c
		keys = append(keys, c.Key)
	}
	sort.Strings(keys)

	outcomes := map[string]*Outcome{}
	var trans []*transition
	var assets []string
	for _, k := range keys {
		c := byKey[k]
		o := &Outcome{Key: k}
		outcomes[k] = o
		switch {
		case !strings.HasPrefix(k, e.opt.PostsPrefix) || strings.HasPrefix(k, e.opt.StatePrefix):
			o.Status = "ignored"
		case strings.HasSuffix(strings.ToLower(k), ".md"):
			t, err := e.begin(ctx, c, o)
			if err != nil {
				o.Err = err
				continue
			}
			if t != nil {
				trans = append(trans, t)
			}
		default:
			o.Status = "asset"
			assets = append(assets, k)
		}
	}

	failed := e.applyListings(ctx, trans, rc)
	for _, t := range trans {
		o := outcomes[t.key]
		if err := failed[t.key]; err != nil {
			o.Err = err
			continue
		}
		if err := e.finish(ctx, t, rc); err != nil {
			o.Err = err
		}
	}
	for _, k := range assets {
		if err := e.applyAsset(ctx, k, byKey[k].Careful, rc); err != nil {
			outcomes[k].Err = err
		}
	}

	var res Result
	for _, k := range keys {
		res.Outcomes = append(res.Outcomes, *outcomes[k])
	}
	res.Written = sortedSet(rc.written)
	res.Deleted = sortedSet(rc.deleted)
	return res
}

func sortedSet(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// catalogSeqLess compares S3 sequencers: hex strings to be compared after
// padding to the same length.
func catalogSeqLess(a, b string) bool {
	if a == "" || b == "" {
		return a == "" && b != ""
	}
	n := max(len(a), len(b))
	a = strings.Repeat("0", n-len(a)) + strings.ToUpper(a)
	b = strings.Repeat("0", n-len(b)) + strings.ToUpper(b)
	return a < b
}

// state reads and writes catalog shards in the source bucket.
func (e *Engine) stateKey(name string) string { return e.opt.StatePrefix + name }

// maxStateBytes bounds any one shard: a head holds at most a feed's worth
// of posts, so this is far beyond what a valid one needs.
const maxStateBytes = 64 << 20

func (e *Engine) load(ctx context.Context, name string, v any) (etag string, err error) {
	data, attrs, err := e.src.ReadAtMost(ctx, e.stateKey(name), maxStateBytes)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return "", fmt.Errorf("decode state %s: %w", name, err)
	}
	return attrs.ETag, nil
}

// store writes a shard conditionally: over etag, or only if absent when
// etag is "".
func (e *Engine) store(ctx context.Context, name string, v any, etag string) (string, error) {
	data, err := encode(v)
	if err != nil {
		return "", err
	}
	opts := &blob.WriteOptions{ContentType: "application/json", IfMatch: etag, IfNotExist: etag == ""}
	a, err := e.src.Write(ctx, e.stateKey(name), data, opts)
	if err != nil {
		return "", err
	}
	return a.ETag, nil
}

// encode is deterministic: struct fields in order, no maps in state.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// backoff sleeps a little before retrying a lost conditional write.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(5+rand.IntN(20*(attempt+1))) * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

var errGaveUp = errors.New("gave up after repeated conflicting writes")

// begin decides a post's new record and commits it, together with the
// path claims it needs. It returns nil when nothing is to be done.
func (e *Engine) begin(ctx context.Context, c *Change, o *Outcome) (*transition, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		t, err := e.tryBegin(ctx, c, o)
		if errors.Is(err, blob.ErrPreconditionFailed) {
			if err := backoff(ctx, attempt); err != nil {
				return nil, err
			}
			continue
		}
		return t, err
	}
	return nil, fmt.Errorf("record %s: %w", c.Key, errGaveUp)
}

func (e *Engine) tryBegin(ctx context.Context, c *Change, o *Outcome) (*transition, error) {
	key := c.Key
	old := &catalog.Record{Key: key}
	etag, err := e.load(ctx, catalog.RecordName(key), old)
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("load record of %s: %w", key, err)
	}
	now := e.opt.Clock()

	src, attrs, err := e.src.ReadAtMost(ctx, key, e.opt.MaxPostBytes)
	rec := &catalog.Record{Key: key, Rev: old.Rev + 1, Sequencer: old.Sequencer}
	if catalogSeqLess(rec.Sequencer, c.Sequencer) {
		rec.Sequencer = c.Sequencer
	}
	switch {
	case errors.Is(err, blob.ErrNotFound):
		rec.Status = "deleted"
	case errors.Is(err, blob.ErrTooLarge):
		if attrs.Size == 0 {
			if a, err := e.src.Attributes(ctx, key); err == nil {
				attrs = a
			}
		}
		rec.SourceETag = attrs.ETag
		rec.Status = "rejected"
		rec.Problems = []string{fmt.Sprintf("%s:1: the file is %s; posts may be at most %s", key, FormatSize(attrs.Size), FormatSize(e.opt.MaxPostBytes))}
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", key, err)
	default:
		rec.SourceETag = attrs.ETag
	}

	// A duplicate or late hint for a version already reflected, with no
	// repair pending and no scheduled change due, needs no work. A
	// rejection is always looked at again: a path conflict can resolve
	// without the file changing.
	if old.Rev > 0 && !c.Careful && len(old.Pending) == 0 && len(old.Unsettled) == 0 && rec.Status != "rejected" && old.Status != "rejected" &&
		rec.SourceETag == old.SourceETag && (rec.Status == "deleted") == (old.Status == "deleted") &&
		(old.NextChange.IsZero() || old.NextChange.After(now)) {
		o.Status, o.Problems = old.Status, old.Problems
		if old.Entry != nil {
			o.Path = old.Entry.Path
		}
		return nil, nil
	}

	var p *post.Post
	if rec.Status == "" {
		p = e.decide(ctx, rec, src, attrs, now)
	}
	if rec.Status == "rejected" {
		// The version on the site stays: keep the old entry and outputs.
		rec.Entry, rec.Aliases, rec.Assets, rec.NextChange = old.Entry, old.Aliases, old.Assets, old.NextChange
	} else if rec.Entry != nil {
		if err := e.claim(ctx, rec, old); err != nil {
			var conflict *claimConflict
			if !errors.As(err, &conflict) {
				return nil, err
			}
			rec.Status = "rejected"
			line := 1
			if p != nil && conflict.path == rec.Entry.Path {
				line = max(p.PathLine, 1)
			} else if p != nil {
				line = max(p.AliasLine, 1)
			}
			rec.Problems = []string{fmt.Sprintf("%s:%d: %s", key, line, conflict.Error())}
			rec.Entry, rec.Aliases, rec.Assets, rec.NextChange = old.Entry, old.Aliases, old.Assets, old.NextChange
		}
	}
	var loose []string
	if rec.Entry != nil && post.IsBundle(key) {
		assets, err := e.listAssets(ctx, key)
		if err != nil {
			return nil, err
		}
		rec.Assets = assets
		if old.Entry == nil {
			// Files processed before this page was would have been
			// published at their own keys, as loose files.
			for _, a := range assets {
				loose = append(loose, path.Dir(key)+"/"+a)
			}
		}
	}

	t := &transition{key: key, careful: c.Careful || len(old.Pending) > 0, old: old, rec: rec}
	t.places = mergePlaces(pendingPlaces(old), entryPlaces(old.Entry), entryPlaces(rec.Entry))
	t.deletes = e.orphans(old, rec)
	rec.Pending = placeNames(t.places)
	// Keys an unfinished earlier version was to delete that this one owns
	// again are not deleted.
	rec.PendingDeletes = without(mergeStrings(old.PendingDeletes, t.deletes, loose), e.ownedKeys(rec))
	t.deletes = rec.PendingDeletes
	rec.Vacated, rec.Unsettled = old.Vacated, old.Unsettled
	if o := old.Entry; o != nil && (rec.Entry == nil || !rec.Entry.Published.Equal(o.Published)) {
		rec.Vacated = mergeTimes(old.Vacated, o.Published)
	}

	newTag, err := e.store(ctx, catalog.RecordName(key), rec, etag)
	if err != nil {
		return nil, fmt.Errorf("store record of %s: %w", key, err)
	}
	t.etag = newTag
	if err := e.releaseClaims(ctx, old, rec); err != nil {
		return nil, err
	}
	o.Status, o.Problems = rec.Status, rec.Problems
	if rec.Entry != nil {
		o.Path = rec.Entry.Path
	}
	return t, nil
}

// decide parses and compiles the source into rec's status and entry. It
// returns the post when the source parsed.
func (e *Engine) decide(ctx context.Context, rec *catalog.Record, src []byte, attrs blob.Attributes, now time.Time) *post.Post {
	cfg := e.r.Config()
	p, err := post.Parse(rec.Key, src, post.Options{Location: cfg.Location, Permalink: cfg.Permalink, ModTime: attrs.ModTime})
	if err == nil {
		var entry *catalog.Entry
		if v := p.VisibleAt(now); !v.Published {
			rec.Status = v.Reason
		} else if entry, err = e.r.Compile(p, rec.Rev); err == nil {
			rec.Status, rec.Entry, rec.Aliases = "published", entry, p.Aliases
		}
		rec.NextChange = p.NextChange(now)
	}
	if err != nil {
		rec.Status = "rejected"
		var pe *post.Error
		if errors.As(err, &pe) {
			rec.Problems = pe.Lines()
		} else {
			rec.Problems = []string{rec.Key + ":1: " + err.Error()}
		}
	}
	return p
}

// FormatSize writes a byte count the way rejections do ("4.0 MiB").
func FormatSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func entryPlaces(e *catalog.Entry) []place {
	if e == nil {
		return nil
	}
	var ps []place
	for _, l := range e.Listings() {
		ps = append(ps, place{l, e.Month})
	}
	return ps
}

// Pending places are stored as "listing@month".
func pendingPlaces(r *catalog.Record) []place {
	var ps []place
	for _, s := range r.Pending {
		l, m, ok := strings.Cut(s, "@")
		if ok {
			ps = append(ps, place{l, m})
		}
	}
	return ps
}

func placeNames(ps []place) []string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.listing + "@" + p.month
	}
	return s
}

func mergePlaces(lists ...[]place) []place {
	seen := map[place]bool{}
	var out []place
	for _, l := range lists {
		for _, p := range l {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].listing != out[j].listing {
			return out[i].listing < out[j].listing
		}
		return out[i].month < out[j].month
	})
	return out
}

func mergeStrings(lists ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// without returns the strings of list not in drop.
func without(list, drop []string) []string {
	skip := map[string]bool{}
	for _, s := range drop {
		skip[s] = true
	}
	var out []string
	for _, s := range list {
		if !skip[s] {
			out = append(out, s)
		}
	}
	return out
}

func mergeTimes(ts []time.Time, t time.Time) []time.Time {
	for _, x := range ts {
		if x.Equal(t) {
			return ts
		}
	}
	out := append(append([]time.Time(nil), ts...), t)
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// ownedKeys lists the site keys a record's post owns: page, aliases,
// assets.
func (e *Engine) ownedKeys(r *catalog.Record) []string {
	if r == nil || r.Entry == nil {
		return nil
	}
	var keys []string
	for _, p := range r.Paths() {
		keys = append(keys, fileKey(p))
	}
	for _, a := range r.Assets {
		keys = append(keys, site.AssetKey(r.Entry.Path, a))
	}
	return keys
}

// orphans are the keys old owns and rec does not.
func (e *Engine) orphans(old, rec *catalog.Record) []string {
	keep := map[string]bool{}
	for _, k := range e.ownedKeys(rec) {
		keep[k] = true
	}
	var out []string
	for _, k := range e.ownedKeys(old) {
		if !keep[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (e *Engine) listAssets(ctx context.Context, key string) ([]string, error) {
	dir := path.Dir(key) + "/"
	objs, err := blob.ListAll(ctx, e.src, dir)
	if err != nil {
		return nil, fmt.Errorf("list bundle %s: %w", dir, err)
	}
	var out []string
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, dir)
		if o.Key == key || strings.HasSuffix(strings.ToLower(o.Key), ".md") || !assetAllowed(rel) {
			continue
		}
		out = append(out, rel)
	}
	return out, nil
}

// assetAllowed keeps a bundle's files from landing over pages or feeds.
func assetAllowed(rel string) bool {
	base := strings.ToLower(path.Base(rel))
	switch base {
	case "index.html", "index.htm", "index.xml", "index.json":
		return false
	}
	for _, seg := range strings.Split(rel, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, ".") {
			return false
		}
	}
	return true
}
