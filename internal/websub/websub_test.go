package websub_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/postmill/postmill/internal/websub"
)

// hub is a stand-in WebSub hub: it records each publish ping and answers
// with the status its answer function gives for the topic.
type hub struct {
	mu     sync.Mutex
	topics []string
	bad    []string // what was wrong with requests that were not pings
	answer func(topic string) int
}

func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case r.Method != http.MethodPost:
		h.bad = append(h.bad, "method "+r.Method)
	case r.Header.Get("Content-Type") != "application/x-www-form-urlencoded":
		h.bad = append(h.bad, "content type "+r.Header.Get("Content-Type"))
	case err != nil:
		h.bad = append(h.bad, "body "+err.Error())
	case form.Get("hub.mode") != "publish" || len(form["hub.url"]) != 1 || len(form) != 2:
		h.bad = append(h.bad, "form "+form.Encode())
	default:
		topic := form.Get("hub.url")
		h.topics = append(h.topics, topic)
		status := http.StatusNoContent
		if h.answer != nil {
			status = h.answer(topic)
		}
		w.WriteHeader(status)
		if status >= 300 {
			io.WriteString(w, "topic not\nallowed\n")
		}
		return
	}
	w.WriteHeader(http.StatusBadRequest)
}

func (h *hub) pinged() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.topics)
}

func startHub(t *testing.T, answer func(string) int) (*hub, *httptest.Server) {
	t.Helper()
	h := &hub{answer: answer}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		for _, b := range h.bad {
			t.Errorf("the hub got a request that is not a publish ping: %s", b)
		}
	})
	return h, srv
}

const (
	siteFeed = "https://blog.example/index.xml"
	siteJSON = "https://blog.example/index.json"
	tagFeed  = "https://blog.example/tags/%C3%A4rger/index.xml"
)

func TestPing(t *testing.T) {
	tests := []struct {
		name       string
		urls       []string
		answer     func(string) int
		wantPinged []string
		wantErr    []string // substrings of the error; none: no error
	}{
		{
			name:       "each feed is one form POST",
			urls:       []string{siteFeed, siteJSON, tagFeed},
			wantPinged: []string{siteFeed, siteJSON, tagFeed},
		},
		{
			name:       "any 2xx is success",
			urls:       []string{siteFeed},
			answer:     func(string) int { return http.StatusAccepted },
			wantPinged: []string{siteFeed},
		},
		{
			name:       "a feed named twice is pinged once",
			urls:       []string{siteFeed, siteFeed},
			wantPinged: []string{siteFeed},
		},
		{
			name: "no feeds, no request",
		},
		{
			name: "a refusal is an error and the other feeds are still pinged",
			urls: []string{siteFeed, tagFeed, siteJSON},
			answer: func(topic string) int {
				if topic == tagFeed {
					return http.StatusBadRequest
				}
				return http.StatusNoContent
			},
			wantPinged: []string{siteFeed, tagFeed, siteJSON},
			wantErr:    []string{tagFeed, "400 Bad Request: topic not allowed"},
		},
		{
			name:       "a redirect is not success",
			urls:       []string{siteFeed},
			answer:     func(string) int { return http.StatusNotModified },
			wantPinged: []string{siteFeed},
			wantErr:    []string{"304"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, srv := startHub(t, tt.answer)
			err := websub.New(srv.Client(), srv.URL).Ping(context.Background(), tt.urls)
			if got := h.pinged(); !slices.Equal(got, tt.wantPinged) {
				t.Errorf("pinged %q, want %q", got, tt.wantPinged)
			}
			switch {
			case len(tt.wantErr) == 0 && err != nil:
				t.Errorf("Ping: %v", err)
			case len(tt.wantErr) > 0 && err == nil:
				t.Errorf("Ping succeeded, want an error with %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if err != nil && !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestPingUnreachableHub(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there now
	err := websub.New(nil, srv.URL).Ping(context.Background(), []string{siteFeed, siteJSON})
	if err == nil {
		t.Fatal("Ping succeeded with no hub listening")
	}
	for _, w := range []string{siteFeed, siteJSON} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %s", err, w)
		}
	}
}

func TestPingStopsWhenCancelled(t *testing.T) {
	h, srv := startHub(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := websub.New(srv.Client(), srv.URL).Ping(ctx, []string{siteFeed, siteJSON}); err == nil {
		t.Error("Ping succeeded with a cancelled context")
	}
	if got := h.pinged(); len(got) > 0 {
		t.Errorf("pinged %q after cancellation", got)
	}
}

func TestPingHidesHubPassword(t *testing.T) {
	var user, pass string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ = r.BasicAuth()
		w.WriteHeader(http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("blog", "s3cret")
	err = websub.New(srv.Client(), u.String()).Ping(context.Background(), []string{siteFeed})
	if user != "blog" || pass != "s3cret" {
		t.Errorf("hub saw basic auth %q:%q, want the URL's credentials", user, pass)
	}
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v: want a 403 that does not show the password", err)
	}
}
