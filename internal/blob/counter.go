package blob

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Counts is a snapshot of the requests a Counter has seen, by the S3
// request each Bucket method costs, and of the payload bytes moved.
type Counts struct {
	Get    int64 // Read and ReadAtMost
	Head   int64 // Attributes
	Put    int64 // Write
	Delete int64 // Delete
	List   int64 // List, once per page

	BytesRead    int64 // content returned by Read and ReadAtMost
	BytesWritten int64 // content passed to Write that was stored
}

// Requests returns the number of requests of every kind.
func (c Counts) Requests() int64 {
	return c.Get + c.Head + c.Put + c.Delete + c.List
}

// String formats the counts for benchmark and test logs.
func (c Counts) String() string {
	return fmt.Sprintf("GET=%d HEAD=%d PUT=%d DELETE=%d LIST=%d read=%dB written=%dB",
		c.Get, c.Head, c.Put, c.Delete, c.List, c.BytesRead, c.BytesWritten)
}

// Counter is a Bucket that counts the calls it passes on to another
// Bucket, so that tests and benchmarks can report what an operation costs
// in S3 requests. Every call is counted, failed ones included, since S3
// bills those too. It is safe for concurrent use.
type Counter struct {
	b Bucket

	get, head, put, del, list atomic.Int64
	bytesRead, bytesWritten   atomic.Int64
}

var _ Bucket = (*Counter)(nil)

// NewCounter returns a Counter passing calls on to b.
func NewCounter(b Bucket) *Counter {
	return &Counter{b: b}
}

// Snapshot returns the counts so far.
func (c *Counter) Snapshot() Counts {
	return Counts{
		Get:          c.get.Load(),
		Head:         c.head.Load(),
		Put:          c.put.Load(),
		Delete:       c.del.Load(),
		List:         c.list.Load(),
		BytesRead:    c.bytesRead.Load(),
		BytesWritten: c.bytesWritten.Load(),
	}
}

// Reset sets every count back to zero. Calls in flight during Reset may
// be counted on either side of it.
func (c *Counter) Reset() {
	for _, n := range []*atomic.Int64{&c.get, &c.head, &c.put, &c.del, &c.list, &c.bytesRead, &c.bytesWritten} {
		n.Store(0)
	}
}

// Read implements Bucket.
func (c *Counter) Read(ctx context.Context, key string) ([]byte, Attributes, error) {
	c.get.Add(1)
	data, attrs, err := c.b.Read(ctx, key)
	c.bytesRead.Add(int64(len(data)))
	return data, attrs, err
}

// ReadAtMost implements Bucket.
func (c *Counter) ReadAtMost(ctx context.Context, key string, max int64) ([]byte, Attributes, error) {
	c.get.Add(1)
	data, attrs, err := c.b.ReadAtMost(ctx, key, max)
	c.bytesRead.Add(int64(len(data)))
	return data, attrs, err
}

// Attributes implements Bucket.
func (c *Counter) Attributes(ctx context.Context, key string) (Attributes, error) {
	c.head.Add(1)
	return c.b.Attributes(ctx, key)
}

// Write implements Bucket.
func (c *Counter) Write(ctx context.Context, key string, data []byte, opts *WriteOptions) (Attributes, error) {
	c.put.Add(1)
	attrs, err := c.b.Write(ctx, key, data, opts)
	if err == nil {
		c.bytesWritten.Add(int64(len(data)))
	}
	return attrs, err
}

// Delete implements Bucket.
func (c *Counter) Delete(ctx context.Context, key string, opts *DeleteOptions) error {
	c.del.Add(1)
	return c.b.Delete(ctx, key, opts)
}

// List implements Bucket.
func (c *Counter) List(ctx context.Context, prefix, token string, max int) (ListPage, error) {
	c.list.Add(1)
	return c.b.List(ctx, prefix, token, max)
}

// Add returns the sum of two counts.
func (c Counts) Add(o Counts) Counts {
	return Counts{Get: c.Get + o.Get, Head: c.Head + o.Head, Put: c.Put + o.Put, Delete: c.Delete + o.Delete,
		List: c.List + o.List, BytesRead: c.BytesRead + o.BytesRead, BytesWritten: c.BytesWritten + o.BytesWritten}
}
