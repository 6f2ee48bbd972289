// Package blobtest is the conformance suite for blob.Bucket adapters.
//
// Every adapter, the in-memory fake included, runs RunConformance from its
// own tests, so that code tested against the fake behaves the same against
// S3. The suite pins down what the blob package documents: how failures
// are classified, what attributes survive a round trip, how conditional
// writes and listings behave. It is test support only; nothing outside
// _test.go files should import it.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/postmill/postmill/internal/blob"
)

// RunConformance runs the suite against buckets made by newBucket, which
// is called once per subtest and must return an empty bucket.
func RunConformance(t *testing.T, newBucket func(t *testing.T) blob.Bucket) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, b blob.Bucket)
	}{
		{"read missing is not found", testReadMissing},
		{"write then read round trips attributes", testRoundTrip},
		{"attributes equal what read returned", testAttributesMatchRead},
		{"etag follows content", testETag},
		{"if not exist", testIfNotExist},
		{"if match", testIfMatch},
		{"delete", testDelete},
		{"list is sorted and prefix filtered", testListOrder},
		{"list pages return every key once", testListPaging},
		{"read at most", testReadAtMost},
		{"awkward keys round trip", testAwkwardKeys},
		{"concurrent if match writers lose no update", testConcurrentIncrements},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newBucket(t))
		})
	}
}

func testReadMissing(t *testing.T, b blob.Bucket) {
	ctx := t.Context()
	if _, _, err := b.Read(ctx, "missing.md"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Read: got error %v, want ErrNotFound", err)
	}
	if _, _, err := b.ReadAtMost(ctx, "missing.md", 10); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ReadAtMost: got error %v, want ErrNotFound", err)
	}
	if _, err := b.Attributes(ctx, "missing.md"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Attributes: got error %v, want ErrNotFound", err)
	}
	if _, _, err := b.Read(ctx, "missing.md"); err == nil || !strings.Contains(err.Error(), "missing.md") {
		t.Errorf("Read: got error %v, want it to name the key", err)
	}
}

func testRoundTrip(t *testing.T, b blob.Bucket) {
	ctx := t.Context()
	data := []byte("# Hello\n\nFirst post.\n")
	opts := &blob.WriteOptions{
		ContentType:  "text/markdown; charset=utf-8",
		CacheControl: "max-age=60",
		Metadata:     map[string]string{"Source-Hash": "abc123", "author": "ada"},
	}
	wrote, err := b.Write(ctx, "posts/hello.md", data, opts)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if wrote.ETag == "" {
		t.Errorf("Write returned no ETag")
	}

	got, attrs, err := b.Read(ctx, "posts/hello.md")
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("Read: got %q, want %q", got, data)
	}
	want := blob.Attributes{
		Key:          "posts/hello.md",
		Size:         int64(len(data)),
		ETag:         wrote.ETag,
		ContentType:  opts.ContentType,
		CacheControl: opts.CacheControl,
		Metadata:     map[string]string{"source-hash": "abc123", "author": "ada"},
	}
	checkAttrs(t, "Read", attrs, want)
	if attrs.ModTime.IsZero() {
		t.Errorf("Read: ModTime is zero")
	}

	// Neither the slice written nor the one read aliases what is stored.
	data[0] = 'X'
	got[1] = 'X'
	if again, _, err := b.Read(ctx, "posts/hello.md"); err != nil || !bytes.HasPrefix(again, []byte("# Hello")) {
		t.Errorf("Read after mutating caller slices: got %q, %v; want stored data unchanged", again, err)
	}
	// Nor does the metadata map.
	if attrs.Metadata == nil {
		return
	}
	attrs.Metadata["author"] = "mallory"
	if again, err := b.Attributes(ctx, "posts/hello.md"); err != nil || again.Metadata["author"] != "ada" {
		t.Errorf("Attributes after mutating metadata: got %v, %v; want author ada", again.Metadata, err)
	}
}

