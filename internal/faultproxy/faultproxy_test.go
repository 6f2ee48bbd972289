package faultproxy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/postmill/postmill/internal/faultproxy"
)

// backend is an httptest server that counts the requests it is sent and
// echoes each one: method, path, Host and body.
type backend struct {
	*httptest.Server
	hits atomic.Int64
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	b := &backend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo-Host", r.Host)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), body)
	}))
	t.Cleanup(b.Close)
	return b
}

func newProxy(t *testing.T, target string, opts ...faultproxy.Option) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(target, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// client does not reuse connections between tests and has no retries of
// its own beyond net/http's.
func client(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func do(t *testing.T, c *http.Client, method, url string, body string, header map[string]string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestForwardsUntouchedAtRateZero(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL, faultproxy.WithRate(0))
	c := client(t)
	resp, body, err := do(t, c, "PUT", p.URL()+"/bucket/posts/a%2Bb.md?x=1", "hello", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := body, "PUT /bucket/posts/a%2Bb.md?x=1 hello"; got != want {
		t.Errorf("backend saw %q, want %q", got, want)
	}
	if got, want := resp.Header.Get("X-Echo-Host"), strings.TrimPrefix(p.URL(), "http://"); got != want {
		t.Errorf("backend saw Host %q, want the client's %q", got, want)
	}
	for i := 0; i < 20; i++ {
		if _, _, err := do(t, c, "GET", p.URL()+"/bucket/k", "", nil); err != nil {
			t.Fatal(err)
		}
	}
	st := p.Stats()
	if st.Requests != 21 || st.S3.Requests != 21 || st.Faults() != 0 {
		t.Errorf("stats %+v, want 21 S3 requests and no faults", st)
	}
}

func TestTellsServicesApart(t *testing.T) {
	b := newBackend(t)
	var mu sync.Mutex
	var seen *faultproxy.Request
	p := newProxy(t, b.URL, faultproxy.WithRule(func(r *faultproxy.Request, _ faultproxy.Fault) faultproxy.Fault {
		mu.Lock()
		seen = r
		mu.Unlock()
		return faultproxy.None
	}))
	c := client(t)
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		want                     faultproxy.Request
	}{
		{"S3 object", "GET", "/site/posts/über%20observability.md", "", nil,
			faultproxy.Request{Service: faultproxy.S3, Bucket: "site", Key: "posts/über observability.md"}},
		{"S3 object with a plus", "PUT", "/site/posts/plus%2Bsign.md", "x", nil,
			faultproxy.Request{Service: faultproxy.S3, Bucket: "site", Key: "posts/plus+sign.md"}},
		{"S3 bucket listing", "GET", "/site?list-type=2&prefix=posts/", "", nil,
			faultproxy.Request{Service: faultproxy.S3, Bucket: "site"}},
		{"SQS JSON", "POST", "/", `{"QueueUrl":"q"}`,
			map[string]string{"X-Amz-Target": "AmazonSQS.ReceiveMessage", "Content-Type": "application/x-amz-json-1.0"},
			faultproxy.Request{Service: faultproxy.SQS, Action: "ReceiveMessage"}},
		{"SQS query", "POST", "/123456789012/q", "Action=DeleteMessageBatch&Version=2012-11-05",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
			faultproxy.Request{Service: faultproxy.SQS, Action: "DeleteMessageBatch"}},
		{"CloudFront", "POST", "/2020-05-31/distribution/E123/invalidation", "<InvalidationBatch/>", nil,
			faultproxy.Request{Service: faultproxy.CloudFront}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body, err := do(t, c, tt.method, p.URL()+tt.path, tt.body, tt.header)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(body, " "+tt.body) {
				t.Errorf("backend saw %q, want the body %q forwarded", body, tt.body)
			}
			mu.Lock()
			got := *seen
			mu.Unlock()
			if got.Service != tt.want.Service || got.Bucket != tt.want.Bucket || got.Key != tt.want.Key || got.Action != tt.want.Action || got.Method != tt.method {
				t.Errorf("got %v %s bucket %q key %q action %q, want %v %s bucket %q key %q action %q",
					got.Service, got.Method, got.Bucket, got.Key, got.Action,
					tt.want.Service, tt.method, tt.want.Bucket, tt.want.Key, tt.want.Action)
			}
		})
	}
}

// only makes every request get fault f.
func only(f faultproxy.Fault) []faultproxy.Option {
	return []faultproxy.Option{faultproxy.WithRate(1), faultproxy.WithFaults(f)}
}

func TestInjectsErrorsInEachServicesFormat(t *testing.T) {
	sqsJSON := map[string]string{"X-Amz-Target": "AmazonSQS.ReceiveMessage", "Content-Type": "application/x-amz-json-1.0"}
	tests := []struct {
		name         string
		fault        faultproxy.Fault
		method, path string
		header       map[string]string
		status       int
		contentType  string
		body         []string
	}{
		{"S3 InternalError", faultproxy.InternalError, "GET", "/b/k", nil, 500, "application/xml",
			[]string{"<Error><Code>InternalError</Code>"}},
		{"S3 SlowDown", faultproxy.Throttle, "PUT", "/b/k", nil, 503, "application/xml",
			[]string{"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"}},
		{"S3 HEAD has no body", faultproxy.Throttle, "HEAD", "/b/k", nil, 503, "", nil},
		{"SQS InternalFailure", faultproxy.InternalError, "POST", "/", sqsJSON, 500, "application/x-amz-json-1.0",
			[]string{`"__type":"com.amazonaws.sqs#InternalFailure"`}},
		{"SQS ThrottlingException", faultproxy.Throttle, "POST", "/", sqsJSON, 400, "application/x-amz-json-1.0",
			[]string{`"__type":"com.amazonaws.sqs#ThrottlingException"`, `"message":"Rate exceeded"`}},
		{"CloudFront InternalError", faultproxy.InternalError, "POST", "/2020-05-31/distribution/E1/invalidation", nil, 500, "text/xml",
			[]string{"<ErrorResponse", "<Type>Receiver</Type><Code>InternalError</Code>"}},
		{"CloudFront Throttling", faultproxy.Throttle, "POST", "/2020-05-31/distribution/E1/invalidation", nil, 400, "text/xml",
			[]string{"<Type>Sender</Type><Code>Throttling</Code>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t)
			p := newProxy(t, b.URL, only(tt.fault)...)
			resp, body, err := do(t, client(t), tt.method, p.URL()+tt.path, "payload", tt.header)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			for _, w := range tt.body {
				if !strings.Contains(body, w) {
					t.Errorf("body %q lacks %q", body, w)
				}
			}
			if tt.body == nil && body != "" {
				t.Errorf("body %q, want none", body)
			}
			if n := b.hits.Load(); n != 0 {
				t.Errorf("the backend got %d requests, want none", n)
			}
		})
	}
}

func TestResetsAndDelays(t *testing.T) {
	t.Run("reset before forwarding", func(t *testing.T) {
		b := newBackend(t)
		p := newProxy(t, b.URL, only(faultproxy.ResetBefore)...)
		_, _, err := do(t, client(t), "PUT", p.URL()+"/b/k", "data", nil)
		if err == nil || !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "EOF") {
			t.Errorf("err = %v, want a connection reset", err)
		}
		if n := b.hits.Load(); n != 0 {
			t.Errorf("the backend got %d requests, want none", n)
		}
		if st := p.Stats(); st.ResetsBefore != 1 || st.S3.ResetsBefore != 1 {
			t.Errorf("stats %+v, want one reset before", st)
		}
	})
	t.Run("reset after forwarding", func(t *testing.T) {
		b := newBackend(t)
		p := newProxy(t, b.URL, only(faultproxy.ResetAfter)...)
		_, _, err := do(t, client(t), "PUT", p.URL()+"/b/k", "data", nil)
		if err == nil {
			t.Error("the client got an answer, want a connection error")
		}
		if n := b.hits.Load(); n != 1 {
			t.Errorf("the backend got %d requests, want the one", n)
		}
		if st := p.Stats(); st.ResetsAfter != 1 {
			t.Errorf("stats %+v, want one reset after", st)
		}
	})
	t.Run("latency", func(t *testing.T) {
		b := newBackend(t)
		p := newProxy(t, b.URL, append(only(faultproxy.Latency), faultproxy.WithLatency(80*time.Millisecond, 120*time.Millisecond))...)
		begin := time.Now()
		resp, _, err := do(t, client(t), "GET", p.URL()+"/b/k", "", nil)
		took := time.Since(begin)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("err %v, want a normal answer", err)
		}
		if took < 80*time.Millisecond {
			t.Errorf("took %v, want at least 80ms", took)
		}
		if st := p.Stats(); st.Delayed != 1 {
			t.Errorf("stats %+v, want one delayed", st)
		}
	})
}

