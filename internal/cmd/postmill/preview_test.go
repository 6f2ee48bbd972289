package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/edge"
)

const headersFile = "../../../infra/cloudfront/security-headers.json"

// startPreview runs the preview command until the test ends and returns
// its address ("http://127.0.0.1:PORT/") and output.
func startPreview(t *testing.T, env map[string]string, args ...string) (base string, stdout, stderr *syncBuffer) {
	t.Helper()
	a, stdout, stderr := testApp(env)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- a.run(ctx, append([]string{"preview", "-addr", "127.0.0.1:0", "-headers", headersFile}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != exitOK {
				t.Errorf("preview exited %d; stderr:\n%s", code, stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("preview did not stop when interrupted")
		}
	})
	base = waitFor(t, stdout, func(out string) string {
		for line := range strings.Lines(out) {
			if u, ok := strings.CutPrefix(strings.TrimSpace(line), "preview: "); ok {
				return u
			}
		}
		return ""
	}, func() string {
		select {
		case code := <-done:
			return fmt.Sprintf("preview exited %d; stderr:\n%s", code, stderr.String())
		default:
			return ""
		}
	})
	return base, stdout, stderr
}

// waitFor polls until found returns something, failing the test after a
// while or as soon as failed says why.
func waitFor(t *testing.T, out *syncBuffer, found func(string) string, failed func() string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if v := found(out.String()); v != "" {
			return v
		}
		if failed != nil {
			if why := failed(); why != "" {
				t.Fatal(why)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("gave up waiting; output so far:\n%s", out.String())
	return ""
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestPreviewServesTheSampleSite(t *testing.T) {
	base, stdout, _ := startPreview(t, nil, samplePosts)
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/") {
		t.Fatalf("preview address %q", base)
	}
	wantLines(t, "stdout", stdout.String(), "preview: "+base)
	headers, err := edge.LoadHeaders(headersFile)
	if err != nil {
		t.Fatal(err)
	}
	resp, notFound := get(t, base+"404.html")
	if resp.StatusCode != http.StatusOK || !strings.Contains(notFound, "<html") {
		t.Fatalf("GET /404.html: %s\n%s", resp.Status, notFound)
	}

	for _, tc := range []struct {
		name, path string
		status     int
		contains   []string
	}{
		{"the home page", "/", http.StatusOK, []string{
			"Cache keys that survive a monorepo",
			// SITE_BASE_URL is the preview's own address, so links work.
			`href="` + base + `index.xml"`,
		}},
		{"a post page", "/2020/09/08/cache-keys-that-survive-a-monorepo/", http.StatusOK, []string{
			"Cache keys that survive a monorepo",
			"Our monorepo has eleven services",
		}},
		{"a bundle's picture", "/2020/05/04/drawing-the-deployment-pipeline/diagram.png", http.StatusOK, nil},
		{"the draft is not there", "/2023/02/01/half-finished-notes-on-ebpf-profiling/", http.StatusNotFound, nil},
		{"a missing page is the 404 page", "/missing", http.StatusNotFound, []string{notFound}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, strings.TrimSuffix(base, "/")+tc.path)
			if resp.StatusCode != tc.status {
				t.Errorf("GET %s: %s, want %d", tc.path, resp.Status, tc.status)
			}
			if tc.status == http.StatusOK && strings.HasSuffix(tc.path, "/") && resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q, want HTML", resp.Header.Get("Content-Type"))
			}
			for _, want := range tc.contains {
				if !strings.Contains(body, want) {
					t.Errorf("GET %s: body lacks %q", tc.path, want)
				}
			}
			// The distribution's headers, on every response.
			for name, want := range map[string]string{
				"Content-Security-Policy":    headers.ContentSecurityPolicy,
				"X-Frame-Options":            headers.FrameOptions,
				"Referrer-Policy":            headers.ReferrerPolicy,
				"X-Content-Type-Options":     "nosniff",
				"Strict-Transport-Security":  "max-age=63072000; includeSubDomains; preload",
				"Cross-Origin-Opener-Policy": headers.Custom["Cross-Origin-Opener-Policy"],
			} {
				if got := resp.Header.Get(name); got != want || want == "" {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestPreviewReportsRejectedPosts(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"fine.md":  "---\ntitle: Fine\ndate: 2024-01-02\n---\nText.\n",
		"wrong.md": "---\ndate: 2024-01-02\n---\nText.\n",
	})
	base, stdout, _ := startPreview(t, nil, dir)
	wantLines(t, "stdout", stdout.String(),
		filepath.Join(dir, "wrong.md")+":1: the front matter has no title",
		"preview: "+base)
	if resp, _ := get(t, base+"2024/01/02/fine/"); resp.StatusCode != http.StatusOK {
		t.Errorf("the valid post: %s", resp.Status)
	}
}

func TestPreviewWatchPublishesEdits(t *testing.T) {
	dir := t.TempDir()
	post := filepath.Join(dir, "hello.md")
	writeFiles(t, dir, map[string]string{"hello.md": "---\ntitle: Hello\nurl: /hello/\n---\nFirst version.\n"})
	base, stdout, _ := startPreview(t, nil, "-watch", dir)
	page := base + "hello/"

	// pageSays waits until the page shows want (or, for "", is gone).
	pageSays := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, body := get(t, page)
			if (want == "" && resp.StatusCode == http.StatusNotFound) || (want != "" && resp.StatusCode == http.StatusOK && strings.Contains(body, want)) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never showed %q; output:\n%s", page, want, stdout.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	pageSays("First version.")

	t.Run("an edit shows after a reload", func(t *testing.T) {
		if err := os.WriteFile(post, []byte("---\ntitle: Hello\nurl: /hello/\n---\nSecond, longer version.\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		pageSays("Second, longer version.")
		waitFor(t, stdout, func(out string) string {
			if strings.Contains(out, post+": published at "+page+"\n") {
				return "ok"
			}
			return ""
		}, nil)
	})
	t.Run("a broken edit is reported and the page stays", func(t *testing.T) {
		if err := os.WriteFile(post, []byte("---\nurl: /hello/\n---\nBroken.\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		waitFor(t, stdout, func(out string) string {
			if strings.Contains(out, post+":1: the front matter has no title\n") {
				return "ok"
			}
			return ""
		}, nil)
		pageSays("Second, longer version.")
	})
	t.Run("a deleted post is gone", func(t *testing.T) {
		if err := os.Remove(post); err != nil {
			t.Fatal(err)
		}
		pageSays("")
		waitFor(t, stdout, func(out string) string {
			if strings.Contains(out, post+": deleted\n") {
				return "ok"
			}
			return ""
		}, nil)
	})
}

func TestPreviewNeedsTheHeadersPolicy(t *testing.T) {
	_, stderr, code := postmill(t, nil, "preview", "-addr", "127.0.0.1:0", "-headers", "nowhere.json", samplePosts)
	if code != exitProblem {
		t.Errorf("exit %d, want %d", code, exitProblem)
	}
	if !strings.Contains(stderr, "nowhere.json") || !strings.Contains(stderr, "pass -headers") {
		t.Errorf("stderr does not say what is missing:\n%s", stderr)
	}
}

func TestPreviewOfAPageBundle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "talk")
	writeFiles(t, dir, map[string]string{
		"index.md":  "---\ntitle: Talk\ndate: 2024-02-03\n---\n![slide](./slide.png)\n",
		"slide.png": "\x89PNG\r\n",
	})
	base, _, _ := startPreview(t, nil, dir)
	for _, path := range []string{"2024/02/03/talk/", "2024/02/03/talk/slide.png"} {
		if resp, _ := get(t, base+path); resp.StatusCode != http.StatusOK {
			t.Errorf("GET /%s: %s", path, resp.Status)
		}
	}
}
