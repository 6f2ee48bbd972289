package memblob_test

import (
	"testing"
	"time"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/blob/blobtest"
	"github.com/postmill/postmill/internal/blob/memblob"
)

func TestConformance(t *testing.T) {
	blobtest.RunConformance(t, func(t *testing.T) blob.Bucket { return memblob.New() })
}

func TestWithClockStampsModTime(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 30, 45, 999_000_000, time.FixedZone("CET", 3600))
	b := memblob.New(memblob.WithClock(func() time.Time { return now }))
	if _, err := b.Write(t.Context(), "k", []byte("v"), nil); err != nil {
		t.Fatal(err)
	}
	attrs, err := b.Attributes(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	// Whole seconds in UTC, like S3's Last-Modified.
	if want := time.Date(2024, 3, 1, 11, 30, 45, 0, time.UTC); !attrs.ModTime.Equal(want) || attrs.ModTime.Location() != time.UTC {
		t.Errorf("ModTime: got %v, want %v", attrs.ModTime, want)
	}
}

func TestDefaultContentType(t *testing.T) {
	b := memblob.New()
	attrs, err := b.Write(t.Context(), "k", []byte("v"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := attrs.ContentType, blob.DefaultContentType; got != want {
		t.Errorf("ContentType: got %q, want %q", got, want)
	}
}