// sdkConfig is an SDK configuration for the proxy at url that makes one
// attempt per call, so the injected error itself comes back.
func sdkConfig(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// TestSDKClassifiesInjectedFaults checks the errors are what the SDK's
// standard retryer retries, and throttles as throttling: the proxy's point
// is to exercise the same code paths AWS's own errors do.
func TestSDKClassifiesInjectedFaults(t *testing.T) {
	ctx := context.Background()
	calls := map[faultproxy.Service]func(cfg aws.Config) error{
		faultproxy.S3: func(cfg aws.Config) error {
			_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).
				PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))})
			return err
		},
		faultproxy.SQS: func(cfg aws.Config) error {
			_, err := sqs.NewFromConfig(cfg).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String("http://q/1/q")})
			return err
		},
		faultproxy.CloudFront: func(cfg aws.Config) error {
			_, err := cloudfront.NewFromConfig(cfg).CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
				DistributionId: aws.String("E1"),
				InvalidationBatch: &cftypes.InvalidationBatch{CallerReference: aws.String("r"),
					Paths: &cftypes.Paths{Quantity: aws.Int32(1), Items: []string{"/*"}}},
			})
			return err
		},
	}
	codes := map[faultproxy.Service]map[faultproxy.Fault]string{
		faultproxy.S3:         {faultproxy.InternalError: "InternalError", faultproxy.Throttle: "SlowDown"},
		faultproxy.SQS:        {faultproxy.InternalError: "InternalFailure", faultproxy.Throttle: "ThrottlingException"},
		faultproxy.CloudFront: {faultproxy.InternalError: "InternalError", faultproxy.Throttle: "Throttling"},
	}
	retryable := retry.IsErrorRetryables(retry.DefaultRetryables)
	throttle := retry.IsErrorThrottles(retry.DefaultThrottles)
	b := newBackend(t)
	for svc, call := range calls {
		for _, f := range []faultproxy.Fault{faultproxy.InternalError, faultproxy.Throttle, faultproxy.ResetBefore, faultproxy.ResetAfter} {
			t.Run(svc.String()+"/"+f.String(), func(t *testing.T) {
				p := newProxy(t, b.URL, only(f)...)
				err := call(sdkConfig(p.URL()))
				if err == nil {
					t.Fatal("no error")
				}
				if want := codes[svc][f]; want != "" {
					var apiErr smithy.APIError
					if !errors.As(err, &apiErr) || apiErr.ErrorCode() != want {
						t.Errorf("err = %v, want API error code %s", err, want)
					}
				}
				if retryable.IsErrorRetryable(err) != aws.TrueTernary {
					t.Errorf("the SDK would not retry %v", err)
				}
				if got, want := throttle.IsErrorThrottle(err) == aws.TrueTernary, f == faultproxy.Throttle; got != want {
					t.Errorf("throttle = %v, want %v for %v", got, want, err)
				}
				if st := p.Stats(); st.Service(svc).Requests != 1 || st.Service(svc).Faults() != 1 {
					t.Errorf("%v stats %+v, want one request, faulted", svc, st.Service(svc))
				}
			})
		}
	}
}

