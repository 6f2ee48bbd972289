package s3store_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/s3store"
)

// fakeS3 answers every call with err if set, otherwise with the canned
// output, and records what it was asked.
type fakeS3 struct {
	err     error
	getOut  *s3.GetObjectOutput
	headOut *s3.HeadObjectOutput
	putOut  *s3.PutObjectOutput
	listOut *s3.ListObjectsV2Output

	calls  int
	put    *s3.PutObjectInput
	del    *s3.DeleteObjectInput
	list   *s3.ListObjectsV2Input
	optFns int
}

func (f *fakeS3) record(optFns []func(*s3.Options)) {
	f.calls++
	f.optFns = len(optFns)
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.record(optFns)
	if f.err != nil {
		return nil, f.err
	}
	return f.getOut, nil
}

func (f *fakeS3) HeadObject(_ context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	f.record(optFns)
	if f.err != nil {
		return nil, f.err
	}
	return f.headOut, nil
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.record(optFns)
	f.put = in
	if f.err != nil {
		return nil, f.err
	}
	return f.putOut, nil
}

func (f *fakeS3) DeleteObject(_ context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	f.record(optFns)
	f.del = in
	if f.err != nil {
		return nil, f.err
	}
	return &s3.DeleteObjectOutput{}, nil
}

func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.record(optFns)
	f.list = in
	if f.err != nil {
		return nil, f.err
	}
	return f.listOut, nil
}

// sdkError builds an error shaped like the ones the SDK returns: an
// OperationError around an HTTP ResponseError around the API error. A
// zero status leaves out the HTTP layer; an empty code leaves out the
// API error, as for HEAD, whose error responses have no body.
func sdkError(op string, status int, code string) error {
	var err error = errors.New("response has no body")
	if code != "" {
		err = &smithy.GenericAPIError{Code: code, Message: code + " happened"}
	}
	if status != 0 {
		err = &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      err,
			},
			RequestID: "REQ123",
		}
	}
	return &smithy.OperationError{ServiceID: "S3", OperationName: op, Err: err}
}

