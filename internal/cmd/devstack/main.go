// Command devstack is the local half of `make run`: with the stack already
// applied to an AWS emulator by Terraform, it plays the Lambda service and
// the event source mapping (queue → the built bootstrap, through the Lambda
// Runtime API), serves the site bucket like CloudFront on a local port,
// publishes the sample posts, and stays up until interrupted.
//
// It prints, exactly, for scripts:
//
//	endpoint: <url>
//	source bucket: s3://<name>
//	site: http://127.0.0.1:8080/
//	ready
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postmill/postmill/internal/edge"
	"github.com/postmill/postmill/internal/lambdart"
	"github.com/postmill/postmill/internal/pump"
	"github.com/postmill/postmill/internal/s3store"
)

type options struct {
	endpoint, outputs, bootstrap, listen, headers, publish, logFile string
	workers                                                         int
}

func main() {
	var o options
	flag.StringVar(&o.endpoint, "endpoint", os.Getenv("AWS_ENDPOINT_URL"), "AWS emulator endpoint")
	flag.StringVar(&o.outputs, "outputs", ".run/outputs.json", "terraform output -json of the applied stack")
	flag.StringVar(&o.bootstrap, "bootstrap", "dist/local/render/bootstrap", "the render function built for this machine")
	flag.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address of the local CDN")
	flag.StringVar(&o.headers, "headers", "infra/cloudfront/security-headers.json", "the CDN's response headers")
	flag.StringVar(&o.publish, "publish", "testdata/posts", "posts to upload once the stack is up (empty: none)")
	flag.StringVar(&o.logFile, "log", ".run/function.log", "where the function's logs go")
	flag.IntVar(&o.workers, "workers", 2, "function instances running at once")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, log); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

// outputs are the Terraform outputs devstack needs.
type outputs struct {
	SourceBucket string            `json:"source_bucket"`
	SiteBucket   string            `json:"site_bucket"`
	QueueURL     string            `json:"queue_url"`
	Environment  map[string]string `json:"function_environment"`
}

func readOutputs(path string) (outputs, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return outputs{}, err
	}
	var tf map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &tf); err != nil {
		return outputs{}, fmt.Errorf("%s: %w", path, err)
	}
	var out outputs
	fields := map[string]any{"source_bucket": &out.SourceBucket, "site_bucket": &out.SiteBucket, "queue_url": &out.QueueURL,
		"function_environment": &out.Environment}
	for k, dst := range fields {
		v, ok := tf[k]
		if !ok {
			return outputs{}, fmt.Errorf("%s: no output %q", path, k)
		}
		if err := json.Unmarshal(v.Value, dst); err != nil {
			return outputs{}, fmt.Errorf("%s: output %q: %w", path, k, err)
		}
	}
	return out, nil
}

func run(ctx context.Context, o options, log *slog.Logger) error {
	if o.endpoint == "" {
		return errors.New("no emulator: set AWS_ENDPOINT_URL or pass -endpoint")
	}
	out, err := readOutputs(o.outputs)
	if err != nil {
		return err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithBaseEndpoint(o.endpoint))
	if err != nil {
		return err
	}
	s3c := s3.NewFromConfig(awsCfg, func(opt *s3.Options) {
		opt.UsePathStyle = true
		// Emulators send no response checksums; that is not news.
		opt.DisableLogOutputChecksumValidationSkipped = true
	})
	sqsc := sqs.NewFromConfig(awsCfg)

	// The function, configured exactly as Terraform configures it, pointed
	// at the emulator.
	// Lambda sets the log variables from the function's JSON logging
	// configuration.
	env := append(os.Environ(), "AWS_ENDPOINT_URL="+o.endpoint, "AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL=INFO")
	for k, v := range out.Environment {
		env = append(env, k+"="+v)
	}
	if err := os.MkdirAll(filepath.Dir(o.logFile), 0o755); err != nil {
		return err
	}
	logs, err := os.OpenFile(o.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logs.Close()
	var fns []pump.Invoker
	for i := 0; i < o.workers; i++ {
		p, err := lambdart.Start(ctx, o.bootstrap, env, logs, lambdart.WithFunctionName("render"), lambdart.WithTimeout(60*time.Second))
		if err != nil {
			return fmt.Errorf("start the function (logs in %s): %w", o.logFile, err)
		}
		defer p.Stop()
		fns = append(fns, p)
	}
	qa, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(out.QueueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return fmt.Errorf("queue %s: %w", out.QueueURL, err)
	}
	pm := pump.New(sqsc, out.QueueURL, qa.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], fns, pump.WithLogger(log))
	pumpDone := make(chan error, 1)
	go func() { pumpDone <- pm.Run(ctx) }()

	headers, err := edge.LoadHeaders(o.headers)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("local CDN: %w", err)
	}
	srv := &http.Server{Handler: edge.New(s3store.New(s3c, out.SiteBucket), headers), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	// The author tools (make publish, make status) find the stack here.
	if err := os.WriteFile(filepath.Join(filepath.Dir(o.outputs), "endpoint"), []byte(o.endpoint+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("endpoint: %s\n", o.endpoint)
	fmt.Printf("source bucket: s3://%s\n", out.SourceBucket)
	fmt.Printf("site: http://%s/\n", ln.Addr())

	if o.publish != "" {
		n, err := upload(ctx, s3c, out.SourceBucket, o.publish)
		if err != nil {
			return err
		}
		if err := waitPublished(ctx, sqsc, out.QueueURL); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "published %d files from %s\n", n, o.publish)
	}
	fmt.Println("ready")

	select {
	case <-ctx.Done():
		return nil
	case err := <-pumpDone:
		return err
	}
}

// upload puts every file under dir into the source bucket's posts/.
func upload(ctx context.Context, c *s3.Client, bucket, dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("posts/" + filepath.ToSlash(rel)), Body: bytes.NewReader(data)})
		n++
		return err
	})
	return n, err
}

// waitPublished waits until the queue has been empty, with nothing in
// flight, twice in a row.
func waitPublished(ctx context.Context, c *sqs.Client, url string) error {
	quiet := 0
	for quiet < 2 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
		if err != nil {
			return err
		}
		if a.Attributes["ApproximateNumberOfMessages"] == "0" && a.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
			quiet++
		} else {
			quiet = 0
		}
	}
	return nil
}