// outcomes sends n sequential requests and describes what each got.
func outcomes(t *testing.T, url string, n int) []string {
	t.Helper()
	c := client(t)
	out := make([]string, n)
	for i := range out {
		resp, _, err := do(t, c, "GET", fmt.Sprintf("%s/b/k%d", url, i), "", nil)
		if err != nil {
			out[i] = "error"
		} else {
			out[i] = resp.Status
		}
	}
	return out
}

func TestRateAndSeed(t *testing.T) {
	b := newBackend(t)
	opts := func(seed uint64) []faultproxy.Option {
		return []faultproxy.Option{faultproxy.WithSeed(seed), faultproxy.WithRate(0.1),
			faultproxy.WithFaults(faultproxy.InternalError, faultproxy.Throttle, faultproxy.ResetBefore)}
	}
	const n = 1000
	p1 := newProxy(t, b.URL, opts(7)...)
	first := outcomes(t, p1.URL(), n)
	st := p1.Stats()
	if st.Faults() < 60 || st.Faults() > 140 {
		t.Errorf("%d faults in %d requests at rate 0.1", st.Faults(), n)
	}
	if st.InternalErrors == 0 || st.Throttles == 0 || st.ResetsBefore == 0 || st.ResetsAfter != 0 || st.Delayed != 0 {
		t.Errorf("stats %+v, want each drawn fault and no other", st)
	}

	again := outcomes(t, newProxy(t, b.URL, opts(7)...).URL(), n)
	if strings.Join(first, ",") != strings.Join(again, ",") {
		t.Error("the same seed gave different faults")
	}
	other := outcomes(t, newProxy(t, b.URL, opts(8)...).URL(), n)
	if strings.Join(first, ",") == strings.Join(other, ",") {
		t.Error("another seed gave the same faults")
	}
}