func TestErrorClassification(t *testing.T) {
	const key = "posts/hello.md"
	tests := []struct {
		name string
		call string // which Bucket method to call
		err  error
		want error // the sentinel, or nil for unclassified
	}{
		{"NoSuchKey code is not found", "read", sdkError("GetObject", 0, "NoSuchKey"), blob.ErrNotFound},
		{"modeled NoSuchKey is not found", "read", &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: &types.NoSuchKey{}}, blob.ErrNotFound},
		{"NoSuchBucket is not found", "read", sdkError("GetObject", 404, "NoSuchBucket"), blob.ErrNotFound},
		{"HEAD 404 NotFound is not found", "head", sdkError("HeadObject", 404, "NotFound"), blob.ErrNotFound},
		{"bare 404 is not found", "head", sdkError("HeadObject", 404, ""), blob.ErrNotFound},
		{"412 is precondition failed", "write", sdkError("PutObject", 412, "PreconditionFailed"), blob.ErrPreconditionFailed},
		{"bare 412 is precondition failed", "write", sdkError("PutObject", 412, ""), blob.ErrPreconditionFailed},
		{"409 ConditionalRequestConflict is precondition failed", "write", sdkError("PutObject", 409, "ConditionalRequestConflict"), blob.ErrPreconditionFailed},
		{"delete 412 is precondition failed", "delete", sdkError("DeleteObject", 412, "PreconditionFailed"), blob.ErrPreconditionFailed},
		{"409 OperationAborted is unclassified", "write", sdkError("PutObject", 409, "OperationAborted"), nil},
		{"503 SlowDown is unclassified", "read", sdkError("GetObject", 503, "SlowDown"), nil},
		{"403 AccessDenied is unclassified", "head", sdkError("HeadObject", 403, "AccessDenied"), nil},
		{"network error is unclassified", "read", &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: errors.New("connection reset")}, nil},
		{"list NoSuchBucket is not found", "list", sdkError("ListObjectsV2", 404, "NoSuchBucket"), blob.ErrNotFound},
		{"delete NoSuchBucket is not found", "delete", sdkError("DeleteObject", 404, "NoSuchBucket"), blob.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := s3store.New(&fakeS3{err: tt.err}, "site")
			ctx := t.Context()
			var err error
			switch tt.call {
			case "read":
				_, _, err = b.Read(ctx, key)
			case "head":
				_, err = b.Attributes(ctx, key)
			case "write":
				_, err = b.Write(ctx, key, []byte("x"), &blob.WriteOptions{IfMatch: `"abc"`})
			case "delete":
				err = b.Delete(ctx, key, &blob.DeleteOptions{IfMatch: `"abc"`})
			case "list":
				_, err = b.List(ctx, key, "", 0)
			}
			if err == nil {
				t.Fatal("got no error")
			}
			for _, sentinel := range []error{blob.ErrNotFound, blob.ErrPreconditionFailed, blob.ErrTooLarge} {
				if got, want := errors.Is(err, sentinel), sentinel == tt.want; got != want {
					t.Errorf("errors.Is(%v, %v): got %t, want %t", err, sentinel, got, want)
				}
			}
			if !strings.Contains(err.Error(), `"`+key+`"`) {
				t.Errorf("error %q does not name the key", err)
			}
			// Classified or not, the SDK error stays reachable.
			var opErr *smithy.OperationError
			if !errors.As(err, &opErr) {
				t.Errorf("error %q does not wrap the SDK error", err)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"classified shows the code", sdkError("GetObject", 404, "NoSuchKey"), `get "a.md": not found (NoSuchKey)`},
		{"classified without a code shows the status", sdkError("GetObject", 404, ""), `get "a.md": not found (HTTP 404)`},
		{"unclassified keeps the SDK message", sdkError("GetObject", 503, "SlowDown"),
			`get "a.md": operation error S3: GetObject, https response error StatusCode: 503, RequestID: REQ123, api error SlowDown: SlowDown happened`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s3store.New(&fakeS3{err: tt.err}, "site").Read(t.Context(), "a.md")
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
}

func TestDeleteMissingKeyIsNotAnError(t *testing.T) {
	// Some S3 implementations answer a conditional delete of a missing
	// key with 404 rather than 204.
	b := s3store.New(&fakeS3{err: sdkError("DeleteObject", 404, "NoSuchKey")}, "site")
	if err := b.Delete(t.Context(), "gone", &blob.DeleteOptions{IfMatch: `"abc"`}); err != nil {
		t.Errorf("got %v, want nil", err)
	}
}

func TestReadLowerCasesMetadata(t *testing.T) {
	f := &fakeS3{
		getOut: &s3.GetObjectOutput{
			Body:          io.NopCloser(strings.NewReader("hi")),
			ContentLength: aws.Int64(2),
			ETag:          aws.String(`"e"`),
			Metadata:      map[string]string{"Source-Hash": "abc", "AUTHOR": "ada"},
		},
		headOut: &s3.HeadObjectOutput{
			ContentLength: aws.Int64(2),
			Metadata:      map[string]string{"Source-Hash": "abc"},
		},
	}
	b := s3store.New(f, "site")
	_, attrs, err := b.Read(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"source-hash": "abc", "author": "ada"}; !maps.Equal(attrs.Metadata, want) {
		t.Errorf("Read metadata: got %v, want %v", attrs.Metadata, want)
	}
	head, err := b.Attributes(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"source-hash": "abc"}; !maps.Equal(head.Metadata, want) {
		t.Errorf("Attributes metadata: got %v, want %v", head.Metadata, want)
	}
}

// countingBody records how much of it was read and whether it was closed.
type countingBody struct {
	r      io.Reader
	read   int
	closed bool
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

func (c *countingBody) Close() error { c.closed = true; return nil }

func TestReadAtMost(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	tests := []struct {
		name           string
		contentLength  *int64
		body           string
		max            int64
		wantErr        error
		wantReadAtMost int
	}{
		{"announced length over the limit reads nothing", aws.Int64(int64(len(big))), big, 100, blob.ErrTooLarge, 0},
		{"unannounced length reads one byte past the limit", nil, big, 100, blob.ErrTooLarge, 101},
		{"understated length reads one byte past the limit", aws.Int64(10), big, 100, blob.ErrTooLarge, 101},
		{"at the limit succeeds", aws.Int64(100), big[:100], 100, nil, 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := &countingBody{r: strings.NewReader(tt.body)}
			f := &fakeS3{getOut: &s3.GetObjectOutput{Body: body, ContentLength: tt.contentLength}}
			data, _, err := s3store.New(f, "site").ReadAtMost(t.Context(), "k", tt.max)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && int64(len(data)) != tt.max {
				t.Errorf("got %d bytes, want %d", len(data), tt.max)
			}
			if body.read > tt.wantReadAtMost {
				t.Errorf("read %d bytes of the body, want at most %d", body.read, tt.wantReadAtMost)
			}
			if !body.closed {
				t.Error("body not closed")
			}
		})
	}
}

func TestWriteRequest(t *testing.T) {
	t.Run("options become headers", func(t *testing.T) {
		f := &fakeS3{putOut: &s3.PutObjectOutput{ETag: aws.String(`"new"`)}}
		attrs, err := s3store.New(f, "site").Write(t.Context(), "k", []byte("data"), &blob.WriteOptions{
			ContentType:  "text/html",
			CacheControl: "no-cache",
			Metadata:     map[string]string{"Source-Hash": "abc"},
			IfMatch:      `"old"`,
		})
		if err != nil {
			t.Fatal(err)
		}
		in := f.put
		if aws.ToString(in.Bucket) != "site" || aws.ToString(in.Key) != "k" ||
			aws.ToString(in.ContentType) != "text/html" || aws.ToString(in.CacheControl) != "no-cache" ||
			aws.ToString(in.IfMatch) != `"old"` || in.IfNoneMatch != nil || aws.ToInt64(in.ContentLength) != 4 ||
			!maps.Equal(in.Metadata, map[string]string{"source-hash": "abc"}) {
			t.Errorf("PutObject input: %+v", in)
		}
		if attrs.ETag != `"new"` || attrs.Size != 4 || attrs.Key != "k" {
			t.Errorf("returned attributes: %+v", attrs)
		}
	})
	t.Run("if not exist sends If-None-Match star", func(t *testing.T) {
		f := &fakeS3{putOut: &s3.PutObjectOutput{}}
		if _, err := s3store.New(f, "site").Write(t.Context(), "k", nil, &blob.WriteOptions{IfNotExist: true}); err != nil {
			t.Fatal(err)
		}
		if aws.ToString(f.put.IfNoneMatch) != "*" || f.put.IfMatch != nil {
			t.Errorf("PutObject input: IfNoneMatch %v, IfMatch %v", f.put.IfNoneMatch, f.put.IfMatch)
		}
	})
	t.Run("contradictory options send nothing", func(t *testing.T) {
		f := &fakeS3{}
		_, err := s3store.New(f, "site").Write(t.Context(), "k", nil, &blob.WriteOptions{IfNotExist: true, IfMatch: `"e"`})
		if err == nil || f.calls != 0 {
			t.Errorf("got error %v after %d calls, want an error and no call", err, f.calls)
		}
	})
}

func TestList(t *testing.T) {
	f := &fakeS3{listOut: &s3.ListObjectsV2Output{
		Contents: []types.Object{
			{Key: aws.String("p/1"), Size: aws.Int64(1), ETag: aws.String(`"a"`)},
			{Key: aws.String("p/2"), Size: aws.Int64(2), ETag: aws.String(`"b"`)},
		},
		IsTruncated:           aws.Bool(true),
		NextContinuationToken: aws.String("opaque"),
	}}
	page, err := s3store.New(f, "site").List(t.Context(), "p/", "prev", 2)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(f.list.Prefix) != "p/" || aws.ToString(f.list.ContinuationToken) != "prev" || aws.ToInt32(f.list.MaxKeys) != 2 {
		t.Errorf("ListObjectsV2 input: %+v", f.list)
	}
	if page.NextToken != "opaque" || len(page.Objects) != 2 || page.Objects[1].Key != "p/2" || page.Objects[1].Size != 2 {
		t.Errorf("page: %+v", page)
	}

	f.listOut.IsTruncated = aws.Bool(false)
	f.listOut.NextContinuationToken = nil
	page, err = s3store.New(f, "site").List(t.Context(), "p/", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if page.NextToken != "" || f.list.MaxKeys != nil || f.list.ContinuationToken != nil {
		t.Errorf("last page: token %q, input %+v", page.NextToken, f.list)
	}
}

func TestWithClientOptions(t *testing.T) {
	f := &fakeS3{err: sdkError("HeadObject", 404, "")}
	noop := func(*s3.Options) {}
	b := s3store.New(f, "site", s3store.WithClientOptions(noop, noop))
	b.Attributes(t.Context(), "k")
	if f.optFns != 2 {
		t.Errorf("got %d option functions, want 2", f.optFns)
	}
}