func testAttributesMatchRead(t *testing.T, b blob.Bucket) {
	ctx := t.Context()
	if _, err := b.Write(ctx, "a.html", []byte("<p>hi</p>"), &blob.WriteOptions{
		ContentType: "text/html; charset=utf-8",
		Metadata:    map[string]string{"k": "v"},
	}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	_, read, err := b.Read(ctx, "a.html")
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	head, err := b.Attributes(ctx, "a.html")
	if err != nil {
		t.Fatalf("Attributes: %v", err)
	}
	checkAttrs(t, "Attributes", head, read)
	if !head.ModTime.Equal(read.ModTime) {
		t.Errorf("Attributes: ModTime %v, Read had %v", head.ModTime, read.ModTime)
	}
}

func testETag(t *testing.T, b blob.Bucket) {
	ctx := t.Context()
	first := mustWrite(t, b, "k", "one", nil)
	second := mustWrite(t, b, "k", "two", nil)
	again := mustWrite(t, b, "k", "two", nil)
	if first.ETag == second.ETag {
		t.Errorf("ETag did not change with content: %s", first.ETag)
	}
	if second.ETag != again.ETag {
		t.Errorf("ETag changed for the same content: %s then %s", second.ETag, again.ETag)
	}
	if len(again.ETag) < 2 || again.ETag[0] != '"' || again.ETag[len(again.ETag)-1] != '"' {
		t.Errorf("ETag %s is not quoted as S3 returns it", again.ETag)
	}
	head, err := b.Attributes(ctx, "k")
	if err != nil {
		t.Fatalf("Attributes: %v", err)
	}
	if head.ETag != again.ETag {
		t.Errorf("Attributes ETag %s, Write returned %s", head.ETag, again.ETag)
	}
	// Written without options, so with the default content type.
	if again.ContentType != blob.DefaultContentType || head.ContentType != blob.DefaultContentType {
		t.Errorf("ContentType: Write returned %q, Attributes %q; want %q", again.ContentType, head.ContentType, blob.DefaultContentType)
	}
}

func testIfNotExist(t *testing.T, b blob.Bucket) {
	ctx := t.Context()
	opts := &blob.WriteOptions{IfNotExist: true}
	if _, err := b.Write(ctx, "lock", []byte("first"), opts); err != nil {
		t.Fatalf("IfNotExist on a missing key: %v", err)
	}
	_, err := b.Write(ctx, "lock", []byte("second"), opts)
	if !errors.Is(err, blob.ErrPreconditionFailed) {
		t.Errorf("IfNotExist on an existing key: got error %v, want ErrPreconditionFailed", err)
	}
	checkContent(t, b, "lock", "first")

	both := &blob.WriteOptions{IfNotExist: true, IfMatch: `"x"`}
	if _, err := b.Write(ctx, "other", []byte("x"), both); err == nil {
		t.Errorf("IfNotExist with IfMatch: got no error, want one")
	}
}

func testIfMatch(t *testing.T, b blob.Bucket) {
	ctx := t.Context()
	v1 := mustWrite(t, b, "doc", "v1", nil)
	v2 := mustWrite(t, b, "doc", "v2", &blob.WriteOptions{IfMatch: v1.ETag})

	_, err := b.Write(ctx, "doc", []byte("v3"), &blob.WriteOptions{IfMatch: v1.ETag})
	if !errors.Is(err, blob.ErrPreconditionFailed) {
		t.Errorf("IfMatch with a stale ETag: got error %v, want ErrPreconditionFailed", err)
	}
	if err != nil && !strings.Contains(err.Error(), "doc") {
		t.Errorf("IfMatch with a stale ETag: error %q does not name the key", err)
	}
	checkContent(t, b, "doc", "v2")

	mustWrite(t, b, "doc", "v3", &blob.WriteOptions{IfMatch: v2.ETag})
	checkContent(t, b, "doc", "v3")

	// S3 answers 404 NoSuchKey, not 412, when the object is missing.
	_, err = b.Write(ctx, "nothing-here", []byte("x"), &blob.WriteOptions{IfMatch: v1.ETag})
	if !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("IfMatch on a missing key: got error %v, want ErrNotFound", err)
	}
}

func testDelete(t *testing.T, b blob.Bucket) {
	ctx := t.Context()
	if err := b.Delete(ctx, "never-written", nil); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
	if err := b.Delete(ctx, "never-written", &blob.DeleteOptions{IfMatch: `"0123"`}); err != nil {
		t.Errorf("Delete IfMatch of a missing key: %v", err)
	}

	v1 := mustWrite(t, b, "k", "v1", nil)
	v2 := mustWrite(t, b, "k", "v2", nil)
	err := b.Delete(ctx, "k", &blob.DeleteOptions{IfMatch: v1.ETag})
	if !errors.Is(err, blob.ErrPreconditionFailed) {
		t.Errorf("Delete IfMatch with a stale ETag: got error %v, want ErrPreconditionFailed", err)
	}
	checkContent(t, b, "k", "v2")

	if err := b.Delete(ctx, "k", &blob.DeleteOptions{IfMatch: v2.ETag}); err != nil {
		t.Fatalf("Delete IfMatch with the current ETag: %v", err)
	}
	if _, _, err := b.Read(ctx, "k"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Read after Delete: got error %v, want ErrNotFound", err)
	}

	mustWrite(t, b, "j", "v", nil)
	if err := b.Delete(ctx, "j", nil); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := b.Attributes(ctx, "j"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Attributes after Delete: got error %v, want ErrNotFound", err)
	}
}

