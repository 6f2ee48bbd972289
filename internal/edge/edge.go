// Package edge is the local CDN: an http.Handler that serves the site
// bucket the way the CloudFront distribution in front of it does, so that
// the local stack and tests see what readers will see.
//
// It applies the viewer-request rewrite (Rewrite), the response headers
// policy (Headers), the custom 404 page, CloudFront's automatic gzip with
// its weak ETags, and conditional GETs. It is not a cache: every request
// reads the origin, so it is never stale and needs no invalidation. It
// has no Brotli, no range requests, no TLS and no signed URLs, and it
// ignores query strings as the distribution's cache policy does.
package edge

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/postmill/postmill/internal/blob"
)

// Origin is the part of a blob.Bucket the CDN reads.
type Origin interface {
	Read(ctx context.Context, key string) ([]byte, blob.Attributes, error)
}

// CloudFront compresses objects of these types, and only these, between
// minCompress and maxCompress bytes
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/ServingCompressedFiles.html).
// application/atom+xml and application/feed+json are not among them.
var cloudFrontCompresses = []string{
	"application/dash+xml", "application/eot", "application/font", "application/font-sfnt",
	"application/javascript", "application/json", "application/opentype", "application/otf",
	"application/pkcs7-mime", "application/protobuf", "application/rss+xml", "application/truetype",
	"application/ttf", "application/vnd.apple.mpegurl", "application/vnd.ms-fontobject",
	"application/xhtml+xml", "application/xml", "application/x-font-opentype",
	"application/x-font-truetype", "application/x-font-ttf", "application/x-httpd-cgi",
	"application/x-javascript", "application/x-mpegurl", "application/x-opentype", "application/x-otf",
	"application/x-perl", "application/x-ttf", "font/eot", "font/opentype", "font/otf", "font/ttf",
	"image/svg+xml", "text/css", "text/csv", "text/html", "text/javascript", "text/js", "text/plain",
	"text/richtext", "text/tab-separated-values", "text/xml", "text/x-component",
	"text/x-java-source", "text/x-script", "vnd.apple.mpegurl",
}

const (
	minCompress = 1_000
	maxCompress = 10_000_000

	// DefaultNotFoundPage is the key served, with status 404, for a
	// missing object: the distribution's custom error response.
	DefaultNotFoundPage = "404.html"

	// notFoundFallback is the body when the 404 page is missing too.
	notFoundFallback = "404 page not found\n"
)

// Option configures the handler New returns.
type Option func(*handler)

// WithNotFoundPage sets the key of the 404 page (DefaultNotFoundPage).
func WithNotFoundPage(key string) Option { return func(h *handler) { h.notFound = key } }

// WithCompressTypes replaces the media types that are gzipped (by
// default, CloudFront's list).
func WithCompressTypes(types ...string) Option {
	return func(h *handler) {
		h.compress = map[string]bool{}
		for _, t := range types {
			h.compress[t] = true
		}
	}
}

// WithErrorHandler sets a function told about origin failures, which the
// handler answers with 502. The default ignores them; a server passes
// one that logs.
func WithErrorHandler(fn func(r *http.Request, err error)) Option {
	return func(h *handler) { h.onError = fn }
}

type handler struct {
	origin   Origin
	headers  Headers
	notFound string
	compress map[string]bool
	onError  func(*http.Request, error)
}

// New returns the CDN for origin with the response headers policy h.
func New(origin Origin, h Headers, opts ...Option) http.Handler {
	hd := &handler{origin: origin, headers: h, notFound: DefaultNotFoundPage}
	WithCompressTypes(cloudFrontCompresses...)(hd)
	for _, opt := range opts {
		opt(hd)
	}
	if hd.onError == nil {
		hd.onError = func(*http.Request, error) {}
	}
	return hd
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	h.headers.set(hdr)
	hdr.Set("X-Cache", "local-edge")

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		plain(w, r, http.StatusMethodNotAllowed, "405 method not allowed\n")
		return
	}
	key, err := objectKey(r.URL.EscapedPath())
	if err != nil {
		plain(w, r, http.StatusBadRequest, "400 bad request\n")
		return
	}
	data, attrs, err := h.origin.Read(r.Context(), key)
	switch {
	case errors.Is(err, blob.ErrNotFound):
		h.serveNotFound(w, r)
	case err != nil:
		h.onError(r, err)
		plain(w, r, http.StatusBadGateway, "502 bad gateway\n")
	default:
		h.serve(w, r, http.StatusOK, data, attrs)
	}
}

