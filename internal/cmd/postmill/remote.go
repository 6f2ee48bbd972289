package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/catalog"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/s3store"
)

var publishCommand = &command{
	name:  "publish",
	args:  "[-bucket NAME] [-root DIR] [-wait] FILE|DIR...",
	short: "check posts, then upload them to the source bucket",
	long: `Publish runs check on the files first and uploads nothing if any would
be rejected. Then it uploads each file to s3://BUCKET/posts/..., other
files before posts so that a page never links to an image still on its
way, and prints "uploaded s3://BUCKET/KEY" for each.

With -wait it then waits until the function has processed each post and
prints its status, as "postmill status" does; the exit status is 1 if
one was rejected (say, because a post already on the site has its path).`,
	setup: func(fs *flag.FlagSet) func(context.Context, *app, []string) int {
		var ro remoteOptions
		ro.declare(fs)
		root := fs.String("root", "", "the folder source keys are relative to (default: see \"postmill help\")")
		wait := fs.Bool("wait", false, "wait for the function, and print each post's status")
		timeout := fs.Duration("timeout", 2*time.Minute, "how long -wait waits for each post")
		return func(ctx context.Context, a *app, args []string) int {
			if len(args) == 0 {
				return a.usageError("publish", "no files to publish")
			}
			files, err := collect(args, *root)
			if err != nil {
				return a.fail("publish", err)
			}
			ck, err := a.checker(a.lookup)
			if err != nil {
				return a.fail("publish", err)
			}
			if ck.report(a.stdout, ck.check(files)) {
				fmt.Fprintln(a.stderr, "postmill publish: nothing uploaded: fix the problems above")
				return exitProblem
			}
			b, name, err := a.bucket(ctx, ro)
			if err != nil {
				return a.fail("publish", err)
			}
			return a.publish(ctx, b, name, files, *wait, *timeout)
		}
	},
}

var statusCommand = &command{
	name:  "status",
	args:  "[-bucket NAME] [-root DIR] POST...",
	short: "print what the function made of an uploaded post",
	long: `Status reads the status the function keeps for a post in the source
bucket and prints it: "posts/x.md: published at URL", or "rejected"
followed by each problem as file:line: problem, or draft, scheduled,
expired or deleted.

POST is a source key ("posts/x.md") or a local file, whose key is found
as for check and publish; problems then name the local file.

The exit status is 1 when a post was rejected or has no status yet.`,
	setup: func(fs *flag.FlagSet) func(context.Context, *app, []string) int {
		var ro remoteOptions
		ro.declare(fs)
		root := fs.String("root", "", "the folder source keys are relative to (default: see \"postmill help\")")
		return func(ctx context.Context, a *app, args []string) int {
			if len(args) == 0 {
				return a.usageError("status", "no post named")
			}
			type named struct{ key, file string }
			var posts []named
			for _, arg := range args {
				key, local, err := keyOf(arg, *root)
				if err != nil {
					return a.fail("status", err)
				}
				n := named{key: key, file: key}
				if local {
					n.file = arg
				}
				posts = append(posts, n)
			}
			b, _, err := a.bucket(ctx, ro)
			if err != nil {
				return a.fail("status", err)
			}
			code := exitOK
			for _, p := range posts {
				st, err := readStatus(ctx, b, p.key)
				switch {
				case errors.Is(err, blob.ErrNotFound):
					fmt.Fprintf(a.stdout, "%s: no status yet: has the post been uploaded, and is the stack running?\n", p.key)
					code = exitProblem
				case err != nil:
					return a.fail("status", err)
				case printStatus(a.stdout, st, p.file):
					code = exitProblem
				}
			}
			return code
		}
	},
}

// remoteOptions say which bucket publish and status talk to, and how.
type remoteOptions struct {
	bucket, outputs, endpoint string
}

func (o *remoteOptions) declare(fs *flag.FlagSet) {
	fs.StringVar(&o.bucket, "bucket", "", "the source bucket (default: the local stack's, from -outputs)")
	fs.StringVar(&o.outputs, "outputs", ".run/outputs.json", "terraform output -json of the local stack")
	fs.StringVar(&o.endpoint, "endpoint", "", "S3 endpoint, for an emulator (default: $AWS_ENDPOINT_URL)")
}

// bucket builds the S3 client the way the function does, for the bucket
// the options name.
func (a *app) bucket(ctx context.Context, o remoteOptions) (*s3store.Bucket, string, error) {
	endpoint := o.endpoint
	if endpoint == "" {
		endpoint, _ = a.lookup("AWS_ENDPOINT_URL")
	}
	name := o.bucket
	if name == "" {
		var err error
		if name, err = sourceBucket(o.outputs); err != nil {
			return nil, "", err
		}
		if endpoint == "" {
			return nil, "", fmt.Errorf("s3://%s is the local stack's bucket (from %s), but no endpoint is set: "+
				"set AWS_ENDPOINT_URL to the endpoint `make run` printed, or pass -endpoint", name, o.outputs)
		}
	}
	var opts []func(*config.LoadOptions) error
	if endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		if endpoint == "" {
			return nil, "", errors.New("no AWS region: set AWS_REGION, or a region in your AWS profile")
		}
		cfg.Region = "us-east-1" // an emulator takes any
	}
	client := s3.NewFromConfig(cfg, func(opt *s3.Options) {
		// Emulators serve buckets by path, not by host.
		opt.UsePathStyle = endpoint != ""
		opt.DisableLogOutputChecksumValidationSkipped = true
	})
	return s3store.New(client, name), name, nil
}