func testListOrder(t *testing.T, b blob.Bucket) {
	ctx := t.Context()
	// Written out of order, with a key that sorts between the prefix's
	// keys but lacks the prefix, and one that merely starts like it.
	for _, k := range []string{"posts/b.md", "pages/about.md", "posts/a.md", "posts-old/x.md", "posts/c/d.md", "postscript.md"} {
		mustWrite(t, b, k, "content of "+k, nil)
	}

	page, err := b.List(ctx, "posts/", "", 0)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if got, want := keysOf(page.Objects), []string{"posts/a.md", "posts/b.md", "posts/c/d.md"}; !slices.Equal(got, want) {
		t.Errorf("List posts/: got %q, want %q", got, want)
	}
	if page.NextToken != "" {
		t.Errorf("List posts/: NextToken %q on the only page", page.NextToken)
	}
	for _, o := range page.Objects {
		if o.Size != int64(len("content of "+o.Key)) || o.ETag == "" || o.ModTime.IsZero() {
			t.Errorf("List: object %+v lacks Size, ETag or ModTime", o)
		}
	}

	all, err := blob.ListAll(ctx, b, "")
	if err != nil {
		t.Fatalf("ListAll: %v", err)
	}
	want := []string{"pages/about.md", "posts-old/x.md", "posts/a.md", "posts/b.md", "posts/c/d.md", "postscript.md"}
	if got := keysOf(all); !slices.Equal(got, want) {
		t.Errorf("ListAll: got %q, want %q", got, want)
	}

	none, err := b.List(ctx, "drafts/", "", 0)
	if err != nil {
		t.Fatalf("List drafts/: %v", err)
	}
	if len(none.Objects) != 0 || none.NextToken != "" {
		t.Errorf("List drafts/: got %+v, want an empty last page", none)
	}
}

func testListPaging(t *testing.T, b blob.Bucket) {
	ctx := t.Context()
	want := []string{"p/1", "p/2", "p/3", "p/4", "p/5"}
	for _, k := range slices.Backward(want) {
		mustWrite(t, b, k, k, nil)
	}
	mustWrite(t, b, "q/1", "not listed", nil)

	var got []string
	token := ""
	for pages := 1; ; pages++ {
		if pages > len(want) {
			t.Fatalf("List: still paging after %d pages; got %q", pages-1, got)
		}
		page, err := b.List(ctx, "p/", token, 2)
		if err != nil {
			t.Fatalf("List page %d: %v", pages, err)
		}
		if len(page.Objects) > 2 {
			t.Errorf("List page %d: %d objects, want at most 2", pages, len(page.Objects))
		}
		got = append(got, keysOf(page.Objects)...)
		if page.NextToken == "" {
			break
		}
		if page.NextToken == token {
			t.Fatalf("List page %d: token %q repeated", pages, token)
		}
		token = page.NextToken
	}
	if !slices.Equal(got, want) {
		t.Errorf("paging with max 2: got %q, want %q", got, want)
	}
}

func testReadAtMost(t *testing.T, b blob.Bucket) {
	ctx := t.Context()
	content := "0123456789"
	wrote := mustWrite(t, b, "ten", content, nil)

	got, attrs, err := b.ReadAtMost(ctx, "ten", 10)
	if err != nil {
		t.Fatalf("ReadAtMost at the limit: %v", err)
	}
	if string(got) != content || attrs.ETag != wrote.ETag || attrs.Size != 10 {
		t.Errorf("ReadAtMost at the limit: got %q, %+v", got, attrs)
	}

	got, _, err = b.ReadAtMost(ctx, "ten", 9)
	if !errors.Is(err, blob.ErrTooLarge) {
		t.Errorf("ReadAtMost over the limit: got error %v, want ErrTooLarge", err)
	}
	if got != nil {
		t.Errorf("ReadAtMost over the limit: got %q, want no data", got)
	}

	mustWrite(t, b, "empty", "", nil)
	if got, _, err := b.ReadAtMost(ctx, "empty", 0); err != nil || len(got) != 0 {
		t.Errorf("ReadAtMost of an empty object with limit 0: got %q, %v", got, err)
	}
}

