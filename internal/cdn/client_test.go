package cdn

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/smithy-go"

	"github.com/postmill/postmill/internal/awstest"
	"github.com/postmill/postmill/internal/faultproxy"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// recorded is one request a test server saw.
type recorded struct {
	method, path, contentType, auth, date, token string
	body                                         []byte
}

// cloudFront is an httptest server that answers with the statuses and
// bodies given, one per request, and records the requests.
type cloudFront struct {
	*httptest.Server
	mu      sync.Mutex
	seen    []recorded
	answers []answer
}

type answer struct {
	status int
	body   string
}

const throttled = `<?xml version="1.0"?>
<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`

const noSuchDistribution = `<?xml version="1.0"?>
<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type><Code>NoSuchDistribution</Code><Message>The specified distribution does not exist.</Message></Error><RequestId>req-2</RequestId></ErrorResponse>`

func newCloudFront(t *testing.T, answers ...answer) *cloudFront {
	t.Helper()
	cf := &cloudFront{answers: answers}
	cf.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		cf.mu.Lock()
		cf.seen = append(cf.seen, recorded{r.Method, r.URL.EscapedPath(), r.Header.Get("Content-Type"),
			r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date"), r.Header.Get("X-Amz-Security-Token"), body})
		a := answer{http.StatusCreated, `<Invalidation><Id>I1</Id><Status>InProgress</Status></Invalidation>`}
		if n := len(cf.seen); n <= len(cf.answers) {
			a = cf.answers[n-1]
		}
		cf.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("X-Amzn-Requestid", "hdr-req")
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(cf.Close)
	return cf
}

func (cf *cloudFront) requests() []recorded {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	return slices.Clone(cf.seen)
}

// testConfig points a client at url with the SDK's standard retryer,
// minus its backoff delays when fast.
func testConfig(url string, fast bool) aws.Config {
	cfg := aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "session-token"),
		BaseEndpoint: aws.String(url),
	}
	if fast {
		cfg.Retryer = func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		}
	}
	return cfg
}