func TestRulesOverrideTheDraw(t *testing.T) {
	b := newBackend(t)
	var handed []faultproxy.Fault
	var mu sync.Mutex
	p := newProxy(t, b.URL, faultproxy.WithRate(0), faultproxy.WithFaults(faultproxy.Throttle),
		faultproxy.WithRule(func(r *faultproxy.Request, f faultproxy.Fault) faultproxy.Fault {
			if r.Key == "posts/poison.md" {
				return faultproxy.InternalError
			}
			return f
		}),
		faultproxy.WithRule(func(r *faultproxy.Request, f faultproxy.Fault) faultproxy.Fault {
			mu.Lock()
			handed = append(handed, f)
			mu.Unlock()
			if r.Bucket == "exempt" {
				return faultproxy.None
			}
			return f
		}))
	c := client(t)
	for i := 0; i < 3; i++ {
		resp, _, err := do(t, c, "GET", p.URL()+"/src/posts/poison.md", "", nil)
		if err != nil || resp.StatusCode != 500 {
			t.Fatalf("poisoned key at rate 0: %v %v, want 500 every time", resp, err)
		}
	}
	if resp, _, err := do(t, c, "GET", p.URL()+"/src/posts/fine.md", "", nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("another key at rate 0: %v %v, want 200", resp, err)
	}

	p.SetRate(1)
	if resp, _, err := do(t, c, "GET", p.URL()+"/exempt/k", "", nil); err != nil || resp.StatusCode != 200 {
		t.Errorf("exempt bucket at rate 1: %v %v, want 200", resp, err)
	}
	if resp, _, err := do(t, c, "GET", p.URL()+"/src/k", "", nil); err != nil || resp.StatusCode != 503 {
		t.Errorf("another bucket at rate 1: %v %v, want the drawn 503", resp, err)
	}
	mu.Lock()
	got := fmt.Sprint(handed)
	mu.Unlock()
	if want := "[InternalError InternalError InternalError None Throttle Throttle]"; got != want {
		t.Errorf("the second rule was handed %s, want %s", got, want)
	}
	st := p.Stats()
	if st.InternalErrors != 3 || st.Throttles != 1 || st.Requests != 6 {
		t.Errorf("stats %+v, want 3 errors forced and 1 throttle drawn in 6 requests", st)
	}
}

