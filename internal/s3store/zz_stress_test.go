package s3store_test

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/postmill/postmill/internal/awstest"
	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/s3store"
)

func TestZZStress(t *testing.T) {
	client := awstest.S3(t)
	b := s3store.New(client, awstest.NewBucket(t, client))
	ctx := t.Context()
	b.Write(ctx, "c", []byte("0"), nil)
	var wins, losses atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 30 {
				for {
					d, a, err := b.Read(ctx, "c")
					if err != nil { t.Error(err); return }
					n, _ := strconv.Atoi(string(d))
					_, err = b.Write(ctx, "c", []byte(strconv.Itoa(n+1)), &blob.WriteOptions{IfMatch: a.ETag})
					if errors.Is(err, blob.ErrPreconditionFailed) { losses.Add(1); continue }
					if err != nil { t.Error(err); return }
					wins.Add(1)
					break
				}
			}
		})
	}
	wg.Wait()
	d, _, _ := b.Read(ctx, "c")
	t.Logf("final %s wins %d losses %d", d, wins.Load(), losses.Load())
	if string(d) != "960" { t.Errorf("lost updates: %s", d) }
}
