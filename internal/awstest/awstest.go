// Package awstest is test support for code that talks to AWS: it finds or
// starts an AWS emulator and hands out SDK clients pointed at it, so
// integration tests run in a plain `go test ./...` with no build tag and no
// account.
//
// The emulator is $AWS_ENDPOINT_URL when that is set (a shared moto or
// LocalStack, say). Otherwise the first test that asks starts moto_server
// from PATH on a free loopback port, and the whole test binary shares it.
// A test binary that uses this package should call Main from TestMain, so
// the emulator is stopped when the tests end; on Linux it also dies with
// the test binary if that panics or times out.
//
// There is no quiet fallback: if there is no emulator the test fails and
// says why. The only way to skip is to ask for it with
// POSTMILL_SKIP_INTEGRATION=1.
//
// This package reads the environment and may start processes; it exists
// only for tests, and nothing outside _test.go files should import it.
package awstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// The environment variables this package reads.
const (
	// EnvEndpoint names an already running emulator to use instead of
	// starting moto_server.
	EnvEndpoint = "AWS_ENDPOINT_URL"

	// EnvRegion overrides the default region, us-east-1.
	EnvRegion = "AWS_REGION"

	// EnvSkip, set to 1, skips every test that needs the emulator.
	EnvSkip = "POSTMILL_SKIP_INTEGRATION"
)

const (
	defaultRegion = "us-east-1"

	// startTimeout covers moto's Python imports on a slow, busy CI
	// machine; it usually answers within a few seconds.
	startTimeout = 60 * time.Second
	startTries   = 3
)

var (
	startOnce sync.Once
	started   string // the URL of the moto this package started
	startErr  error

	mu   sync.Mutex
	moto *server // nil unless running
)

// Endpoint returns the URL of the AWS emulator for integration tests:
// $AWS_ENDPOINT_URL if set, otherwise a moto_server started on first use
// and shared by the whole test binary. If neither is available it fails
// the test with the reason; with POSTMILL_SKIP_INTEGRATION=1 it skips it.
func Endpoint(t testing.TB) string {
	t.Helper()
	if os.Getenv(EnvSkip) == "1" {
		t.Skipf("%s=1: skipping a test that needs the AWS emulator", EnvSkip)
	}
	if u := os.Getenv(EnvEndpoint); u != "" {
		return u
	}
	startOnce.Do(func() { started, startErr = startMoto() })
	if startErr != nil {
		t.Fatalf("awstest: %v", startErr)
	}
	return started
}

// Config returns an aws.Config for the emulator: static credentials
// test/test, region us-east-1 or $AWS_REGION, three attempts per request,
// and checksums only where an operation requires them. The SDK's default
// sends every upload aws-chunked with a CRC32 trailer; moto 5.2 accepts
// that, but older moto releases and other emulators do not, and plain
// requests are easier to read in the emulator's log.
//
// It deliberately reads no shared config files or profiles, so a
// developer's ~/.aws cannot point tests at a real account.
func Config(t testing.TB) aws.Config {
	t.Helper()
	region := os.Getenv(EnvRegion)
	if region == "" {
		region = defaultRegion
	}
	return aws.Config{
		Region:                     region,
		Credentials:                credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:               aws.String(Endpoint(t)),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 3 })
		},
	}
}

// S3 returns an S3 client for the emulator. It uses path-style addressing,
// because bucket subdomains of 127.0.0.1 do not resolve.
func S3(t testing.TB) *s3.Client {
	t.Helper()
	return s3.NewFromConfig(Config(t), func(o *s3.Options) { o.UsePathStyle = true })
}

// SQS returns an SQS client for the emulator.
func SQS(t testing.TB) *sqs.Client {
	t.Helper()
	return sqs.NewFromConfig(Config(t))
}

// NewBucket creates an empty bucket with a unique name derived from the
// test's, and deletes it, with everything left in it, when the test ends.
func NewBucket(t testing.TB, client *s3.Client) string {
	t.Helper()
	name := bucketName(t.Name())
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if region := client.Options().Region; region != defaultRegion {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{
			LocationConstraint: s3types.BucketLocationConstraint(region),
		}
	}
	if _, err := client.CreateBucket(t.Context(), in); err != nil {
		t.Fatalf("awstest: create bucket %q: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := deleteBucket(ctx, client, name); err != nil {
			t.Errorf("awstest: %v", err)
		}
	})
	return name
}

// NewDistribution creates a CloudFront distribution in the emulator, in
// front of a made-up S3 origin, and returns its id. The emulator keeps it
// until it stops: a disabled distribution cannot be deleted at once.
func NewDistribution(t testing.TB) string {
	t.Helper()
	out, err := cloudfront.NewFromConfig(Config(t)).CreateDistribution(t.Context(), &cloudfront.CreateDistributionInput{
		DistributionConfig: &cftypes.DistributionConfig{
			CallerReference: aws.String(t.Name() + "-" + randomHex(4)),
			Comment:         aws.String("postmill " + t.Name()),
			Enabled:         aws.Bool(true),
			Origins: &cftypes.Origins{Quantity: aws.Int32(1), Items: []cftypes.Origin{{
				Id: aws.String("site"), DomainName: aws.String("site.s3.amazonaws.com"),
				S3OriginConfig: &cftypes.S3OriginConfig{OriginAccessIdentity: aws.String("")},
			}}},
			DefaultCacheBehavior: &cftypes.DefaultCacheBehavior{
				TargetOriginId:       aws.String("site"),
				ViewerProtocolPolicy: cftypes.ViewerProtocolPolicyRedirectToHttps,
				CachePolicyId:        aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6"), // CachingOptimized
			},
		},
	})
	if err != nil {
		t.Fatalf("awstest: create distribution: %v", err)
	}
	return aws.ToString(out.Distribution.Id)
}

