// Package memblob is an in-memory blob.Bucket for tests and local runs.
//
// It is a real implementation, not a stub: it is safe for concurrent use,
// lists in key order with working continuation tokens, and honours
// conditional writes and deletes the way S3 does, down to returning
// blob.ErrNotFound for an IfMatch write to a missing key. It passes the
// same blobtest conformance suite as the S3 adapter. It is not durable and
// not meant for production data.
package memblob

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/postmill/postmill/internal/blob"
)

// defaultPageSize is S3's ListObjectsV2 default and maximum.
const defaultPageSize = 1000

// Option configures a Bucket.
type Option func(*Bucket)

// WithClock sets the clock that stamps ModTime on writes. The default is
// time.Now; tests that compare attributes inject a fixed one.
func WithClock(now func() time.Time) Option {
	return func(b *Bucket) { b.now = now }
}

// Bucket is an in-memory blob.Bucket. The zero value is not usable; call
// New.
type Bucket struct {
	now func() time.Time

	mu      sync.Mutex
	objects map[string]*object
}

type object struct {
	data  []byte
	attrs blob.Attributes
}

var _ blob.Bucket = (*Bucket)(nil)

// New returns an empty Bucket.
func New(opts ...Option) *Bucket {
	b := &Bucket{now: time.Now, objects: make(map[string]*object)}
	for _, opt := range opts {
		opt(b)
	}
	return b
}

// Read implements blob.Bucket.
func (b *Bucket) Read(ctx context.Context, key string) ([]byte, blob.Attributes, error) {
	return b.read(ctx, key, -1)
}

// ReadAtMost implements blob.Bucket.
func (b *Bucket) ReadAtMost(ctx context.Context, key string, max int64) ([]byte, blob.Attributes, error) {
	if max < 0 {
		return nil, blob.Attributes{}, fmt.Errorf("get %q: negative limit %d", key, max)
	}
	return b.read(ctx, key, max)
}

// read returns a copy of the object, or ErrTooLarge if max >= 0 and the
// object is bigger.
func (b *Bucket) read(ctx context.Context, key string, max int64) ([]byte, blob.Attributes, error) {
	if err := ctx.Err(); err != nil {
		return nil, blob.Attributes{}, fmt.Errorf("get %q: %w", key, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[key]
	if !ok {
		return nil, blob.Attributes{}, fmt.Errorf("get %q: %w", key, blob.ErrNotFound)
	}
	if max >= 0 && o.attrs.Size > max {
		return nil, blob.Attributes{}, fmt.Errorf("get %q: %w: %d bytes, limit %d", key, blob.ErrTooLarge, o.attrs.Size, max)
	}
	return slices.Clone(o.data), cloneAttrs(o.attrs), nil
}

// Attributes implements blob.Bucket.
func (b *Bucket) Attributes(ctx context.Context, key string) (blob.Attributes, error) {
	if err := ctx.Err(); err != nil {
		return blob.Attributes{}, fmt.Errorf("head %q: %w", key, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[key]
	if !ok {
		return blob.Attributes{}, fmt.Errorf("head %q: %w", key, blob.ErrNotFound)
	}
	return cloneAttrs(o.attrs), nil
}

// Write implements blob.Bucket.
func (b *Bucket) Write(ctx context.Context, key string, data []byte, opts *blob.WriteOptions) (blob.Attributes, error) {
	if err := opts.Validate(); err != nil {
		return blob.Attributes{}, fmt.Errorf("put %q: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return blob.Attributes{}, fmt.Errorf("put %q: %w", key, err)
	}
	if opts == nil {
		opts = &blob.WriteOptions{}
	}
	sum := md5.Sum(data)
	attrs := blob.Attributes{
		Key:          key,
		Size:         int64(len(data)),
		ETag:         `"` + hex.EncodeToString(sum[:]) + `"`,
		ContentType:  opts.ContentType,
		CacheControl: opts.CacheControl,
		Metadata:     lowerKeys(opts.Metadata),
		// S3's Last-Modified has whole seconds; so does this, so that
		// code comparing times behaves here as it will against S3.
		ModTime: b.now().UTC().Truncate(time.Second),
	}
	if attrs.ContentType == "" {
		attrs.ContentType = blob.DefaultContentType
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	old, exists := b.objects[key]
	switch {
	case opts.IfNotExist && exists:
		return blob.Attributes{}, fmt.Errorf("put %q: %w", key, blob.ErrPreconditionFailed)
	case opts.IfMatch != "" && !exists:
		return blob.Attributes{}, fmt.Errorf("put %q: %w", key, blob.ErrNotFound)
	case opts.IfMatch != "" && !etagEqual(opts.IfMatch, old.attrs.ETag):
		return blob.Attributes{}, fmt.Errorf("put %q: %w", key, blob.ErrPreconditionFailed)
	}
	b.objects[key] = &object{data: slices.Clone(data), attrs: attrs}
	return cloneAttrs(attrs), nil
}

// Delete implements blob.Bucket.
func (b *Bucket) Delete(ctx context.Context, key string, opts *blob.DeleteOptions) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	o, exists := b.objects[key]
	if !exists {
		return nil
	}
	if opts != nil && opts.IfMatch != "" && !etagEqual(opts.IfMatch, o.attrs.ETag) {
		return fmt.Errorf("delete %q: %w", key, blob.ErrPreconditionFailed)
	}
	delete(b.objects, key)
	return nil
}

// List implements blob.Bucket. The continuation token is the last key of
// the previous page, so a page resumes correctly even if keys were added
// or removed in between, as S3's does.
func (b *Bucket) List(ctx context.Context, prefix, token string, max int) (blob.ListPage, error) {
	if err := ctx.Err(); err != nil {
		return blob.ListPage{}, fmt.Errorf("list %q: %w", prefix, err)
	}
	if max <= 0 || max > defaultPageSize {
		max = defaultPageSize
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var keys []string
	for k := range b.objects {
		if strings.HasPrefix(k, prefix) && (token == "" || k > token) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)

	var page blob.ListPage
	if len(keys) > max {
		keys = keys[:max]
		page.NextToken = keys[max-1]
	}
	page.Objects = make([]blob.Attributes, 0, len(keys))
	for _, k := range keys {
		page.Objects = append(page.Objects, cloneAttrs(b.objects[k].attrs))
	}
	return page, nil
}

// etagEqual compares ETags the way S3 does, ignoring surrounding quotes,
// so that callers passing an ETag they unquoted still match.
func etagEqual(a, b string) bool {
	return strings.Trim(a, `"`) == strings.Trim(b, `"`)
}

func lowerKeys(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// cloneAttrs copies the metadata map so callers cannot change what is
// stored.
func cloneAttrs(a blob.Attributes) blob.Attributes {
	a.Metadata = maps.Clone(a.Metadata)
	return a
}