func testAwkwardKeys(t *testing.T, b blob.Bucket) {
	ctx := t.Context()
	keys := []string{
		"posts/über café+1%.md",
		"posts/a b/c d.md",
		"posts/plus+plus.md",
		"posts/percent%20not-a-space.md",
		"posts/日本語/ページ.md",
		"posts/question?amp&eq=hash#.md",
	}
	for _, k := range keys {
		mustWrite(t, b, k, "body of "+k, nil)
	}
	for _, k := range keys {
		checkContent(t, b, k, "body of "+k)
		if attrs, err := b.Attributes(ctx, k); err != nil || attrs.Key != k {
			t.Errorf("Attributes(%q): got key %q, %v", k, attrs.Key, err)
		}
	}
	all, err := blob.ListAll(ctx, b, "posts/")
	if err != nil {
		t.Fatalf("ListAll: %v", err)
	}
	want := slices.Sorted(slices.Values(keys))
	if got := keysOf(all); !slices.Equal(got, want) {
		t.Errorf("ListAll: got %q, want %q", got, want)
	}
	// The prefix itself may need escaping.
	page, err := b.List(ctx, "posts/über café+", "", 0)
	if err != nil {
		t.Fatalf("List with an awkward prefix: %v", err)
	}
	if got := keysOf(page.Objects); !slices.Equal(got, keys[:1]) {
		t.Errorf("List with an awkward prefix: got %q, want %q", got, keys[:1])
	}
	for _, k := range keys {
		if err := b.Delete(ctx, k, nil); err != nil {
			t.Errorf("Delete(%q): %v", k, err)
		}
		if _, err := b.Attributes(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Attributes(%q) after Delete: got error %v, want ErrNotFound", k, err)
		}
	}
}

// testConcurrentIncrements has several writers increment one counter
// object with read-modify-write cycles guarded by IfMatch. If the store
// let two writers both succeed from the same ETag, an increment would be
// lost and the final count would come up short.
func testConcurrentIncrements(t *testing.T, b blob.Bucket) {
	const (
		writers    = 8
		increments = 10
		maxTries   = 1000 // per increment; only a broken store needs more
	)
	ctx := t.Context()
	mustWrite(t, b, "counter", "0", &blob.WriteOptions{IfNotExist: true})

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for range increments {
				if err := increment(ctx, b, "counter", maxTries); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkContent(t, b, "counter", strconv.Itoa(writers*increments))
}

func increment(ctx context.Context, b blob.Bucket, key string, maxTries int) error {
	for range maxTries {
		data, attrs, err := b.Read(ctx, key)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(string(data))
		if err != nil {
			return fmt.Errorf("counter holds %q: %v", data, err)
		}
		_, err = b.Write(ctx, key, []byte(strconv.Itoa(n+1)), &blob.WriteOptions{IfMatch: attrs.ETag})
		if errors.Is(err, blob.ErrPreconditionFailed) {
			continue
		}
		return err
	}
	return fmt.Errorf("increment %q: still losing the race after %d tries", key, maxTries)
}

func mustWrite(t *testing.T, b blob.Bucket, key, content string, opts *blob.WriteOptions) blob.Attributes {
	t.Helper()
	attrs, err := b.Write(t.Context(), key, []byte(content), opts)
	if err != nil {
		t.Fatalf("Write(%q): %v", key, err)
	}
	if attrs.Key != key || attrs.Size != int64(len(content)) || attrs.ETag == "" {
		t.Errorf("Write(%q) returned %+v, want Key, Size and ETag set", key, attrs)
	}
	return attrs
}

func checkContent(t *testing.T, b blob.Bucket, key, want string) {
	t.Helper()
	got, attrs, err := b.Read(t.Context(), key)
	if err != nil {
		t.Errorf("Read(%q): %v", key, err)
		return
	}
	if string(got) != want {
		t.Errorf("Read(%q): got %q, want %q", key, got, want)
	}
	if attrs.Key != key || attrs.Size != int64(len(want)) {
		t.Errorf("Read(%q): attributes %+v do not match the content", key, attrs)
	}
}

// checkAttrs compares everything but ModTime, which adapters stamp
// themselves, and VersionID, which depends on how the bucket is set up.
func checkAttrs(t *testing.T, what string, got, want blob.Attributes) {
	t.Helper()
	if got.Key != want.Key || got.Size != want.Size || got.ETag != want.ETag ||
		got.ContentType != want.ContentType || got.CacheControl != want.CacheControl ||
		!maps.Equal(got.Metadata, want.Metadata) {
		t.Errorf("%s: got attributes\n\t%+v\nwant\n\t%+v", what, got, want)
	}
}

func keysOf(objs []blob.Attributes) []string {
	keys := make([]string, 0, len(objs))
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}
