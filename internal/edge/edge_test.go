package edge_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/blob/memblob"
	"github.com/postmill/postmill/internal/edge"
)

var (
	written  = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	modified = written.Format(http.TimeFormat)

	// Big enough for CloudFront to compress.
	homePage = "<!doctype html><title>Home</title>" + strings.Repeat("<p>A post about Go.</p>", 60)
	feed     = `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">` + strings.Repeat("<entry/>", 200) + "</feed>"
)

const (
	typeHTML   = "text/html; charset=utf-8"
	cacheShort = "public, max-age=60, must-revalidate"
)

// site returns the bucket the tests serve and the ETag of index.html.
func site(t *testing.T) (*memblob.Bucket, string) {
	t.Helper()
	b := memblob.New(memblob.WithClock(func() time.Time { return written }))
	objects := []struct{ key, body, ctype string }{
		{"index.html", homePage, typeHTML},
		{"tags/go/index.html", "<p>go</p>", typeHTML},
		{"tags/über/index.html", "<p>über</p>", typeHTML},
		{"index.xml", feed, "application/atom+xml"},
		{"stage.png", strings.Repeat("\x89PNG", 400), "image/png"},
		{"404.html", "<p>not here</p>", typeHTML},
	}
	var etag string
	for _, o := range objects {
		attrs, err := b.Write(t.Context(), o.key, []byte(o.body), &blob.WriteOptions{ContentType: o.ctype, CacheControl: cacheShort})
		if err != nil {
			t.Fatal(err)
		}
		if o.key == "index.html" {
			etag = attrs.ETag
		}
	}
	return b, etag
}