func TestObserverSeesWhatWasInjected(t *testing.T) {
	b := newBackend(t)
	var mu sync.Mutex
	var seen []string
	p := newProxy(t, b.URL, faultproxy.WithRate(0),
		faultproxy.WithRule(func(r *faultproxy.Request, f faultproxy.Fault) faultproxy.Fault {
			if r.Key == "bad" {
				return faultproxy.InternalError
			}
			return f
		}),
		faultproxy.WithObserver(func(r *faultproxy.Request, f faultproxy.Fault) {
			mu.Lock()
			seen = append(seen, r.Method+" "+r.Key+" "+f.String())
			mu.Unlock()
		}))
	c := client(t)
	do(t, c, "GET", p.URL()+"/b/good", "", nil)
	do(t, c, "PUT", p.URL()+"/b/bad", "x", nil)
	mu.Lock()
	defer mu.Unlock()
	if got, want := strings.Join(seen, ", "), "GET good None, PUT bad InternalError"; got != want {
		t.Errorf("observed %q, want %q", got, want)
	}
}

func TestSetRate(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL, faultproxy.WithRate(0), faultproxy.WithFaults(faultproxy.InternalError))
	c := client(t)
	sqsJSON := map[string]string{"X-Amz-Target": "AmazonSQS.DeleteMessageBatch"}

	p.SetServiceRate(faultproxy.SQS, 1)
	if resp, _, err := do(t, c, "POST", p.URL()+"/", "{}", sqsJSON); err != nil || resp.StatusCode != 500 {
		t.Errorf("SQS at rate 1: %v %v, want 500", resp, err)
	}
	if resp, _, err := do(t, c, "GET", p.URL()+"/b/k", "", nil); err != nil || resp.StatusCode != 200 {
		t.Errorf("S3 at rate 0: %v %v, want 200", resp, err)
	}
	p.SetRate(0)
	if resp, _, err := do(t, c, "POST", p.URL()+"/", "{}", sqsJSON); err != nil || resp.StatusCode != 200 {
		t.Errorf("SQS after SetRate(0): %v %v, want 200", resp, err)
	}
	if st := p.Stats(); st.SQS.InternalErrors != 1 || st.SQS.Requests != 2 || st.S3.Requests != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for name, tt := range map[string]struct {
		target string
		opts   []faultproxy.Option
	}{
		"no scheme":         {"127.0.0.1:4566", nil},
		"https":             {"https://127.0.0.1:4566", nil},
		"rate above one":    {"http://127.0.0.1:4566", []faultproxy.Option{faultproxy.WithRate(1.5)}},
		"no faults":         {"http://127.0.0.1:4566", []faultproxy.Option{faultproxy.WithFaults()}},
		"None is no fault":  {"http://127.0.0.1:4566", []faultproxy.Option{faultproxy.WithFaults(faultproxy.None)}},
		"latency backwards": {"http://127.0.0.1:4566", []faultproxy.Option{faultproxy.WithLatency(time.Second, time.Millisecond)}},
	} {
		t.Run(name, func(t *testing.T) {
			if p, err := faultproxy.New(tt.target, tt.opts...); err == nil {
				p.Close()
				t.Error("New succeeded")
			}
		})
	}
}
