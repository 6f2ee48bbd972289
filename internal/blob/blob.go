// Package blob is the storage vocabulary shared by postmill's object-store
// adapters: the Bucket interface they implement, the attributes of an
// object, the options of a conditional write, and the three sentinel errors
// every adapter classifies its failures into.
//
// It holds no storage of its own. The S3 adapter lives in package s3store,
// an in-memory one in package memblob, and package blobtest holds the
// conformance suite both must pass. Consumers should not depend on Bucket
// as a whole: each declares the narrower interface it uses (a renderer that
// only reads declares a one-method interface with Read), and any adapter
// satisfies it.
package blob

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The errors adapters classify failures into; test for them with
// errors.Is. Any other failure is returned wrapped, unclassified.
var (
	// ErrNotFound means the object, or the bucket holding it, does not
	// exist.
	ErrNotFound = errors.New("not found")

	// ErrPreconditionFailed means a conditional write or delete lost: the
	// object's ETag no longer matched WriteOptions.IfMatch, or an object
	// already existed under WriteOptions.IfNotExist. S3 reports this as
	// 412 PreconditionFailed, or as 409 ConditionalRequestConflict when
	// another conditional request on the key was in flight. Either way
	// the caller should re-read and retry.
	ErrPreconditionFailed = errors.New("precondition failed")

	// ErrTooLarge means ReadAtMost found an object bigger than its limit.
	ErrTooLarge = errors.New("object too large")
)

// Attributes describes a stored object.
type Attributes struct {
	Key  string
	Size int64

	// ETag is the entity tag as S3 returns it, surrounded by double
	// quotes. It is what WriteOptions.IfMatch and DeleteOptions.IfMatch
	// compare against.
	ETag string

	ContentType  string
	CacheControl string

	// Metadata is the object's user metadata, keys in lower case: S3
	// does not preserve their case, so neither does any adapter. It is
	// nil when the object has none.
	Metadata map[string]string

	// ModTime is when the object was last written, to the second, as
	// S3's Last-Modified header has it.
	ModTime time.Time

	// VersionID is empty unless the bucket is versioned.
	VersionID string
}

// DefaultContentType is the content type of an object written without
// one, as S3 stores it for SDK uploads.
const DefaultContentType = "application/octet-stream"

// WriteOptions controls Bucket.Write. A nil *WriteOptions is an
// unconditional write with the default content type, no cache control and
// no metadata.
type WriteOptions struct {
	// ContentType is DefaultContentType if empty.
	ContentType  string
	CacheControl string

	// Metadata is stored as user metadata; keys are lower-cased.
	Metadata map[string]string

	// IfMatch makes the write conditional: it succeeds only if the
	// object exists and its current ETag equals IfMatch. A mismatch is
	// ErrPreconditionFailed; a missing object is ErrNotFound.
	IfMatch string

	// IfNotExist makes the write succeed only if no object exists under
	// the key (S3's If-None-Match: *); otherwise it is
	// ErrPreconditionFailed.
	IfNotExist bool
}

// Validate reports whether the options can be honoured. IfMatch and
// IfNotExist together can never both hold, so asking for both is a
// programming error rather than a lost race.
func (o *WriteOptions) Validate() error {
	if o != nil && o.IfMatch != "" && o.IfNotExist {
		return errors.New("write options: IfMatch and IfNotExist are mutually exclusive")
	}
	return nil
}

// DeleteOptions controls Bucket.Delete. A nil *DeleteOptions is an
// unconditional delete.
type DeleteOptions struct {
	// IfMatch makes the delete conditional on the object's current ETag.
	// A mismatch is ErrPreconditionFailed; a missing object is still not
	// an error.
	IfMatch string
}

// ListPage is one page of a listing.
type ListPage struct {
	// Objects are in lexicographic (byte) order of Key. Each has at least
	// Key, Size, ETag and ModTime set.
	Objects []Attributes

	// NextToken, when not empty, is passed back to List to get the next
	// page. It is opaque: adapters choose what it holds.
	NextToken string
}

// Bucket is a flat namespace of objects. Adapters implement all of it;
// consumers declare the few methods they use.
type Bucket interface {
	// Read returns the whole object and its attributes.
	Read(ctx context.Context, key string) ([]byte, Attributes, error)

	// ReadAtMost is Read for objects that may be hostile or huge: it
	// returns ErrTooLarge, without reading the body past max bytes, when
	// the object is bigger than max.
	ReadAtMost(ctx context.Context, key string, max int64) ([]byte, Attributes, error)

	// Attributes returns the object's attributes without its content.
	Attributes(ctx context.Context, key string) (Attributes, error)

	// Write stores data under key, replacing any object there, and
	// returns the new object's attributes: at least Key, Size and ETag.
	Write(ctx context.Context, key string, data []byte, opts *WriteOptions) (Attributes, error)

	// Delete removes the object. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string, opts *DeleteOptions) error

	// List returns up to max objects whose keys start with prefix, in
	// lexicographic key order, starting after the page that returned
	// token ("" for the first page). max <= 0 means the adapter's
	// default page size (1000, as S3's).
	List(ctx context.Context, prefix, token string, max int) (ListPage, error)
}

// Lister is the part of a Bucket that ListAll needs.
type Lister interface {
	List(ctx context.Context, prefix, token string, max int) (ListPage, error)
}

// ListAll pages through every object whose key starts with prefix and
// returns them in key order.
func ListAll(ctx context.Context, b Lister, prefix string) ([]Attributes, error) {
	var all []Attributes
	token := ""
	for {
		page, err := b.List(ctx, prefix, token, 0)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Objects...)
		if page.NextToken == "" {
			return all, nil
		}
		if page.NextToken == token {
			// A store that hands back the token it was given would
			// otherwise keep us here forever.
			return nil, fmt.Errorf("list %q: continuation token %q repeated", prefix, token)
		}
		token = page.NextToken
	}
}
