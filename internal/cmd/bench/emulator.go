package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/blob/memblob"
	"github.com/postmill/postmill/internal/s3store"
)

const region = "us-east-1"

// emulator is the AWS emulator the bench measures against: the one at
// AWS_ENDPOINT_URL, or a moto_server it starts and stops.
type emulator struct {
	URL string
	S3  *s3.Client // the bench's own: setup and bulk loading
	SQS *sqs.Client

	cmd     *exec.Cmd // nil for an emulator the bench did not start
	exited  chan struct{}
	logPath string

	mu      sync.Mutex
	buckets []string
}

// startEmulator finds or starts the emulator.
func startEmulator(ctx context.Context) (*emulator, error) {
	e := &emulator{URL: os.Getenv("AWS_ENDPOINT_URL")}
	if e.URL == "" {
		if err := e.startMoto(); err != nil {
			return nil, err
		}
	}
	cfg := aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(e.URL),
		// Plain uploads: the bulk loader is not what is measured, and
		// the emulator reads them fastest.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = 64
		}),
	}
	e.S3 = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	e.SQS = sqs.NewFromConfig(cfg)
	return e, nil
}

// functionS3 returns an S3 client built the way functions/render builds
// its own from the environment Lambda gives it.
func (e *emulator) functionS3(ctx context.Context) (*s3.Client, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(region),
		config.WithBaseEndpoint(e.URL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	}), nil
}

// functionEnv is the environment of the render function pointed at the
// emulator, as Terraform and Lambda set it.
func (e *emulator) functionEnv(src, dst string) []string {
	env := []string{
		"AWS_ENDPOINT_URL=" + e.URL, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"SOURCE_BUCKET=" + src, "SITE_BUCKET=" + dst,
		"AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL=INFO",
	}
	for k, v := range siteEnv {
		env = append(env, k+"="+v)
	}
	return env
}

func (e *emulator) startMoto() error {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return errors.New("no AWS emulator: AWS_ENDPOINT_URL is unset and moto_server is not on PATH (pip install 'moto[server]')")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	logFile, err := os.CreateTemp("", "postmill-bench-moto-*.log")
	if err != nil {
		return err
	}
	defer logFile.Close()
	e.logPath = logFile.Name()
	e.URL = "http://127.0.0.1:" + port
	e.cmd = exec.Command(path, "-H", "127.0.0.1", "-p", port)
	e.cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	e.cmd.Stdout, e.cmd.Stderr = logFile, logFile
	e.cmd.SysProcAttr = sysProcAttr()
	e.exited = make(chan struct{})
	launched := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the starting thread ends: keep it.
		runtime.LockOSThread()
		if err := e.cmd.Start(); err != nil {
			launched <- err
			return
		}
		launched <- nil
		e.cmd.Wait()
		close(e.exited)
	}()
	if err := <-launched; err != nil {
		return fmt.Errorf("start moto_server: %w", err)
	}
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(e.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-e.exited:
			return fmt.Errorf("moto_server exited before answering; log in %s", e.logPath)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Close()
			return fmt.Errorf("moto_server did not answer within a minute; log in %s", e.logPath)
		}
	}
}

// Close stops the moto the bench started, or empties and deletes the
// buckets it made in an emulator it did not start.
func (e *emulator) Close() {
	if e.cmd != nil {
		killGroup(e.cmd.Process)
		select {
		case <-e.exited:
		case <-time.After(10 * time.Second):
		}
		os.Remove(e.logPath)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, b := range e.buckets {
		if err := e.deleteBucket(ctx, b); err != nil {
			fmt.Fprintf(os.Stderr, "bench: cleanup: %v\n", err)
		}
	}
}

func (e *emulator) deleteBucket(ctx context.Context, name string) error {
	p := s3.NewListObjectsV2Paginator(e.S3, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("empty %s: %w", name, err)
		}
		var ids []s3types.ObjectIdentifier
		for _, o := range page.Contents {
			ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
		}
		if len(ids) > 0 {
			if _, err := e.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(name), Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}}); err != nil {
				return fmt.Errorf("empty %s: %w", name, err)
			}
		}
	}
	_, err := e.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
	return err
}

// s3Bucket is a bucket of the emulator read with the bench's client.
func (e *emulator) s3Bucket(name string) *s3store.Bucket { return s3store.New(e.S3, name) }

// newBucket creates an empty bucket named for its role.
func (e *emulator) newBucket(ctx context.Context, role string) (string, error) {
	buf := make([]byte, 4)
	rand.Read(buf)
	name := "postmill-bench-" + role + "-" + hex.EncodeToString(buf)
	if _, err := e.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return "", fmt.Errorf("create bucket %s: %w", name, err)
	}
	e.mu.Lock()
	e.buckets = append(e.buckets, name)
	e.mu.Unlock()
	return name, nil
}

// copyIn writes every object of from into bucket, except keys under the
// skip prefixes, with workers concurrent PUTs, keeping content type, cache
// control and metadata, and returns how many it wrote. S3 computes the
// same ETag (MD5) as memblob, so state that records source ETags stays
// true.
func (e *emulator) copyIn(ctx context.Context, bucket string, from *memblob.Bucket, workers int, skip ...string) (int, error) {
	all, err := blob.ListAll(ctx, from, "")
	if err != nil {
		return 0, err
	}
	var objs []blob.Attributes
	for _, o := range all {
		if !slices.ContainsFunc(skip, func(p string) bool { return strings.HasPrefix(o.Key, p) }) {
			objs = append(objs, o)
		}
	}
	keys := make(chan string)
	errs := make(chan error, workers)
	var copied atomic.Int64
	start := time.Now()
	defer every(30*time.Second, func() {
		progress("  %s: %s of %s objects", time.Since(start).Round(time.Second), count(int(copied.Load())), count(len(objs)))
	})()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range keys {
				data, a, err := from.Read(ctx, k)
				if err == nil {
					in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: bytes.NewReader(data),
						ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String(a.ContentType), Metadata: a.Metadata}
					if a.CacheControl != "" {
						in.CacheControl = aws.String(a.CacheControl)
					}
					_, err = e.S3.PutObject(ctx, in)
					copied.Add(1)
				}
				if err != nil {
					errs <- fmt.Errorf("copy %s: %w", k, err)
					for range keys {
					}
					return
				}
			}
		}()
	}
	for _, o := range objs {
		keys <- o.Key
	}
	close(keys)
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return len(objs), nil
}

// etags lists a bucket's keys and ETags: enough to compare two sites
// byte for byte without reading them.
func etags(ctx context.Context, b blob.Lister, prefix string) (map[string]string, error) {
	objs, err := blob.ListAll(ctx, b, prefix)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(objs))
	for _, o := range objs {
		m[o.Key] = strings.Trim(o.ETag, `"`)
	}
	return m, nil
}

// sameSite reports how two key → ETag maps differ, "" when they do not.
func sameSite(got, want map[string]string) string {
	var missing, extra, differ int
	example := ""
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			missing++
			example = "missing " + k
		case g != w:
			differ++
			example = "differs " + k
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra++
			example = "left over " + k
		}
	}
	if missing+extra+differ == 0 {
		return ""
	}
	return fmt.Sprintf("%d missing, %d left over, %d differ (e.g. %s)", missing, extra, differ, example)
}
