// Package s3store is the Amazon S3 adapter for blob.Bucket.
//
// It turns Bucket calls into single S3 requests and classifies S3's
// failures into the blob sentinels, once, here: a missing object or bucket
// becomes blob.ErrNotFound, a lost conditional write blob.ErrPreconditionFailed.
// Every other failure is returned wrapped with the operation and the key,
// the SDK error still reachable with errors.As.
//
// It neither builds nor configures the S3 client: the caller passes one in,
// already set up with credentials, region and retries, so this package
// reads no environment and no AWS config files.
package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/postmill/postmill/internal/blob"
)

// API is the part of the S3 client the adapter uses, with the SDK's exact
// signatures, so that *s3.Client satisfies it and tests can fake it.
type API interface {
	GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(ctx context.Context, params *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, params *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	ListObjectsV2(ctx context.Context, params *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ API = (*s3.Client)(nil)

// Option configures a Bucket.
type Option func(*Bucket)

// WithClientOptions adds SDK option functions applied to every request the
// Bucket makes, for per-request settings such as a different retryer or
// extra middleware, without building a second client.
func WithClientOptions(fns ...func(*s3.Options)) Option {
	return func(b *Bucket) { b.clientOpts = append(b.clientOpts, fns...) }
}

// Bucket is a blob.Bucket backed by one S3 bucket. It is safe for
// concurrent use if the client is, as *s3.Client is.
type Bucket struct {
	client     API
	bucket     string
	clientOpts []func(*s3.Options)
}

var _ blob.Bucket = (*Bucket)(nil)

// New returns a Bucket for the S3 bucket named bucket, reached through
// client.
func New(client API, bucket string, opts ...Option) *Bucket {
	b := &Bucket{client: client, bucket: bucket}
	for _, opt := range opts {
		opt(b)
	}
	return b
}

// Read implements blob.Bucket.
func (b *Bucket) Read(ctx context.Context, key string) ([]byte, blob.Attributes, error) {
	return b.read(ctx, key, -1)
}

// ReadAtMost implements blob.Bucket. It trusts neither side alone: it
// refuses up front when S3 announces a length over max, and it reads at
// most max+1 bytes in case the announced length was missing or wrong.
func (b *Bucket) ReadAtMost(ctx context.Context, key string, max int64) ([]byte, blob.Attributes, error) {
	if max < 0 {
		return nil, blob.Attributes{}, fmt.Errorf("get %q: negative limit %d", key, max)
	}
	return b.read(ctx, key, max)
}

func (b *Bucket) read(ctx context.Context, key string, max int64) ([]byte, blob.Attributes, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(key),
	}, b.clientOpts...)
	if err != nil {
		return nil, blob.Attributes{}, wrap("get", key, err)
	}
	defer out.Body.Close()
	size := aws.ToInt64(out.ContentLength)
	if max >= 0 && size > max {
		return nil, blob.Attributes{}, fmt.Errorf("get %q: %w: %d bytes, limit %d", key, blob.ErrTooLarge, size, max)
	}

	var r io.Reader = out.Body
	if max >= 0 {
		r = io.LimitReader(out.Body, max+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, blob.Attributes{}, fmt.Errorf("get %q: reading body: %w", key, err)
	}
	if max >= 0 && int64(len(data)) > max {
		return nil, blob.Attributes{}, fmt.Errorf("get %q: %w: more than %d bytes", key, blob.ErrTooLarge, max)
	}
	return data, blob.Attributes{
		Key:          key,
		Size:         int64(len(data)),
		ETag:         aws.ToString(out.ETag),
		ContentType:  aws.ToString(out.ContentType),
		CacheControl: aws.ToString(out.CacheControl),
		Metadata:     lowerKeys(out.Metadata),
		ModTime:      aws.ToTime(out.LastModified),
		VersionID:    aws.ToString(out.VersionId),
	}, nil
}

// Attributes implements blob.Bucket with a HEAD request.
func (b *Bucket) Attributes(ctx context.Context, key string) (blob.Attributes, error) {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(key),
	}, b.clientOpts...)
	if err != nil {
		return blob.Attributes{}, wrap("head", key, err)
	}
	return blob.Attributes{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		ETag:         aws.ToString(out.ETag),
		ContentType:  aws.ToString(out.ContentType),
		CacheControl: aws.ToString(out.CacheControl),
		Metadata:     lowerKeys(out.Metadata),
		ModTime:      aws.ToTime(out.LastModified),
		VersionID:    aws.ToString(out.VersionId),
	}, nil
}

