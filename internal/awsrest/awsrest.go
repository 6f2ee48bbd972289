// Package awsrest sends single signed requests to AWS REST APIs the way
// the SDK's generated clients do, for the few calls the functions make
// outside S3. A generated client brings its whole API with it (CloudFront's
// is over 5 MB of the render function's binary for one call); this package
// brings only what one request needs, from the SDK's own parts:
//
//   - the endpoint: the configuration's BaseEndpoint (AWS_ENDPOINT_URL),
//     overridden by a service's own (AWS_ENDPOINT_URL_CLOUDFRONT, …) from
//     the configuration's sources, as the generated clients resolve it,
//     or else the service's default endpoint for the region;
//   - Signature Version 4 with the configuration's credentials
//     (aws/signer/v4);
//   - retries: the configuration's retryer, or the SDK's standard one
//     (aws/retry: three attempts, exponential backoff with jitter, a retry
//     quota), deciding and delaying exactly as for SDK clients;
//   - errors of the types the SDK returns (smithy.OperationError around
//     an awshttp.ResponseError around a smithy.APIError with the
//     service's error code, retry.MaxAttemptsError, smithyhttp's
//     RequestSendError), so callers and retry classification see what
//     they saw from the generated client.
//
// It does not decode responses beyond errors: the calls it serves need
// only to know that they succeeded.
package awsrest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/restjson"
	awsxml "github.com/aws/aws-sdk-go-v2/aws/protocol/xml"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// Service describes one AWS API.
type Service struct {
	// ID is the SDK's service ID ("CloudFront"): errors name it, and it
	// names the service's endpoint variable, AWS_ENDPOINT_URL_<ID> in
	// upper case with spaces as underscores.
	ID string

	// SigningName is the name requests are signed for ("cloudfront").
	SigningName string

	// Endpoint returns the service's default endpoint for a region and
	// the region to sign for there.
	Endpoint func(region string) (endpoint, signingRegion string, err error)

	// SigningRegion, when set, is the region to sign for at a configured
	// endpoint (CloudFront's us-east-1); otherwise the configuration's.
	SigningRegion func(region string) string

	// DecodeError reads an error response's code, message and request
	// id (empty: the x-amzn-RequestId header's) in the service's
	// protocol: XMLError or JSONError.
	DecodeError func(resp *http.Response, body []byte) (code, message, requestID string, err error)
}

// Client sends requests to one service.
type Client struct {
	svc           Service
	endpoint      *url.URL
	signingRegion string
	creds         aws.CredentialsProvider
	http          aws.HTTPClient
	retryer       aws.RetryerV2
	signer        *v4.Signer
}

// New returns a client for svc configured by cfg: its credentials,
// region, endpoints, HTTP client and retry settings.
func New(cfg aws.Config, svc Service) (*Client, error) {
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("%s: no credentials in the AWS configuration", svc.ID)
	}
	c := &Client{svc: svc, creds: cfg.Credentials, http: cfg.HTTPClient, signer: v4.NewSigner()}
	if _, cached := c.creds.(*aws.CredentialsCache); !cached {
		c.creds = aws.NewCredentialsCache(c.creds)
	}
	if c.http == nil {
		c.http = awshttp.NewBuildableClient()
	}
	c.retryer = newRetryer(cfg)

	endpoint, configured := baseEndpoint(cfg, svc.ID)
	signingRegion := cfg.Region
	if configured {
		if svc.SigningRegion != nil {
			signingRegion = svc.SigningRegion(cfg.Region)
		}
	} else {
		var err error
		if endpoint, signingRegion, err = svc.Endpoint(cfg.Region); err != nil {
			return nil, fmt.Errorf("%s: %w", svc.ID, err)
		}
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("%s: endpoint %q is not an absolute URL", svc.ID, endpoint)
	}
	if signingRegion == "" {
		return nil, fmt.Errorf("%s: no region to sign requests for: set AWS_REGION", svc.ID)
	}
	c.endpoint, c.signingRegion = u, signingRegion
	return c, nil
}

