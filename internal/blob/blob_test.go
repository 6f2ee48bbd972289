package blob_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/blob/memblob"
)

func TestCounterCounts(t *testing.T) {
	ctx := t.Context()
	c := blob.NewCounter(memblob.New())

	if _, err := c.Write(ctx, "a", []byte("hello"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(ctx, "a", []byte("lost"), &blob.WriteOptions{IfNotExist: true}); !errors.Is(err, blob.ErrPreconditionFailed) {
		t.Fatalf("conditional write: got %v, want ErrPreconditionFailed", err)
	}
	if _, _, err := c.Read(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadAtMost(ctx, "a", 100); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx, "missing"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Read missing: got %v, want ErrNotFound", err)
	}
	if _, err := c.Attributes(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(ctx, "", "", 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "a", nil); err != nil {
		t.Fatal(err)
	}

	want := blob.Counts{Get: 3, Head: 1, Put: 2, Delete: 1, List: 1, BytesRead: 10, BytesWritten: 5}
	if got := c.Snapshot(); got != want {
		t.Errorf("Snapshot: got %v, want %v", got, want)
	}
	if got := c.Snapshot().Requests(); got != 8 {
		t.Errorf("Requests: got %d, want 8", got)
	}
	c.Reset()
	if got := c.Snapshot(); got != (blob.Counts{}) {
		t.Errorf("after Reset: got %v, want zero", got)
	}
}

func TestCounterConcurrent(t *testing.T) {
	ctx := t.Context()
	c := blob.NewCounter(memblob.New())
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 50 {
				c.Write(ctx, "k", []byte("ab"), nil)
				c.Read(ctx, "k")
			}
		})
	}
	wg.Wait()
	got := c.Snapshot()
	if got.Put != 800 || got.Get != 800 || got.BytesWritten != 1600 || got.BytesRead != 1600 {
		t.Errorf("Snapshot: got %v, want 800 PUTs and GETs of 2 bytes", got)
	}
}

func TestCountsString(t *testing.T) {
	got := blob.Counts{Get: 1, Put: 2, BytesRead: 3}.String()
	if want := "GET=1 HEAD=0 PUT=2 DELETE=0 LIST=0 read=3B written=0B"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWriteOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    *blob.WriteOptions
		wantErr bool
	}{
		{"nil is valid", nil, false},
		{"if match alone is valid", &blob.WriteOptions{IfMatch: `"e"`}, false},
		{"if not exist alone is valid", &blob.WriteOptions{IfNotExist: true}, false},
		{"both are rejected", &blob.WriteOptions{IfMatch: `"e"`, IfNotExist: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.opts.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate: got %v, want error %t", err, tt.wantErr)
			}
		})
	}
}

// pager serves fixed pages keyed by token.
type pager map[string]blob.ListPage

func (p pager) List(_ context.Context, _, token string, _ int) (blob.ListPage, error) {
	return p[token], nil
}

func TestListAll(t *testing.T) {
	t.Run("follows tokens to the last page", func(t *testing.T) {
		p := pager{
			"":   {Objects: []blob.Attributes{{Key: "a"}, {Key: "b"}}, NextToken: "t1"},
			"t1": {Objects: []blob.Attributes{{Key: "c"}}, NextToken: "t2"},
			"t2": {},
		}
		got, err := blob.ListAll(t.Context(), p, "")
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range got {
			keys = append(keys, o.Key)
		}
		if strings.Join(keys, ",") != "a,b,c" {
			t.Errorf("got %q, want a,b,c", keys)
		}
	})
	t.Run("repeated token is an error", func(t *testing.T) {
		p := pager{
			"":   {Objects: []blob.Attributes{{Key: "a"}}, NextToken: "t1"},
			"t1": {Objects: []blob.Attributes{{Key: "b"}}, NextToken: "t1"},
		}
		if _, err := blob.ListAll(t.Context(), p, ""); err == nil {
			t.Error("got no error, want one")
		}
	})
}
