package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postmill/postmill/internal/blob/memblob"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/site"
	"github.com/postmill/postmill/internal/websub"
)

// hubStub is a WebSub hub that records the topics of publish pings.
type hubStub struct {
	mu     sync.Mutex
	topics []string
	status int // answer; 0 means 204
}

func (h *hubStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Method != http.MethodPost || form.Get("hub.mode") != "publish" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.topics = append(h.topics, form["hub.url"]...)
	w.WriteHeader(max(h.status, http.StatusNoContent))
}

// take returns the topics pinged since the last call, sorted.
func (h *hubStub) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics
	h.topics = nil
	sort.Strings(t)
	return t
}

func startHub(t *testing.T, status int) (*hubStub, *websub.Pinger) {
	t.Helper()
	h := &hubStub{status: status}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, websub.New(srv.Client(), srv.URL)
}

// resultPublisher returns the same result for every batch.
type resultPublisher struct{ res publish.Result }

func (p resultPublisher) Apply(_ context.Context, cs []publish.Change) publish.Result {
	res := p.res
	res.Outcomes = nil
	for _, c := range cs {
		res.Outcomes = append(res.Outcomes, publish.Outcome{Key: c.Key, Status: "published"})
	}
	return res
}

func absolute(key string) string { return "https://blog.example/" + key }

func TestWebSubPing(t *testing.T) {
	tests := []struct {
		name       string
		res        publish.Result
		hubStatus  int
		wantPinged []string
		wantLog    string
	}{
		{
			name: "the feeds written are pinged, not pages, assets or deleted feeds",
			res: publish.Result{
				Written: []string{"2024/05/01/a/index.html", "index.html", "index.json", "index.xml",
					"sitemap.xml", "tags/go/index.html", "tags/go/index.json", "tags/go/index.xml"},
				Deleted: []string{"tags/old/index.html", "tags/old/index.json", "tags/old/index.xml"},
			},
			wantPinged: []string{absolute("index.json"), absolute("index.xml"), absolute("tags/go/index.json"), absolute("tags/go/index.xml")},
			wantLog:    `"msg":"websub ping","feeds":4`,
		},
		{
			name: "no feed written, no ping",
			res:  publish.Result{Written: []string{"2024/05/01/a/index.html", "2024/05/01/a/diagram.png"}},
		},
		{
			name: "nothing written, no ping",
		},
		{
			name:       "a refused ping is logged and fails no message",
			res:        publish.Result{Written: []string{"index.xml"}},
			hubStatus:  http.StatusServiceUnavailable,
			wantPinged: []string{absolute("index.xml")},
			wantLog:    `"msg":"websub ping failed","feeds":1,"reason":"ping http://127.0.0.1`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hub, pinger := startHub(t, tt.hubStatus)
			var logs bytes.Buffer
			h := New(resultPublisher{tt.res}, nil, slog.New(slog.NewJSONHandler(&logs, nil)), WithPinger(pinger, absolute))
			resp, err := h.HandleSQS(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg("m1", "posts/a.md", 1)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.BatchItemFailures) > 0 {
				t.Errorf("batch item failures %v, want none", resp.BatchItemFailures)
			}
			if got := hub.take(); !slices.Equal(got, tt.wantPinged) {
				t.Errorf("pinged %q, want %q", got, tt.wantPinged)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log lacks %s:\n%s", tt.wantLog, logs.String())
			}
		})
	}
}

// TestWebSubPingWithEngine runs the handler over the real engine: the
// hub hears of exactly the feeds a publish changed, under the URLs the
// feeds give as rel="self", and of nothing when a redelivery changes
// nothing.
func TestWebSubPingWithEngine(t *testing.T) {
	hub, pinger := startHub(t, 0)
	env := map[string]string{"SITE_BASE_URL": "https://blog.example/", "SITE_TITLE": "Field Notes", "WEBSUB_HUB_URL": "https://hub.example/", "JSON_FEED": "true"}
	cfg, err := site.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	r, err := site.NewRenderer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) }
	src, dst := memblob.New(memblob.WithClock(clock)), memblob.New(memblob.WithClock(clock))
	feedURL := func(key string) string { return cfg.URL("/" + key) }
	h := New(publish.New(src, dst, r, publish.Options{Clock: clock}), nil, nil, WithPinger(pinger, feedURL))

	put := func(key, tags string) {
		t.Helper()
		body := "+++\ntitle = \"" + key + "\"\ndate = 2026-10-01T10:00:00Z\ntags = [" + tags + "]\n+++\n\nWords about " + key + ".\n"
		if _, err := src.Write(context.Background(), key, []byte(body), nil); err != nil {
			t.Fatal(err)
		}
	}
	handle := func(keys ...string) {
		t.Helper()
		var recs []events.SQSMessage
		for i, k := range keys {
			recs = append(recs, msg(string(rune('a'+i)), k, 1))
		}
		if _, err := h.HandleSQS(context.Background(), events.SQSEvent{Records: recs}); err != nil {
			t.Fatal(err)
		}
	}
	urls := func(keys ...string) []string {
		var u []string
		for _, k := range keys {
			u = append(u, feedURL(k))
		}
		sort.Strings(u)
		return u
	}

	put("posts/a.md", `"Go", "Über"`)
	put("posts/b.md", `"AWS"`)
	handle("posts/a.md", "posts/b.md")
	got := hub.take()
	want := urls("index.json", "index.xml", "tags/aws/index.json", "tags/aws/index.xml",
		"tags/go/index.json", "tags/go/index.xml", "tags/über/index.json", "tags/über/index.xml")
	if !slices.Equal(got, want) {
		t.Fatalf("first publish pinged %q, want %q", got, want)
	}
	for _, u := range got {
		if self := selfURL(t, dst, u); self != u {
			t.Errorf("pinged %s, but that feed's self URL is %s", u, self)
		}
	}

	handle("posts/a.md", "posts/b.md")
	if got := hub.take(); len(got) > 0 {
		t.Errorf("a redelivery that changed nothing pinged %q", got)
	}

	put("posts/b.md", `"AWS", "Serverless"`)
	handle("posts/b.md")
	want = urls("index.json", "index.xml", "tags/aws/index.json", "tags/aws/index.xml",
		"tags/serverless/index.json", "tags/serverless/index.xml")
	if got := hub.take(); !slices.Equal(got, want) {
		t.Errorf("retagging b pinged %q, want %q (not the feeds of a's tags)", got, want)
	}
}

var atomSelf = regexp.MustCompile(`<link href="([^"]+)" rel="self"`)

// selfURL reads the feed published at an absolute URL of
// https://blog.example/ and returns its own URL: Atom's rel="self", or
// JSON Feed's feed_url.
func selfURL(t *testing.T, b *memblob.Bucket, abs string) string {
	t.Helper()
	u, err := url.Parse(abs)
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := b.Read(context.Background(), strings.TrimPrefix(u.Path, "/"))
	if err != nil {
		t.Fatalf("%s: %v", abs, err)
	}
	if strings.HasSuffix(u.Path, ".json") {
		var f struct {
			FeedURL string `json:"feed_url"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		return f.FeedURL
	}
	m := atomSelf.FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s has no rel=self link", abs)
	}
	return string(m[1])
}
