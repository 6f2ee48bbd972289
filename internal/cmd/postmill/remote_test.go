package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/postmill/postmill/internal/awstest"
	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/s3store"
	"github.com/postmill/postmill/internal/site"
)

// stack is a source and a site bucket in the emulator, the environment
// that points the command at them, and the engine the function would run.
type stack struct {
	env    map[string]string
	client *s3.Client
	src    string
	eng    *publish.Engine
}

func newStack(t *testing.T) *stack {
	t.Helper()
	endpoint := awstest.Endpoint(t)
	// The command loads its AWS configuration as in production, from the
	// environment; keep a developer's own files out of it.
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_PROFILE": "",
	} {
		t.Setenv(k, v)
	}
	client := awstest.S3(t)
	s := &stack{
		env:    map[string]string{"AWS_ENDPOINT_URL": endpoint},
		client: client,
		src:    awstest.NewBucket(t, client),
	}
	cfg, err := site.Load(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	r, err := site.NewRenderer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dst := awstest.NewBucket(t, client)
	s.eng = publish.New(s3store.New(client, s.src), s3store.New(client, dst), r, publish.Options{Clock: func() time.Time { return testNow }})
	return s
}

// process runs the function's engine over keys, as an upload's events
// would.
func (s *stack) process(t *testing.T, keys ...string) {
	t.Helper()
	var cs []publish.Change
	for _, k := range keys {
		cs = append(cs, publish.Change{Key: k})
	}
	for _, o := range s.eng.Apply(t.Context(), cs).Outcomes {
		if o.Err != nil {
			t.Fatalf("%s: %v", o.Key, o.Err)
		}
	}
}

func (s *stack) object(t *testing.T, key string) (string, error) {
	t.Helper()
	out, err := s.client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(s.src), Key: aws.String(key)})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return string(b), err
}

const helloPost = "---\ntitle: Hello\ndate: 2024-01-02\n---\nHello, world.\n"

func TestPublishAndStatus(t *testing.T) {
	s := newStack(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"hello.md":       helloPost,
		"talk/index.md":  "---\ntitle: Talk\ndate: 2024-02-03\n---\n![slide](./slide.png)\n",
		"talk/slide.png": "\x89PNG\r\n",
		"broken.md":      "---\ndate: 2024-01-02\n---\n",
	})
	hello := filepath.Join(dir, "hello.md")

	t.Run("publish uploads each file, pictures first", func(t *testing.T) {
		stdout, stderr, code := postmill(t, s.env, "publish", "-bucket", s.src, hello, filepath.Join(dir, "talk"))
		if code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		wantLines(t, "stdout", stdout,
			"uploaded s3://"+s.src+"/posts/talk/slide.png",
			"uploaded s3://"+s.src+"/posts/hello.md",
			"uploaded s3://"+s.src+"/posts/talk/index.md",
		)
		if got, err := s.object(t, "posts/hello.md"); err != nil || got != helloPost {
			t.Errorf("posts/hello.md in the bucket: %q, %v", got, err)
		}
	})

	t.Run("status before the function ran", func(t *testing.T) {
		stdout, _, code := postmill(t, s.env, "status", "-bucket", s.src, "posts/hello.md")
		if code != exitProblem {
			t.Errorf("exit %d, want %d", code, exitProblem)
		}
		wantLines(t, "stdout", stdout, "posts/hello.md: no status yet: has the post been uploaded, and is the stack running?")
	})

	s.process(t, "posts/talk/slide.png", "posts/hello.md", "posts/talk/index.md")

	t.Run("status of a published post, by key or by file", func(t *testing.T) {
		stdout, stderr, code := postmill(t, s.env, "status", "-bucket", s.src, "posts/hello.md", hello, filepath.Join(dir, "talk/index.md"))
		if code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		wantLines(t, "stdout", stdout,
			"posts/hello.md: published at http://127.0.0.1:8080/2024/01/02/hello/",
			"posts/hello.md: published at http://127.0.0.1:8080/2024/01/02/hello/",
			"posts/talk/index.md: published at http://127.0.0.1:8080/2024/02/03/talk/",
		)
	})

	t.Run("status of a rejected post names the local file", func(t *testing.T) {
		// Uploaded by some other means: publish would have refused it.
		broken := filepath.Join(dir, "broken.md")
		data, err := os.ReadFile(broken)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s3store.New(s.client, s.src).Write(t.Context(), "posts/broken.md", data, nil); err != nil {
			t.Fatal(err)
		}
		s.process(t, "posts/broken.md")
		stdout, _, code := postmill(t, s.env, "status", "-bucket", s.src, broken)
		if code != exitProblem {
			t.Errorf("exit %d, want %d", code, exitProblem)
		}
		wantLines(t, "stdout", stdout,
			"posts/broken.md: rejected",
			broken+":1: the front matter has no title",
		)
		stdout, _, _ = postmill(t, s.env, "status", "-bucket", s.src, "posts/broken.md")
		wantLines(t, "stdout", stdout,
			"posts/broken.md: rejected",
			"posts/broken.md:1: the front matter has no title",
		)
	})

	t.Run("a rejected edit keeps the version on the site", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other.md")
		writeFiles(t, filepath.Dir(other), map[string]string{"other.md": "---\ntitle: Other\ndate: 2024-03-05\nurl: /2024/01/02/hello/\n---\n"})
		if _, err := s3store.New(s.client, s.src).Write(t.Context(), "posts/other.md", []byte("---\ntitle: Other\ndate: 2024-03-04\n---\nx\n"), nil); err != nil {
			t.Fatal(err)
		}
		s.process(t, "posts/other.md")
		// Now an edit that takes hello's path: the function refuses it,
		// and hello stays; check alone could not know.
		if _, _, code := postmill(t, s.env, "publish", "-bucket", s.src, other); code != exitOK {
			t.Fatalf("publish exit %d", code)
		}
		s.process(t, "posts/other.md")
		stdout, _, code := postmill(t, s.env, "status", "-bucket", s.src, other)
		if code != exitProblem {
			t.Errorf("exit %d, want %d", code, exitProblem)
		}
		wantLines(t, "stdout", stdout,
			"posts/other.md: rejected",
			other+":4: path /2024/01/02/hello/ is already used by posts/hello.md; change this post's slug or url",
			"posts/other.md: the version published before stays at http://127.0.0.1:8080/2024/03/04/other/",
		)
	})
}