// deleteBucket deletes every object version in the bucket, then the
// bucket. Versions rather than objects, so that a test that turned on
// versioning still cleans up. It lists from the start again after each
// page it deletes, rather than paging on: once the page's last object is
// deleted, moto answers the next page's request (KeyMarker at that
// object) with an empty, complete listing, and the bucket stays full.
func deleteBucket(ctx context.Context, client *s3.Client, name string) error {
	for {
		page, err := client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(name)})
		if err != nil {
			return fmt.Errorf("empty bucket %q: %w", name, err)
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range page.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) == 0 {
			break
		}
		out, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(name), Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("empty bucket %q: %w", name, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("empty bucket %q: delete %q: %s: %s", name, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
	}
	if _, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("delete bucket %q: %w", name, err)
	}
	return nil
}

// bucketName makes a valid, unique S3 bucket name that says which test
// made it: lower-case letters, digits and hyphens, at most 63 characters,
// starting and ending with a letter or digit.
func bucketName(testName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			b.WriteRune(r)
		case !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	slug := strings.Trim(b.String(), "-")
	slug = strings.TrimRight(slug[:min(len(slug), 30)], "-")
	if slug == "" {
		slug = "test"
	}
	return "postmill-" + slug + "-" + randomHex(8)
}

func randomHex(n int) string {
	buf := make([]byte, n)
	rand.Read(buf)
	return hex.EncodeToString(buf)
}

// Main runs the tests, stops the emulator this package started, and exits
// with the tests' status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { awstest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop kills the moto_server this package started, if any. It does
// nothing to an emulator named by $AWS_ENDPOINT_URL. Tests that ask for
// an endpoint after Stop fail to connect.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if moto != nil {
		moto.stop()
		moto = nil
	}
}

// server is a running moto_server.
type server struct {
	cmd    *exec.Cmd
	url    string
	log    string        // its stdout and stderr
	exited chan struct{} // closed once it has exited and been reaped
}

func startMoto() (string, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return "", fmt.Errorf("no AWS emulator: %s is unset and moto_server is not on PATH "+
			"(install it with pip install 'moto[server]'), or set %s=1 to skip integration tests",
			EnvEndpoint, EnvSkip)
	}
	for try := 1; ; try++ {
		s, err := startServer(path)
		if err == nil {
			mu.Lock()
			moto = s
			mu.Unlock()
			return s.url, nil
		}
		// The free port can be taken between our probe and moto's
		// bind; only that is worth another try.
		if !errors.Is(err, errPortTaken) || try == startTries {
			return "", err
		}
	}
}

var errPortTaken = errors.New("port taken")

func startServer(path string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	logFile, err := os.CreateTemp("", "postmill-moto-*.log")
	if err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	defer logFile.Close() // the child has its own copy of the descriptor

	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", port)
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()

	s := &server{
		cmd:    cmd,
		url:    "http://127.0.0.1:" + port,
		log:    logFile.Name(),
		exited: make(chan struct{}),
	}
	launched := make(chan error, 1)
	go func() {
		// On Linux moto gets SIGKILL when the thread that started it
		// exits (Pdeathsig is per thread, not per process), so that
		// thread must live as long as moto: lock this goroutine to it
		// and keep the goroutine waiting on moto. Goroutines that exit
		// locked take their thread with them, which is fine once moto
		// is gone.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			launched <- err
			return
		}
		launched <- nil
		cmd.Wait()
		close(s.exited)
	}()
	if err := <-launched; err != nil {
		os.Remove(s.log)
		return nil, fmt.Errorf("start moto_server: %w", err)
	}

	if err := s.waitReady(); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls until moto answers HTTP at all: any status will do,
// since it only shows the server is listening.
func (s *server) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := client.Get(s.url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.exited:
			log := tail(s.log)
			err := fmt.Errorf("moto_server on %s exited before answering (%v); its log ends:\n%s",
				s.url, s.cmd.ProcessState, log)
			if strings.Contains(log, "Address already in use") {
				err = fmt.Errorf("%w: %w", errPortTaken, err)
			}
			return err
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("moto_server on %s did not answer within %v; its log ends:\n%s",
				s.url, startTimeout, tail(s.log))
		}
	}
}

func (s *server) stop() {
	killGroup(s.cmd.Process)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
	}
	os.Remove(s.log)
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// tail returns the end of a log file, for failure messages.
func tail(path string) string {
	const max = 4 << 10
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		f.Seek(fi.Size()-max, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	if len(b) == 0 {
		return "(empty)"
	}
	return string(b)
}
