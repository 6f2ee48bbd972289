package awsrest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
)

var testService = Service{
	ID:          "Test Service",
	SigningName: "testsvc",
	Endpoint: func(region string) (string, string, error) {
		if region == "" {
			return "", "", errors.New("missing region")
		}
		return "https://testsvc." + region + ".amazonaws.com", region, nil
	},
	DecodeError: JSONError,
}

// source is a configuration source such as the SDK's EnvConfig.
type source struct {
	endpoints map[string]string
	ignore    *bool
}

func (s source) GetServiceBaseEndpoint(_ context.Context, id string) (string, bool, error) {
	v, ok := s.endpoints[id]
	return v, ok, nil
}

func (s source) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	if s.ignore == nil {
		return false, false, nil
	}
	return *s.ignore, true, nil
}

func creds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider("AKID", "secret", "")
}

// TestEndpoint checks endpoints resolve as the generated clients resolve
// them: the service's own configured endpoint over the global one, the
// global one over the default, nothing configured when told to ignore.
func TestEndpoint(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name       string
		base       *string
		src        *source
		region     string
		want, sign string
	}{
		{"default", nil, nil, "eu-west-1", "https://testsvc.eu-west-1.amazonaws.com", "eu-west-1"},
		{"global", aws.String("http://127.0.0.1:4566"), nil, "eu-west-1", "http://127.0.0.1:4566", "eu-west-1"},
		{"the service's own", aws.String("http://127.0.0.1:4566"),
			&source{endpoints: map[string]string{"Test Service": "http://127.0.0.1:9999"}}, "eu-west-1", "http://127.0.0.1:9999", "eu-west-1"},
		{"another service's", aws.String("http://127.0.0.1:4566"),
			&source{endpoints: map[string]string{"Other": "http://127.0.0.1:9999"}}, "eu-west-1", "http://127.0.0.1:4566", "eu-west-1"},
		{"ignored", nil, &source{endpoints: map[string]string{"Test Service": "http://127.0.0.1:9999"}, ignore: &yes}, "us-east-2",
			"https://testsvc.us-east-2.amazonaws.com", "us-east-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := aws.Config{Region: tc.region, Credentials: creds(), BaseEndpoint: tc.base}
			if tc.src != nil {
				cfg.ConfigSources = []any{*tc.src}
			}
			c, err := New(cfg, testService)
			if err != nil {
				t.Fatal(err)
			}
			if c.Endpoint() != tc.want || c.SigningRegion() != tc.sign {
				t.Errorf("endpoint %s signed for %s, want %s for %s", c.Endpoint(), c.SigningRegion(), tc.want, tc.sign)
			}
		})
	}
}

func TestNewFailsWithoutWhatItNeeds(t *testing.T) {
	if _, err := New(aws.Config{Region: "eu-west-1"}, testService); err == nil {
		t.Error("no error without credentials")
	}
	if _, err := New(aws.Config{Credentials: creds()}, testService); err == nil || !strings.Contains(err.Error(), "missing region") {
		t.Errorf("err = %v without a region, want the endpoint's", err)
	}
	if _, err := New(aws.Config{Credentials: creds(), BaseEndpoint: aws.String("http://127.0.0.1:1")}, testService); err == nil {
		t.Error("no error without a region to sign for")
	}
	if _, err := New(aws.Config{Region: "eu-west-1", Credentials: creds(), BaseEndpoint: aws.String("127.0.0.1:1")}, testService); err == nil {
		t.Error("no error for an endpoint that is not a URL")
	}
}

// TestRetrySettings checks the configuration's RetryMaxAttempts (what
// AWS_MAX_ATTEMPTS sets) bounds the attempts, and a REST-JSON error is
// decoded with its code, its message and its status.
func TestRetrySettings(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Amzn-ErrorType", "InternalServerException:http://internal.amazon.com/")
		w.WriteHeader(500)
		io.WriteString(w, `{"Message":"try again"}`)
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "eu-west-1", Credentials: creds(), BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 2,
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		}}
	c, err := New(cfg, testService)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(context.Background(), Request{Operation: "Poke", Method: "PUT", Path: "/things/a%20b", Query: map[string][]string{"x": {"1"}}})
	var apiErr smithy.APIError
	var status interface{ HTTPStatusCode() int }
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InternalServerException" || apiErr.ErrorMessage() != "try again" ||
		apiErr.ErrorFault() != smithy.FaultServer || !errors.As(err, &status) || status.HTTPStatusCode() != 500 {
		t.Fatalf("err = %v", err)
	}
	if !strings.HasPrefix(err.Error(), "operation error Test Service: Poke, exceeded maximum number of attempts, 2,") {
		t.Errorf("err = %q", err)
	}
	if hits.Load() != 2 {
		t.Errorf("%d attempts, want 2", hits.Load())
	}
}

// TestCanceled checks a cancelled context stops the retries.
func TestCanceled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	c, err := New(aws.Config{Region: "eu-west-1", Credentials: creds(), BaseEndpoint: aws.String(srv.URL)}, testService)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = c.Do(ctx, Request{Operation: "Poke", Method: "GET", Path: "/"})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %v, want the deadline's", err, time.Since(start))
	}
}