// objectKey turns a request path into the object key it names.
func objectKey(escapedPath string) (string, error) {
	p, err := url.PathUnescape(Rewrite(escapedPath))
	if err != nil {
		return "", fmt.Errorf("path %q: %w", escapedPath, err)
	}
	return strings.TrimPrefix(p, "/"), nil
}

// serveNotFound answers with the 404 page, or a plain text stand-in when
// the page is missing too.
func (h *handler) serveNotFound(w http.ResponseWriter, r *http.Request) {
	data, attrs, err := h.origin.Read(r.Context(), h.notFound)
	if err != nil {
		if !errors.Is(err, blob.ErrNotFound) {
			h.onError(r, err)
		}
		plain(w, r, http.StatusNotFound, notFoundFallback)
		return
	}
	h.serve(w, r, http.StatusNotFound, data, attrs)
}

// serve sends an object: its type and cache control, its validators on a
// 200, gzipped when CloudFront would gzip it, and 304 when the client's
// copy is current.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, status int, data []byte, attrs blob.Attributes) {
	hdr := w.Header()
	ct := attrs.ContentType
	if ct == "" {
		ct = blob.DefaultContentType
	}
	compressible := h.compressible(ct)
	gz := compressible && len(data) >= minCompress && len(data) <= maxCompress && acceptsGzip(r)

	if attrs.CacheControl != "" {
		hdr.Set("Cache-Control", attrs.CacheControl)
	}
	if compressible {
		hdr.Add("Vary", "Accept-Encoding")
	}
	if status == http.StatusOK {
		etag := attrs.ETag
		if gz {
			etag = weaken(etag)
		}
		if etag != "" {
			hdr.Set("ETag", etag)
		}
		if !attrs.ModTime.IsZero() {
			hdr.Set("Last-Modified", attrs.ModTime.UTC().Format(http.TimeFormat))
		}
		if notModified(r, etag, attrs.ModTime) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}

	body := data
	if gz {
		body = gzipBytes(data)
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("Content-Type", ct)
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func (h *handler) compressible(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && h.compress[mt]
}

// weaken turns a strong ETag into a weak one, as CloudFront does for the
// responses it compresses: the gzipped bytes differ, the content does
// not. A weak ETag stays as it is; an invalid one is dropped.
func weaken(etag string) string {
	switch {
	case strings.HasPrefix(etag, "W/"):
		return etag
	case strings.HasPrefix(etag, `"`):
		return "W/" + etag
	default:
		return ""
	}
}

// notModified evaluates the request's preconditions for a GET or HEAD
// (RFC 9110, section 13.2.2): If-None-Match, compared weakly, and only
// when it is absent If-Modified-Since.
func notModified(r *http.Request, etag string, modTime time.Time) bool {
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 {
		return etag != "" && etagMatches(strings.Join(inm, ","), etag)
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || modTime.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	if err != nil {
		return false
	}
	return !modTime.Truncate(time.Second).After(t)
}

// etagMatches reports whether the If-None-Match list holds etag, or "*",
// by weak comparison: W/ prefixes are ignored.
func etagMatches(list, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for {
		list = strings.TrimLeft(list, " \t,")
		if list == "" {
			return false
		}
		if list[0] == '*' {
			return true
		}
		list = strings.TrimPrefix(list, "W/")
		if list == "" || list[0] != '"' {
			return false // malformed: stop, as net/http does
		}
		end := strings.IndexByte(list[1:], '"')
		if end < 0 {
			return false
		}
		if list[:end+2] == want {
			return true
		}
		list = list[end+2:]
	}
}

// acceptsGzip reports whether the client takes gzip: Accept-Encoding
// lists gzip, or *, without q=0. CloudFront does not compress for
// HTTP/1.0 clients.
func acceptsGzip(r *http.Request) bool {
	if !r.ProtoAtLeast(1, 1) {
		return false
	}
	star := false
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "gzip" && coding != "*" {
				continue
			}
			ok := qualityAboveZero(params)
			if coding == "gzip" {
				return ok
			}
			star = ok
		}
	}
	return star
}

func qualityAboveZero(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(name), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			return err == nil && q > 0
		}
	}
	return true
}

// gzipBytes compresses data. The gzip header carries no name and no time,
// so the same object always gives the same bytes.
func gzipBytes(data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data) // a bytes.Buffer does not fail
	zw.Close()
	return b.Bytes()
}

// plain sends a short text response of the CDN's own.
func plain(w http.ResponseWriter, r *http.Request, status int, body string) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write([]byte(body))
	}
}