func newTestClient(t *testing.T, cfg aws.Config) *Client {
	t.Helper()
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClientRequestShape checks the request on the wire: the operation's
// method and path, its XML body, and a Signature Version 4 signature for
// CloudFront in us-east-1, whatever the configuration's region.
func TestClientRequestShape(t *testing.T) {
	cf := newCloudFront(t)
	c := newTestClient(t, testConfig(cf.URL, true))
	paths := []string{"/", "/index.html", "/tags/%C3%BCber/", "/a&b.html"}
	if err := c.CreateInvalidation(context.Background(), "E2ABC", "postmill-1-abc", paths); err != nil {
		t.Fatal(err)
	}
	seen := cf.requests()
	if len(seen) != 1 {
		t.Fatalf("%d requests, want 1", len(seen))
	}
	r := seen[0]
	if r.method != "POST" || r.path != "/2020-05-31/distribution/E2ABC/invalidation" || r.contentType != "application/xml" {
		t.Errorf("request %s %s (%s), want POST /2020-05-31/distribution/E2ABC/invalidation (application/xml)", r.method, r.path, r.contentType)
	}
	var got struct {
		XMLName         xml.Name
		CallerReference string
		Quantity        int      `xml:"Paths>Quantity"`
		Items           []string `xml:"Paths>Items>Path"`
	}
	if err := xml.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	if got.XMLName.Space != "http://cloudfront.amazonaws.com/doc/2020-05-31/" || got.XMLName.Local != "InvalidationBatch" ||
		got.CallerReference != "postmill-1-abc" || got.Quantity != len(paths) || !slices.Equal(got.Items, paths) {
		t.Errorf("body %s decodes to %+v", r.body, got)
	}
	day := time.Now().UTC().Format("20060102")
	if !strings.HasPrefix(r.auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") ||
		!strings.Contains(r.auth, "/us-east-1/cloudfront/aws4_request, SignedHeaders=") ||
		!strings.Contains(r.auth, "x-amz-date") || !strings.Contains(r.auth, "Signature=") {
		t.Errorf("Authorization %q, want a SigV4 signature for cloudfront in us-east-1", r.auth)
	}
	if !strings.HasPrefix(r.date, day[:6]) || r.token != "session-token" {
		t.Errorf("X-Amz-Date %q, X-Amz-Security-Token %q", r.date, r.token)
	}
}

// TestClientRetries503 checks a 503 is retried with the SDK's standard
// retryer, backoff included, and the second attempt is signed afresh.
func TestClientRetries503(t *testing.T) {
	cf := newCloudFront(t, answer{http.StatusServiceUnavailable, ""})
	c := newTestClient(t, testConfig(cf.URL, false))
	if err := c.CreateInvalidation(context.Background(), "E1", "ref", []string{"/*"}); err != nil {
		t.Fatal(err)
	}
	seen := cf.requests()
	if len(seen) != 2 {
		t.Fatalf("%d requests, want 2", len(seen))
	}
	if !slices.Equal(seen[0].body, seen[1].body) || seen[1].auth == "" {
		t.Errorf("the retry differs: %+v", seen)
	}
}

// TestClientErrors checks errors are what the SDK's CloudFront client
// returned: throttling retried up to three attempts and then reported
// with its code; a missing distribution reported at once.
func TestClientErrors(t *testing.T) {
	t.Run("throttling", func(t *testing.T) {
		cf := newCloudFront(t, answer{400, throttled}, answer{400, throttled}, answer{400, throttled})
		err := newTestClient(t, testConfig(cf.URL, true)).CreateInvalidation(context.Background(), "E1", "ref", []string{"/*"})
		var apiErr smithy.APIError
		var maxErr *retry.MaxAttemptsError
		var opErr *smithy.OperationError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "Throttling" || !errors.As(err, &maxErr) || !errors.As(err, &opErr) {
			t.Fatalf("err = %v, want Throttling after the maximum attempts", err)
		}
		if opErr.Service() != "CloudFront" || opErr.Operation() != "CreateInvalidation" || maxErr.Attempt != 3 {
			t.Errorf("err = %v", err)
		}
		want := "operation error CloudFront: CreateInvalidation, exceeded maximum number of attempts, 3, https response error StatusCode: 400, RequestID: req-1, api error Throttling: Rate exceeded"
		if err.Error() != want {
			t.Errorf("err = %q, want the SDK's wording %q", err, want)
		}
		if n := len(cf.requests()); n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
	})
	t.Run("no such distribution", func(t *testing.T) {
		cf := newCloudFront(t, answer{404, noSuchDistribution})
		err := newTestClient(t, testConfig(cf.URL, true)).CreateInvalidation(context.Background(), "E404", "ref", []string{"/*"})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NoSuchDistribution" || apiErr.ErrorFault() != smithy.FaultClient {
			t.Fatalf("err = %v, want NoSuchDistribution", err)
		}
		if n := len(cf.requests()); n != 1 {
			t.Errorf("%d requests, want 1: the error is not retryable", n)
		}
	})
	t.Run("a 5xx without a readable body", func(t *testing.T) {
		cf := newCloudFront(t, answer{502, "<html>Bad Gateway"}, answer{502, "<html>Bad Gateway"}, answer{502, "<html>Bad Gateway"})
		err := newTestClient(t, testConfig(cf.URL, true)).CreateInvalidation(context.Background(), "E1", "ref", []string{"/*"})
		var status interface{ HTTPStatusCode() int }
		if !errors.As(err, &status) || status.HTTPStatusCode() != 502 || len(cf.requests()) != 3 {
			t.Fatalf("err = %v after %d requests, want status 502 after 3", err, len(cf.requests()))
		}
	})
}

// TestClientClassifiesInjectedFaults puts the fault proxy between client
// and server, one fault per request and no retries, and checks each error
// is one the SDK's standard retryer retries, and throttles as throttling:
// what TestSDKClassifiesInjectedFaults in faultproxy checks of the SDK's
// CloudFront client.
func TestClientClassifiesInjectedFaults(t *testing.T) {
	backend := newCloudFront(t)
	retryable := retry.IsErrorRetryables(retry.DefaultRetryables)
	throttle := retry.IsErrorThrottles(retry.DefaultThrottles)
	for f, code := range map[faultproxy.Fault]string{
		faultproxy.InternalError: "InternalError", faultproxy.Throttle: "Throttling",
		faultproxy.ResetBefore: "", faultproxy.ResetAfter: "",
	} {
		t.Run(f.String(), func(t *testing.T) {
			p, err := faultproxy.New(backend.URL, faultproxy.WithRate(1), faultproxy.WithFaults(f))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Close)
			cfg := testConfig(p.URL(), true)
			cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
			err = newTestClient(t, cfg).CreateInvalidation(context.Background(), "E1", "r", []string{"/*"})
			if err == nil {
				t.Fatal("no error")
			}
			var apiErr smithy.APIError
			if code != "" && (!errors.As(err, &apiErr) || apiErr.ErrorCode() != code) {
				t.Errorf("err = %v, want API error code %s", err, code)
			}
			if retryable.IsErrorRetryable(err) != aws.TrueTernary {
				t.Errorf("the SDK would not retry %v", err)
			}
			if got, want := throttle.IsErrorThrottle(err) == aws.TrueTernary, f == faultproxy.Throttle; got != want {
				t.Errorf("throttle = %v, want %v for %v", got, want, err)
			}
			if st := p.Stats().Service(faultproxy.CloudFront); st.Requests != 1 || st.Faults() != 1 {
				t.Errorf("stats %+v, want one CloudFront request, faulted", st)
			}
		})
	}
}