// Endpoint returns the URL requests are sent under.
func (c *Client) Endpoint() string { return c.endpoint.String() }

// SigningRegion returns the region requests are signed for.
func (c *Client) SigningRegion() string { return c.signingRegion }

// serviceEndpointSource is what the SDK's configuration sources (the
// config package's, and awsenv's) offer for service endpoints: the
// interface the generated clients look for in aws.Config.ConfigSources.
type serviceEndpointSource interface {
	GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
}

type ignoreEndpointsSource interface {
	GetIgnoreConfiguredEndpoints(ctx context.Context) (bool, bool, error)
}

// baseEndpoint resolves a configured endpoint as the generated clients'
// resolveBaseEndpoint does: aws.Config.BaseEndpoint, replaced by the
// service's own endpoint from the configuration's sources unless
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is set there.
func baseEndpoint(cfg aws.Config, sdkID string) (string, bool) {
	endpoint, found := aws.ToString(cfg.BaseEndpoint), cfg.BaseEndpoint != nil
	ctx := context.Background()
	for _, s := range cfg.ConfigSources {
		if p, ok := s.(ignoreEndpointsSource); ok {
			if ignore, ok, err := p.GetIgnoreConfiguredEndpoints(ctx); err == nil && ok {
				if ignore {
					return endpoint, found
				}
				break
			}
		}
	}
	for _, s := range cfg.ConfigSources {
		if p, ok := s.(serviceEndpointSource); ok {
			v, ok, err := p.GetServiceBaseEndpoint(ctx, sdkID)
			if err != nil {
				break
			}
			if ok {
				return v, true
			}
		}
	}
	return endpoint, found
}

// newRetryer builds the retryer an SDK client would from cfg.
func newRetryer(cfg aws.Config) aws.RetryerV2 {
	var r aws.Retryer
	if cfg.Retryer != nil {
		r = cfg.Retryer()
	}
	if r == nil {
		maxAttempts := func(o *retry.StandardOptions) {
			if cfg.RetryMaxAttempts != 0 {
				o.MaxAttempts = cfg.RetryMaxAttempts
			}
		}
		if cfg.RetryMode == aws.RetryModeAdaptive {
			r = retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
				o.StandardOptions = append(o.StandardOptions, maxAttempts)
			})
		} else {
			r = retry.NewStandard(maxAttempts)
		}
	}
	if cfg.RetryMaxAttempts != 0 {
		r = retry.AddWithMaxAttempts(r, cfg.RetryMaxAttempts)
	}
	if v2, ok := r.(aws.RetryerV2); ok {
		return v2
	}
	return retryerV2{r}
}

// retryerV2 gives a Retryer without GetAttemptToken the SDK's fallback.
type retryerV2 struct{ aws.Retryer }

func (r retryerV2) GetAttemptToken(context.Context) (func(error) error, error) {
	return r.GetInitialToken(), nil
}

// Request is one API call.
type Request struct {
	Operation   string     // "CreateInvalidation", for errors
	Method      string     // "POST"
	Path        string     // already escaped: "/2020-05-31/distribution/E1/invalidation"
	Query       url.Values // nil for none
	ContentType string     // of Body; empty without one
	Body        []byte
}

// Do sends the request, retrying what the retryer retries, and returns
// nil once the service answers with a 2xx status. Its error is an
// *smithy.OperationError, as a generated client's would be.
func (c *Client) Do(ctx context.Context, r Request) error {
	if err := c.retry(ctx, r); err != nil {
		return &smithy.OperationError{ServiceID: c.svc.ID, OperationName: r.Operation, Err: err}
	}
	return nil
}