func policy(t *testing.T) edge.Headers {
	t.Helper()
	h, err := edge.LoadHeaders(policyFile)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestServe(t *testing.T) {
	bucket, etag := site(t)
	cdn := edge.New(bucket, policy(t))
	gzipped := gzipString(homePage)

	tests := []struct {
		name       string
		method     string
		target     string
		header     map[string]string
		wantStatus int
		wantBody   string            // after gunzipping
		wantHeader map[string]string // "" means absent
	}{
		{
			name: "home page", target: "/", wantStatus: 200, wantBody: homePage,
			wantHeader: map[string]string{
				"Content-Type": typeHTML, "Cache-Control": cacheShort, "ETag": etag,
				"Last-Modified": modified, "Content-Length": strconv.Itoa(len(homePage)),
				"Content-Encoding": "", "Vary": "Accept-Encoding",
			},
		},
		{name: "folder with slash", target: "/tags/go/", wantStatus: 200, wantBody: "<p>go</p>"},
		{name: "folder without slash", target: "/tags/go", wantStatus: 200, wantBody: "<p>go</p>"},
		{name: "query string ignored", target: "/tags/go/?utm_source=feed", wantStatus: 200, wantBody: "<p>go</p>"},
		{name: "encoded unicode folder", target: "/tags/%C3%BCber/", wantStatus: 200, wantBody: "<p>über</p>"},
		{
			name: "missing object gets the 404 page", target: "/2019/nope/", wantStatus: 404, wantBody: "<p>not here</p>",
			wantHeader: map[string]string{"Content-Type": typeHTML, "ETag": "", "Last-Modified": ""},
		},
		{
			name: "HEAD has headers and no body", method: "HEAD", target: "/", wantStatus: 200,
			wantHeader: map[string]string{"ETag": etag, "Content-Length": strconv.Itoa(len(homePage))},
		},
		{
			name: "HEAD of a gzip response gives its length", method: "HEAD", target: "/",
			header: map[string]string{"Accept-Encoding": "gzip"}, wantStatus: 200,
			wantHeader: map[string]string{"Content-Encoding": "gzip", "Content-Length": strconv.Itoa(len(gzipped))},
		},
		{
			name: "POST is not allowed", method: "POST", target: "/", wantStatus: 405, wantBody: "405 method not allowed\n",
			wantHeader: map[string]string{"Allow": "GET, HEAD"},
		},
		{name: "DELETE is not allowed", method: "DELETE", target: "/index.html", wantStatus: 405, wantBody: "405 method not allowed\n"},
		{
			name: "If-None-Match current", target: "/", header: map[string]string{"If-None-Match": etag}, wantStatus: 304,
			wantHeader: map[string]string{"ETag": etag, "Cache-Control": cacheShort, "Content-Type": "", "Content-Length": ""},
		},
		{name: "If-None-Match list, weak", target: "/", header: map[string]string{"If-None-Match": `W/"other", W/` + etag}, wantStatus: 304},
		{name: "If-None-Match star", target: "/", header: map[string]string{"If-None-Match": "*"}, wantStatus: 304},
		{name: "If-None-Match stale", target: "/", header: map[string]string{"If-None-Match": `"other"`}, wantStatus: 200, wantBody: homePage},
		{name: "If-Modified-Since current", target: "/", header: map[string]string{"If-Modified-Since": modified}, wantStatus: 304},
		{
			name: "If-Modified-Since stale", target: "/", wantStatus: 200, wantBody: homePage,
			header: map[string]string{"If-Modified-Since": written.Add(-time.Hour).Format(http.TimeFormat)},
		},
		{
			name: "If-None-Match wins over If-Modified-Since", target: "/", wantStatus: 200, wantBody: homePage,
			header: map[string]string{"If-None-Match": `"other"`, "If-Modified-Since": modified},
		},
		{
			name: "gzip when accepted", target: "/", header: map[string]string{"Accept-Encoding": "gzip, deflate, br"},
			wantStatus: 200, wantBody: homePage,
			wantHeader: map[string]string{
				"Content-Encoding": "gzip", "ETag": "W/" + etag, "Vary": "Accept-Encoding",
				"Content-Length": strconv.Itoa(len(gzipped)),
			},
		},
		{
			name: "gzip response revalidates with its weak ETag", target: "/", wantStatus: 304,
			header:     map[string]string{"Accept-Encoding": "gzip", "If-None-Match": "W/" + etag},
			wantHeader: map[string]string{"ETag": "W/" + etag},
		},
		{
			name: "gzip refused with q=0", target: "/", header: map[string]string{"Accept-Encoding": "gzip;q=0, identity"},
			wantStatus: 200, wantBody: homePage, wantHeader: map[string]string{"Content-Encoding": "", "ETag": etag},
		},
		{
			name: "gzip through a wildcard", target: "/", header: map[string]string{"Accept-Encoding": "*"},
			wantStatus: 200, wantBody: homePage, wantHeader: map[string]string{"Content-Encoding": "gzip"},
		},
		{
			name: "small page not compressed", target: "/tags/go/", header: map[string]string{"Accept-Encoding": "gzip"},
			wantStatus: 200, wantBody: "<p>go</p>", wantHeader: map[string]string{"Content-Encoding": "", "Vary": "Accept-Encoding"},
		},
		{
			name: "Atom feed not compressed, as by CloudFront", target: "/index.xml", header: map[string]string{"Accept-Encoding": "gzip"},
			wantStatus: 200, wantBody: feed, wantHeader: map[string]string{"Content-Encoding": "", "Content-Type": "application/atom+xml"},
		},
		{
			name: "image not compressed", target: "/stage.png", header: map[string]string{"Accept-Encoding": "gzip"},
			wantStatus: 200, wantHeader: map[string]string{"Content-Encoding": "", "Vary": "", "Content-Type": "image/png"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req := httptest.NewRequest(method, tt.target, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			cdn.ServeHTTP(rec, req)
			resp := rec.Result()

			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			checkPolicyHeaders(t, resp.Header)
			for k, want := range tt.wantHeader {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			body := readBody(t, method, resp)
			switch {
			case method == http.MethodHead || tt.wantStatus == http.StatusNotModified:
				if len(body) != 0 {
					t.Errorf("%s %d has a body of %d bytes", method, tt.wantStatus, len(body))
				}
			case tt.wantBody != "" && body != tt.wantBody:
				t.Errorf("body %.80q, want %.80q", body, tt.wantBody)
			}
		})
	}
}

// checkPolicyHeaders checks that a response carries the response headers
// policy, whatever its status.
func checkPolicyHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Strict-Transport-Security":  "max-age=63072000; includeSubDomains; preload",
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "DENY",
		"Referrer-Policy":            "strict-origin-when-cross-origin",
		"Cross-Origin-Opener-Policy": "same-origin",
		"X-Cache":                    "local-edge",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("Content-Security-Policy: %q", h.Get("Content-Security-Policy"))
	}
	if !strings.Contains(h.Get("Permissions-Policy"), "camera=()") {
		t.Errorf("Permissions-Policy: %q", h.Get("Permissions-Policy"))
	}
}

// readBody returns the body, gunzipped if it is gzip; a HEAD response
// has none to gunzip.
func readBody(t *testing.T, method string, resp *http.Response) string {
	t.Helper()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" && method != http.MethodHead {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}

func gzipString(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func TestGzipIsDeterministic(t *testing.T) {
	bucket, _ := site(t)
	cdn := edge.New(bucket, edge.Headers{})
	var bodies [2][]byte
	for i := range bodies {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		cdn.ServeHTTP(rec, req)
		bodies[i] = rec.Body.Bytes()
	}
	if !bytes.Equal(bodies[0], bodies[1]) || !bytes.Equal(bodies[0], gzipString(homePage)) {
		t.Error("gzipped bodies differ between requests")
	}
}

func TestHTTP10GetsNoGzip(t *testing.T) {
	bucket, _ := site(t)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.0", 1, 0
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	edge.New(bucket, edge.Headers{}).ServeHTTP(rec, req)
	if ce := rec.Header().Get("Content-Encoding"); ce != "" {
		t.Errorf("Content-Encoding %q for an HTTP/1.0 client", ce)
	}
}

func TestNotFoundWithoutPage(t *testing.T) {
	cdn := edge.New(memblob.New(), policy(t))
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		rec := httptest.NewRecorder()
		cdn.ServeHTTP(rec, httptest.NewRequest(method, "/missing/", nil))
		if rec.Code != http.StatusNotFound || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%s: %d %q, want 404 text/plain", method, rec.Code, rec.Header().Get("Content-Type"))
		}
		if want := map[string]string{"GET": "404 page not found\n", "HEAD": ""}[method]; rec.Body.String() != want {
			t.Errorf("%s body %q, want %q", method, rec.Body.String(), want)
		}
		checkPolicyHeaders(t, rec.Result().Header)
	}
}

func TestNotFoundPageOption(t *testing.T) {
	b := memblob.New()
	if _, err := b.Write(t.Context(), "errors/missing.html", []byte("gone"), &blob.WriteOptions{ContentType: typeHTML}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	edge.New(b, edge.Headers{}, edge.WithNotFoundPage("errors/missing.html")).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if rec.Code != http.StatusNotFound || rec.Body.String() != "gone" {
		t.Errorf("got %d %q, want 404 gone", rec.Code, rec.Body.String())
	}
}

// failingOrigin fails every read with an error that is not "not found".
type failingOrigin struct{}

var errOrigin = errors.New("connection refused")

func (failingOrigin) Read(_ context.Context, key string) ([]byte, blob.Attributes, error) {
	return nil, blob.Attributes{}, errOrigin
}

func TestOriginErrorIsBadGateway(t *testing.T) {
	var reported error
	cdn := edge.New(failingOrigin{}, policy(t), edge.WithErrorHandler(func(_ *http.Request, err error) { reported = err }))
	rec := httptest.NewRecorder()
	cdn.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusBadGateway {
		t.Errorf("status %d, want 502", rec.Code)
	}
	if !errors.Is(reported, errOrigin) {
		t.Errorf("error handler got %v, want the origin's error", reported)
	}
	if strings.Contains(rec.Body.String(), errOrigin.Error()) {
		t.Errorf("502 body %q shows the origin's error to the reader", rec.Body.String())
	}
	checkPolicyHeaders(t, rec.Result().Header)
}

// TestOverHTTP serves the site through a real server and client, which
// check framing (HEAD lengths, 304s without bodies) that a recorder does
// not.
func TestOverHTTP(t *testing.T) {
	bucket, etag := site(t)
	srv := httptest.NewServer(edge.New(bucket, policy(t)))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}

	tests := []struct {
		method, path, inm string
		wantStatus        int
	}{
		{"GET", "/", "", 200},
		{"HEAD", "/", "", 200},
		{"GET", "/", etag, 304},
		{"GET", "/nope", "", 404},
		{"PUT", "/", "", 405},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		if tt.inm != "" {
			req.Header.Set("If-None-Match", tt.inm)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, resp.StatusCode, tt.wantStatus)
		}
	}
}