// TestClientAgainstEmulator invalidates paths of a distribution in the
// emulator's CloudFront, and reads the invalidation back with the SDK.
func TestClientAgainstEmulator(t *testing.T) {
	ctx := context.Background()
	cfg := awstest.Config(t)
	sdk := cloudfront.NewFromConfig(cfg)
	id := awstest.NewDistribution(t)

	v := New(newTestClient(t, cfg), id, 0, func() time.Time { return time.Unix(1700000000, 0) })
	keys := []string{"index.html", "tags/über/index.html", "posts/a b.png"}
	if err := v.Invalidate(ctx, keys); err != nil {
		t.Fatal(err)
	}
	list, err := sdk.ListInvalidations(ctx, &cloudfront.ListInvalidationsInput{DistributionId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if list.InvalidationList == nil || len(list.InvalidationList.Items) != 1 {
		t.Fatalf("invalidations %+v, want one", list.InvalidationList)
	}
	got, err := sdk.GetInvalidation(ctx, &cloudfront.GetInvalidationInput{DistributionId: aws.String(id), Id: list.InvalidationList.Items[0].Id})
	if err != nil {
		t.Fatal(err)
	}
	batch := got.Invalidation.InvalidationBatch
	if want := Paths(keys, DefaultThreshold); !slices.Equal(batch.Paths.Items, want) || aws.ToInt32(batch.Paths.Quantity) != int32(len(want)) {
		t.Errorf("paths %v (%d), want %v", batch.Paths.Items, aws.ToInt32(batch.Paths.Quantity), want)
	}
	if ref := aws.ToString(batch.CallerReference); !strings.HasPrefix(ref, "postmill-1700000000000000000-") {
		t.Errorf("caller reference %q", ref)
	}

	err = New(newTestClient(t, cfg), "EMISSING", 0, nil).Invalidate(ctx, keys)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NoSuchDistribution" {
		t.Errorf("invalidating a missing distribution: %v, want NoSuchDistribution", err)
	}
}
