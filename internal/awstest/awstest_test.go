package awstest_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postmill/postmill/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestNewBucketCreatesAndRemoves(t *testing.T) {
	client := awstest.S3(t)
	var name string
	t.Run("make a bucket and leave an object in it", func(t *testing.T) {
		name = awstest.NewBucket(t, client)
		if !regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`).MatchString(name) {
			t.Errorf("bucket name %q is not a valid S3 name", name)
		}
		if _, err := client.PutObject(t.Context(), &s3.PutObjectInput{
			Bucket: aws.String(name),
			Key:    aws.String("left/behind.txt"),
			Body:   strings.NewReader("x"),
		}); err != nil {
			t.Fatalf("PutObject: %v", err)
		}
	})
	_, err := client.HeadBucket(t.Context(), &s3.HeadBucketInput{Bucket: aws.String(name)})
	var notFound *s3types.NotFound
	if !errors.As(err, &notFound) {
		t.Errorf("HeadBucket after cleanup: got %v, want NotFound", err)
	}
}

// TestNewBucketRemovesManyObjects leaves more objects than one listing
// page holds: cleanup must still empty and delete the bucket.
func TestNewBucketRemovesManyObjects(t *testing.T) {
	client := awstest.S3(t)
	var name string
	t.Run("fill a bucket", func(t *testing.T) {
		name = awstest.NewBucket(t, client)
		sem := make(chan struct{}, 16)
		errs := make(chan error, 1201)
		for i := range 1201 {
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				_, err := client.PutObject(t.Context(), &s3.PutObjectInput{
					Bucket: aws.String(name), Key: aws.String(fmt.Sprintf("k/%04d", i)), Body: strings.NewReader("x"),
				})
				errs <- err
			}()
		}
		for range 1201 {
			if err := <-errs; err != nil {
				t.Fatalf("PutObject: %v", err)
			}
		}
	})
	_, err := client.HeadBucket(t.Context(), &s3.HeadBucketInput{Bucket: aws.String(name)})
	var notFound *s3types.NotFound
	if !errors.As(err, &notFound) {
		t.Errorf("HeadBucket after cleanup: got %v, want NotFound", err)
	}
}

func TestBucketNamesAreUnique(t *testing.T) {
	client := awstest.S3(t)
	a, b := awstest.NewBucket(t, client), awstest.NewBucket(t, client)
	if a == b {
		t.Errorf("two buckets named %q", a)
	}
}

func TestSQS(t *testing.T) {
	client := awstest.SQS(t)
	ctx := t.Context()
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("postmill-awstest-%d", time.Now().UnixNano()))})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	t.Cleanup(func() {
		client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})
	})
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("hello")}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "hello" {
		t.Errorf("ReceiveMessage: got %+v, want one message saying hello", out.Messages)
	}
}

func TestConfig(t *testing.T) {
	cfg := awstest.Config(t)
	if aws.ToString(cfg.BaseEndpoint) != awstest.Endpoint(t) {
		t.Errorf("BaseEndpoint %q, Endpoint %q", aws.ToString(cfg.BaseEndpoint), awstest.Endpoint(t))
	}
	if cfg.RequestChecksumCalculation != aws.RequestChecksumCalculationWhenRequired {
		t.Errorf("RequestChecksumCalculation %v, want WhenRequired", cfg.RequestChecksumCalculation)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil || creds.AccessKeyID != "test" {
		t.Errorf("credentials: %+v, %v", creds, err)
	}
}

// childEnv marks the test binary re-run by TestMotoDiesWithTestBinary.
const childEnv = "AWSTEST_CHILD_PANICS"

// TestMotoDiesWithTestBinary runs this test binary again, has it start
// moto and then panic, so that neither Main nor any cleanup runs, and
// checks that moto goes down with it anyway.
func TestMotoDiesWithTestBinary(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		fmt.Println("endpoint", awstest.Endpoint(t))
		panic("dying without cleanup")
	}
	if os.Getenv(awstest.EnvEndpoint) != "" {
		t.Skipf("%s is set, so this package starts no emulator", awstest.EnvEndpoint)
	}
	awstest.Endpoint(t) // honours POSTMILL_SKIP_INTEGRATION

	cmd := exec.Command(os.Args[0], "-test.run=^TestMotoDiesWithTestBinary$")
	// The child cannot remove moto's log file; have it write it here.
	cmd.Env = append(os.Environ(), childEnv+"=1", "TMPDIR="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var endpoint string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "endpoint "); ok {
			endpoint = u
		}
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("child test binary did not fail")
	}
	if endpoint == "" {
		t.Fatal("child test binary printed no endpoint")
	}

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(endpoint + "/moto-api/")
		if err != nil {
			return // moto is gone
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("moto at %s still answers after its test binary died", endpoint)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