// sourceBucket reads the source bucket's name from Terraform's outputs.
func sourceBucket(outputs string) (string, error) {
	raw, err := os.ReadFile(outputs)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no bucket: pass -bucket, or start the local stack with `make run` (it writes %s)", outputs)
	}
	if err != nil {
		return "", err
	}
	var tf map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &tf); err != nil {
		return "", fmt.Errorf("%s: %w", outputs, err)
	}
	var name string
	if out, ok := tf["source_bucket"]; ok {
		if err := json.Unmarshal(out.Value, &name); err != nil {
			return "", fmt.Errorf("%s: output source_bucket: %w", outputs, err)
		}
	}
	if name == "" {
		return "", fmt.Errorf("%s has no source_bucket output; pass -bucket", outputs)
	}
	return name, nil
}

// remoteBucket is what publish and status need of the source bucket.
type remoteBucket interface {
	ReadAtMost(ctx context.Context, key string, max int64) ([]byte, blob.Attributes, error)
	Write(ctx context.Context, key string, data []byte, opts *blob.WriteOptions) (blob.Attributes, error)
}

// maxStateBytes bounds what is read of a status or record.
const maxStateBytes = 16 << 20

func readStatus(ctx context.Context, b remoteBucket, key string) (publish.Status, error) {
	var st publish.Status
	err := readJSON(ctx, b, publish.StatusKey(key), &st)
	return st, err
}

func readJSON(ctx context.Context, b remoteBucket, key string, v any) error {
	data, _, err := b.ReadAtMost(ctx, key, maxStateBytes)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

// printStatus prints a post's status, problems naming file, and reports
// whether the post was rejected.
func printStatus(w io.Writer, st publish.Status, file string) (rejected bool) {
	switch st.Status {
	case "published":
		fmt.Fprintf(w, "%s: published at %s\n", st.Key, st.URL)
	case "rejected":
		fmt.Fprintf(w, "%s: rejected\n", st.Key)
		for _, p := range st.Problems {
			fmt.Fprintln(w, localProblem(p, st.Key, file))
		}
		if st.URL != "" {
			fmt.Fprintf(w, "%s: the version published before stays at %s\n", st.Key, st.URL)
		}
		return true
	default:
		fmt.Fprintf(w, "%s: %s\n", st.Key, st.Status)
	}
	return false
}

func (a *app) publish(ctx context.Context, b remoteBucket, bucket string, files []localFile, wait bool, timeout time.Duration) int {
	// Assets first: a page should not go live before its pictures.
	sort.SliceStable(files, func(i, j int) bool { return !files[i].isPost() && files[j].isPost() })
	type uploaded struct {
		file   localFile
		etag   string
		before int64 // the status revision before the upload
	}
	var posts []uploaded
	for _, f := range files {
		u := uploaded{file: f}
		if wait && f.isPost() {
			st, err := readStatus(ctx, b, f.key)
			if err != nil && !errors.Is(err, blob.ErrNotFound) {
				return a.fail("publish", err)
			}
			u.before = st.Revision
		}
		data, err := os.ReadFile(f.path)
		if err != nil {
			return a.fail("publish", err)
		}
		attrs, err := b.Write(ctx, f.key, data, &blob.WriteOptions{ContentType: f.contentType()})
		if err != nil {
			return a.fail("publish", err)
		}
		fmt.Fprintf(a.stdout, "uploaded s3://%s/%s\n", bucket, f.key)
		if f.isPost() {
			u.etag = attrs.ETag
			posts = append(posts, u)
		}
	}
	if !wait {
		return exitOK
	}
	code := exitOK
	for _, u := range posts {
		st, err := a.waitStatus(ctx, b, u.file.key, u.etag, u.before, timeout)
		if err != nil {
			return a.fail("publish", err)
		}
		if printStatus(a.stdout, st, u.file.path) {
			code = exitProblem
		}
	}
	return code
}

// waitStatus waits until the function has processed the upload of key
// with etag, and returns the post's status. The status is current once
// its revision passes before and the record reflects the upload; but the
// function rewrites it only when what it says changes, so once the record
// has settled on the upload the status is taken as it is.
func (a *app) waitStatus(ctx context.Context, b remoteBucket, key, etag string, before int64, timeout time.Duration) (publish.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	settled := 0
	for {
		var rec catalog.Record
		err := readJSON(ctx, b, publish.DefaultStatePrefix+catalog.RecordName(key), &rec)
		if err != nil && !errors.Is(err, blob.ErrNotFound) && ctx.Err() == nil {
			return publish.Status{}, err
		}
		if err == nil && sameETag(rec.SourceETag, etag) && len(rec.Pending) == 0 && len(rec.PendingDeletes) == 0 {
			settled++
			st, err := readStatus(ctx, b, key)
			if err != nil && !errors.Is(err, blob.ErrNotFound) && ctx.Err() == nil {
				return publish.Status{}, err
			}
			if err == nil && ((st.Revision > before && st.Revision >= rec.Rev) || settled > 2) {
				return st, nil
			}
		}
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return publish.Status{}, fmt.Errorf("%s: no status after %v: is the function running (make run)?", key, timeout)
			}
			return publish.Status{}, ctx.Err()
		case <-time.After(a.pollEvery):
		}
	}
}

// sameETag compares ETags as S3 does, quotes or none.
func sameETag(a, b string) bool { return a != "" && strings.Trim(a, `"`) == strings.Trim(b, `"`) }
