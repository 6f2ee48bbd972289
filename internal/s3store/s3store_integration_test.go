package s3store_test

import (
	"testing"

	"github.com/postmill/postmill/internal/awstest"
	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/blob/blobtest"
	"github.com/postmill/postmill/internal/s3store"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestConformance runs the blob conformance suite against S3 as the
// emulator implements it.
func TestConformance(t *testing.T) {
	client := awstest.S3(t)
	blobtest.RunConformance(t, func(t *testing.T) blob.Bucket {
		return s3store.New(client, awstest.NewBucket(t, client))
	})
}