func TestPublishWait(t *testing.T) {
	s := newStack(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"hello.md": helloPost})
	hello := filepath.Join(dir, "hello.md")

	// The function: whatever is in posts/, processed every few
	// milliseconds, as events would have it.
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	defer func() { cancel(); <-stopped }()
	go func() {
		defer close(stopped)
		src := s3store.New(s.client, s.src)
		for ctx.Err() == nil {
			objs, err := blob.ListAll(ctx, src, "posts/")
			if err == nil && len(objs) > 0 {
				var cs []publish.Change
				for _, o := range objs {
					cs = append(cs, publish.Change{Key: o.Key})
				}
				s.eng.Apply(ctx, cs)
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()

	// Without -bucket: the local stack's, from its outputs.
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	writeFiles(t, filepath.Dir(outputs), map[string]string{"outputs.json": `{"source_bucket": {"sensitive": false, "type": "string", "value": "` + s.src + `"}}`})

	want := []string{
		"uploaded s3://" + s.src + "/posts/hello.md",
		"posts/hello.md: published at http://127.0.0.1:8080/2024/01/02/hello/",
	}
	t.Run("a new post", func(t *testing.T) {
		stdout, stderr, code := postmill(t, s.env, "publish", "-outputs", outputs, "-wait", "-timeout", "30s", hello)
		if code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		wantLines(t, "stdout", stdout, want...)
	})
	t.Run("the same post again, whose status does not change", func(t *testing.T) {
		stdout, stderr, code := postmill(t, s.env, "publish", "-outputs", outputs, "-wait", "-timeout", "30s", hello)
		if code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		wantLines(t, "stdout", stdout, want...)
	})
	t.Run("an edit", func(t *testing.T) {
		writeFiles(t, dir, map[string]string{"hello.md": strings.Replace(helloPost, "world", "again", 1)})
		stdout, stderr, code := postmill(t, s.env, "publish", "-outputs", outputs, "-wait", "-timeout", "30s", hello)
		if code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		wantLines(t, "stdout", stdout, want...)
	})
}

func TestBucketChoice(t *testing.T) {
	dir := t.TempDir()
	outputs := filepath.Join(dir, "outputs.json")
	writeFiles(t, dir, map[string]string{"outputs.json": `{"source_bucket": {"value": "postmill-source-local"}}`})
	a, _, _ := testApp(nil)
	for _, tc := range []struct {
		name string
		opts remoteOptions
		want string
	}{
		{"no outputs", remoteOptions{outputs: filepath.Join(dir, "missing.json")}, "no bucket: pass -bucket, or start the local stack with `make run`"},
		{"the local stack without its endpoint", remoteOptions{outputs: outputs}, "s3://postmill-source-local is the local stack's bucket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := a.bucket(t.Context(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("the local stack's bucket", func(t *testing.T) {
		_, name, err := a.bucket(t.Context(), remoteOptions{outputs: outputs, endpoint: "http://127.0.0.1:1"})
		if err != nil || name != "postmill-source-local" {
			t.Errorf("bucket %q, %v", name, err)
		}
	})
}