// Write implements blob.Bucket with a single PutObject. S3 does not
// return the stored object's content type, cache control or modification
// time, so the attributes returned are the ones sent, with the ETag and
// version S3 assigned and no ModTime.
func (b *Bucket) Write(ctx context.Context, key string, data []byte, opts *blob.WriteOptions) (blob.Attributes, error) {
	if err := opts.Validate(); err != nil {
		return blob.Attributes{}, fmt.Errorf("put %q: %w", key, err)
	}
	if opts == nil {
		opts = &blob.WriteOptions{}
	}
	contentType := opts.ContentType
	if contentType == "" {
		// The SDK would send this default anyway; saying so keeps the
		// returned attributes true without relying on it.
		contentType = blob.DefaultContentType
	}
	in := &s3.PutObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(key),
		// A seekable body lets the SDK rewind it to retry.
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String(contentType),
		Metadata:      lowerKeys(opts.Metadata),
	}
	if opts.CacheControl != "" {
		in.CacheControl = aws.String(opts.CacheControl)
	}
	if opts.IfMatch != "" {
		in.IfMatch = aws.String(opts.IfMatch)
	}
	if opts.IfNotExist {
		in.IfNoneMatch = aws.String("*")
	}
	out, err := b.client.PutObject(ctx, in, b.clientOpts...)
	if err != nil {
		return blob.Attributes{}, wrap("put", key, err)
	}
	return blob.Attributes{
		Key:          key,
		Size:         int64(len(data)),
		ETag:         aws.ToString(out.ETag),
		ContentType:  contentType,
		CacheControl: opts.CacheControl,
		Metadata:     lowerKeys(opts.Metadata),
		VersionID:    aws.ToString(out.VersionId),
	}, nil
}

// Delete implements blob.Bucket. S3 itself is inconsistent about a
// conditional delete of a missing key (some implementations answer 404),
// so a not-found answer is treated as success, as the interface promises.
func (b *Bucket) Delete(ctx context.Context, key string, opts *blob.DeleteOptions) error {
	in := &s3.DeleteObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(key),
	}
	if opts != nil && opts.IfMatch != "" {
		in.IfMatch = aws.String(opts.IfMatch)
	}
	_, err := b.client.DeleteObject(ctx, in, b.clientOpts...)
	if err != nil {
		err = wrap("delete", key, err)
		if errors.Is(err, blob.ErrNotFound) && !isNoSuchBucket(err) {
			return nil
		}
		return err
	}
	return nil
}

// List implements blob.Bucket with one ListObjectsV2 request. The token is
// S3's continuation token.
func (b *Bucket) List(ctx context.Context, prefix, token string, max int) (blob.ListPage, error) {
	in := &s3.ListObjectsV2Input{
		Bucket: aws.String(b.bucket),
	}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if token != "" {
		in.ContinuationToken = aws.String(token)
	}
	if max > 0 {
		in.MaxKeys = aws.Int32(int32(min(max, 1000)))
	}
	out, err := b.client.ListObjectsV2(ctx, in, b.clientOpts...)
	if err != nil {
		return blob.ListPage{}, wrap("list", prefix, err)
	}
	page := blob.ListPage{Objects: make([]blob.Attributes, 0, len(out.Contents))}
	for _, o := range out.Contents {
		page.Objects = append(page.Objects, blob.Attributes{
			Key:     aws.ToString(o.Key),
			Size:    aws.ToInt64(o.Size),
			ETag:    aws.ToString(o.ETag),
			ModTime: aws.ToTime(o.LastModified),
		})
	}
	if aws.ToBool(out.IsTruncated) {
		page.NextToken = aws.ToString(out.NextContinuationToken)
		if page.NextToken == "" {
			return blob.ListPage{}, fmt.Errorf("list %q: truncated page without a continuation token", prefix)
		}
	}
	return page, nil
}

// wrap classifies an S3 failure and wraps it once with the operation and
// the key (the prefix, for list). A classified error keeps the SDK error
// behind the sentinel, so errors.As still finds smithy.APIError.
func wrap(op, key string, err error) error {
	if kind := classify(err); kind != nil {
		return fmt.Errorf("%s %q: %w (%w)", op, key, kind, apiReason{err})
	}
	return fmt.Errorf("%s %q: %w", op, key, err)
}

// classify returns the blob sentinel err stands for, or nil. The error
// code is checked first because it is the most specific; the status code
// covers HEAD, whose error responses have no body and so no code.
func classify(err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NoSuchBucket", "NotFound":
			return blob.ErrNotFound
		case "PreconditionFailed", "ConditionalRequestConflict":
			return blob.ErrPreconditionFailed
		}
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		switch respErr.HTTPStatusCode() {
		case 404:
			return blob.ErrNotFound
		case 412:
			return blob.ErrPreconditionFailed
		}
	}
	return nil
}

func isNoSuchBucket(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchBucket"
}

// apiReason keeps the SDK error reachable through errors.As while
// printing only its S3 error code: the full SDK message repeats the
// operation and adds request ids, which the sentinel makes noise.
type apiReason struct{ err error }

func (r apiReason) Error() string {
	var apiErr smithy.APIError
	if errors.As(r.err, &apiErr) && apiErr.ErrorCode() != "" {
		return apiErr.ErrorCode()
	}
	var respErr *awshttp.ResponseError
	if errors.As(r.err, &respErr) {
		return fmt.Sprintf("HTTP %d", respErr.HTTPStatusCode())
	}
	return r.err.Error()
}

func (r apiReason) Unwrap() error { return r.err }

// lowerKeys lower-cases user metadata keys: S3 stores them
// case-insensitively and returns them in whatever case the transport
// produced.
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
