package schedule

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// call is one request the fake Scheduler saw.
type call struct {
	method, path, query, contentType, auth string
	body                                   map[string]any
}

// fakeScheduler answers every request with the next of its answers
// (200 once they run out) and records the requests.
type fakeScheduler struct {
	mu      sync.Mutex
	calls   []call
	answers []int
}

const notFound = `{"Message":"Schedule post-x does not exist."}`

func (f *fakeScheduler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c := call{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), nil}
	if len(b) > 0 {
		json.Unmarshal(b, &c.body)
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	status := http.StatusOK
	if n := len(f.calls); n <= len(f.answers) {
		status = f.answers[n-1]
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch status {
	case http.StatusNotFound:
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(status)
		io.WriteString(w, notFound)
	case http.StatusOK:
		io.WriteString(w, `{"ScheduleArn":"arn:aws:scheduler:eu-west-1:123456789012:schedule/g/post-x"}`)
	default:
		w.WriteHeader(status)
		io.WriteString(w, `{"Message":"Internal error"}`)
	}
}

func newFake(t *testing.T, answers ...int) (*fakeScheduler, *Client) {
	t.Helper()
	f := &fakeScheduler{answers: answers}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := NewClient(aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(srv.URL),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

var uuid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestClientRequests checks Set and Clear on the wire: an UpdateSchedule
// that finds no schedule, then a CreateSchedule, each a PUT or POST of
// the schedule as JSON, a DeleteSchedule with its group and client token
// in the query; all signed for scheduler in the configuration's region.
// A 500 is retried with the same client token.
func TestClientRequests(t *testing.T) {
	f, c := newFake(t, http.StatusNotFound, http.StatusInternalServerError, http.StatusOK, http.StatusNotFound)
	s := New(c, "posts", "arn:aws:iam::123456789012:role/scheduler", "arn:aws:sqs:eu-west-1:123456789012:q")
	key := "posts/a b.md"
	if err := s.Set(context.Background(), key, time.Date(2031, 3, 20, 8, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := s.Clear(context.Background(), key); err != nil {
		t.Fatalf("Clear of a schedule already gone: %v", err)
	}
	if len(f.calls) != 4 {
		t.Fatalf("%d calls, want update, create, create again, delete: %+v", len(f.calls), f.calls)
	}
	path := "/schedules/" + Name(key)
	want := map[string]any{
		"GroupName": "posts", "ScheduleExpression": "at(2031-03-20T08:00:00)", "ScheduleExpressionTimezone": "UTC",
		"FlexibleTimeWindow": map[string]any{"Mode": "OFF"}, "ActionAfterCompletion": "DELETE", "Description": key,
		"Target": map[string]any{"Arn": "arn:aws:sqs:eu-west-1:123456789012:q", "RoleArn": "arn:aws:iam::123456789012:role/scheduler", "Input": Event(key)},
	}
	for i, method := range []string{"PUT", "POST", "POST"} {
		got := f.calls[i]
		if got.method != method || got.path != path || got.contentType != "application/json" {
			t.Errorf("call %d: %s %s (%s), want %s %s", i, got.method, got.path, got.contentType, method, path)
		}
		token, _ := got.body["ClientToken"].(string)
		if !uuid.MatchString(token) {
			t.Errorf("call %d: client token %q", i, token)
		}
		delete(got.body, "ClientToken")
		if g, w := mustJSON(got.body), mustJSON(want); g != w {
			t.Errorf("call %d: body %s, want %s", i, g, w)
		}
	}
	del := f.calls[3]
	if del.method != "DELETE" || del.path != path || !strings.Contains(del.query, "groupName=posts") || !strings.Contains(del.query, "clientToken=") {
		t.Errorf("delete: %s %s?%s", del.method, del.path, del.query)
	}
	for i, got := range f.calls {
		if !strings.HasPrefix(got.auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(got.auth, "/eu-west-1/scheduler/aws4_request") {
			t.Errorf("call %d: Authorization %q", i, got.auth)
		}
	}
}

// TestClientTokenKeptAcrossRetries checks a retried call sends the same
// client token, so Scheduler does it once; a new call, a new token.
func TestClientTokenKeptAcrossRetries(t *testing.T) {
	f, c := newFake(t, http.StatusInternalServerError)
	sc := &Schedule{Name: "post-x", GroupName: "g", ScheduleExpression: "at(2031-03-20T08:00:00)"}
	if err := c.CreateSchedule(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateSchedule(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 3 || f.calls[0].body["ClientToken"] != f.calls[1].body["ClientToken"] ||
		f.calls[1].body["ClientToken"] == f.calls[2].body["ClientToken"] {
		t.Errorf("client tokens %v, %v, %v: want the retry's the same, the next call's new",
			f.calls[0].body["ClientToken"], f.calls[1].body["ClientToken"], f.calls[2].body["ClientToken"])
	}
}

func TestDefaultEndpoint(t *testing.T) {
	for region, want := range map[string]string{
		"eu-west-1":      "https://scheduler.eu-west-1.amazonaws.com",
		"cn-north-1":     "https://scheduler.cn-north-1.amazonaws.com.cn",
		"us-gov-west-1":  "https://scheduler.us-gov-west-1.amazonaws.com",
		"":               "",
		"evil.com/x?y=-": "",
	} {
		c, err := NewClient(aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
		switch {
		case want == "" && err == nil:
			t.Errorf("region %q: endpoint %s, want an error", region, c.api.Endpoint())
		case want != "" && (err != nil || c.api.Endpoint() != want || c.api.SigningRegion() != region):
			t.Errorf("region %q: %v, want %s", region, err, want)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