// retry is the SDK's retry middleware (aws/retry.Attempt) for one call.
func (c *Client) retry(ctx context.Context, r Request) error {
	releaseRetry := func(error) error { return nil }
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		releaseAttempt, err := c.retryer.GetAttemptToken(ctx)
		if err != nil {
			return fmt.Errorf("failed to get retry Send token, %w", err)
		}
		err = c.attempt(ctx, r)
		if rerr := releaseRetry(err); rerr != nil && err != nil {
			return fmt.Errorf("failed to release retry token after request error, %w", err)
		}
		if rerr := releaseAttempt(err); rerr != nil && err != nil {
			return fmt.Errorf("failed to release initial token after request error, %w", err)
		}
		if err == nil {
			return nil
		}
		if !c.retryer.IsErrorRetryable(err) {
			return err
		}
		if max := c.retryer.MaxAttempts(); max > 0 && attempt >= max {
			return &retry.MaxAttemptsError{Attempt: attempt, Err: err}
		}
		var tokenErr error
		if releaseRetry, tokenErr = c.retryer.GetRetryToken(ctx, err); tokenErr != nil {
			return errors.Join(err, tokenErr)
		}
		delay, err2 := c.retryer.RetryDelay(attempt, err)
		if err2 != nil {
			return err2
		}
		if err2 := sleep(ctx, delay); err2 != nil {
			return &aws.RequestCanceledError{Err: err2}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// attempt signs and sends the request once.
func (c *Client) attempt(ctx context.Context, r Request) error {
	u := *c.endpoint
	u.RawPath = strings.TrimSuffix(c.endpoint.EscapedPath(), "/") + r.Path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return fmt.Errorf("build request: path %q: %w", r.Path, err)
	}
	u.Path = p
	u.RawQuery = r.Query.Encode()
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), bytes.NewReader(r.Body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("failed to retrieve credentials: %w", err)
	}
	sum := sha256.Sum256(r.Body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), c.svc.SigningName, c.signingRegion, time.Now().UTC()); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		// As smithy-go's ClientHandler reports a failed send.
		if ctx.Err() != nil {
			return &smithy.CanceledError{Err: ctx.Err()}
		}
		return &smithyhttp.RequestSendError{Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Nothing in the answer is needed: a failure to read it is no
		// reason to send again what the service has done.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	// Whatever went wrong with the answer, the error carries its status,
	// as the SDK's response error middleware makes sure: a 503 with a
	// body nobody can read is still retried.
	requestID, apiErr := c.decodeError(resp)
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: apiErr},
		RequestID:     cmp.Or(requestID, resp.Header.Get("X-Amzn-Requestid")),
	}
}

// decodeError reads an error response as the generated deserializers do.
func (c *Client) decodeError(resp *http.Response) (requestID string, err error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return "", &smithy.DeserializationError{Err: fmt.Errorf("failed to copy error response body, %w", err)}
	}
	code, message, requestID, err := c.svc.DecodeError(resp, body)
	if err != nil {
		return "", &smithy.DeserializationError{Err: err, Snapshot: body}
	}
	code = cmp.Or(code, "UnknownError")
	fault := smithy.FaultClient
	if resp.StatusCode >= 500 {
		fault = smithy.FaultServer
	}
	return requestID, &smithy.GenericAPIError{Code: code, Message: cmp.Or(message, code), Fault: fault}
}

// IsErrorCode reports whether err is an API error with the given code.
func IsErrorCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}

// XMLError decodes the error responses of REST-XML services such as
// CloudFront, <ErrorResponse><Error><Code>…, as their generated clients do.
func XMLError(_ *http.Response, body []byte) (code, message, requestID string, err error) {
	c, err := awsxml.GetErrorResponseComponents(bytes.NewReader(body), false)
	if err != nil {
		return "", "", "", err
	}
	return c.Code, c.Message, c.RequestID, nil
}

// JSONError decodes the error responses of REST-JSON services such as
// EventBridge Scheduler, as their generated clients do: the code from
// the X-Amzn-ErrorType header, or else the body's __type or code.
func JSONError(resp *http.Response, body []byte) (code, message, requestID string, err error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	jsonCode, message, err := restjson.GetErrorInfo(d)
	if err != nil {
		return "", "", "", fmt.Errorf("failed to decode response body, %w", err)
	}
	code = resp.Header.Get("X-Amzn-ErrorType")
	if code == "" {
		code = jsonCode
	}
	return restjson.SanitizeErrorCode(code), message, "", nil
}
