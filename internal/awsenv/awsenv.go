// Package awsenv makes a Lambda function's AWS SDK configuration from its
// environment alone.
//
// The SDK's config.LoadDefaultConfig also knows shared config files,
// profiles, SSO, assumed roles, web identities, credential processes and
// container and instance credentials, and links the SSO, SSO OIDC, STS
// and sign-in clients that some of them need: 2.6 MB of the render
// function for ways of finding credentials that Lambda does not use.
// Lambda puts the function's credentials and region in its environment,
// and the local stack and the tests start the functions the same way.
//
// Load reads the environment variables the SDK reads for what it
// configures, with the SDK's precedence, values and errors:
//
//	AWS_REGION, else AWS_DEFAULT_REGION
//	AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY), AWS_SECRET_ACCESS_KEY (or
//	  AWS_SECRET_KEY), AWS_SESSION_TOKEN, AWS_ACCOUNT_ID
//	AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE> (AWS_ENDPOINT_URL_S3, …),
//	  AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
//	AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT
//	AWS_MAX_ATTEMPTS, AWS_RETRY_MODE
//	AWS_REQUEST_CHECKSUM_CALCULATION, AWS_RESPONSE_CHECKSUM_VALIDATION
//	AWS_SDK_UA_APP_ID, AWS_CA_BUNDLE
//
// Credentials come from the environment only: with no access key there,
// Load fails and says so, rather than look elsewhere. Where both exist the
// SDK too prefers the environment's keys to a profile's (AWS_PROFILE).
package awsenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
)

// CredentialsSource names the credentials Load finds, as the SDK's
// config package names environment credentials.
const CredentialsSource = "EnvConfigCredentials"

// Load returns the configuration the process environment describes.
func Load() (aws.Config, error) { return load(os.LookupEnv) }

// load is Load reading variables with lookup.
func load(lookup func(string) (string, bool)) (aws.Config, error) {
	get := func(keys ...string) string {
		for _, k := range keys {
			if v, _ := lookup(k); v != "" {
				return v
			}
		}
		return ""
	}
	src := Source{lookup: lookup}
	cfg := aws.Config{
		Region: get("AWS_REGION", "AWS_DEFAULT_REGION"),
		AppID:  get("AWS_SDK_UA_APP_ID"),
		// As LoadDefaultConfig: the SDK's few warnings go to stderr.
		Logger:        logging.NewStandardLogger(os.Stderr),
		ConfigSources: []any{&src},
	}

	creds := aws.Credentials{
		AccessKeyID:     get("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"),
		SecretAccessKey: get("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"),
		Source:          CredentialsSource,
	}
	if !creds.HasKeys() {
		return aws.Config{}, errors.New("no AWS credentials in the environment: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY " +
			"(Lambda does; profiles, SSO, roles and instance credentials are not read)")
	}
	creds.SessionToken, creds.AccountID = get("AWS_SESSION_TOKEN"), get("AWS_ACCOUNT_ID")
	cfg.Credentials = credentials.StaticCredentialsProvider{Value: creds}

	var err error
	if src.ignoreEndpoints, err = boolVar(lookup, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"); err != nil {
		return aws.Config{}, err
	}
	if v := get("AWS_ENDPOINT_URL"); v != "" && !(src.ignoreEndpoints != nil && *src.ignoreEndpoints) {
		cfg.BaseEndpoint = aws.String(v)
	}
	if src.fips, err = boolVar(lookup, "AWS_USE_FIPS_ENDPOINT"); err != nil {
		return aws.Config{}, err
	}
	if src.dualStack, err = boolVar(lookup, "AWS_USE_DUALSTACK_ENDPOINT"); err != nil {
		return aws.Config{}, err
	}

	if v := get("AWS_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return aws.Config{}, fmt.Errorf("invalid value AWS_MAX_ATTEMPTS=%s, %w", v, err)
		}
		cfg.RetryMaxAttempts = int(n)
	}
	if v := get("AWS_RETRY_MODE"); v != "" {
		if cfg.RetryMode, err = aws.ParseRetryMode(v); err != nil {
			return aws.Config{}, fmt.Errorf("invalid AWS_RETRY_MODE value, %w", err)
		}
	}

	if cfg.RequestChecksumCalculation, err = whenVar(lookup, "AWS_REQUEST_CHECKSUM_CALCULATION",
		aws.RequestChecksumCalculationWhenSupported, aws.RequestChecksumCalculationWhenRequired); err != nil {
		return aws.Config{}, err
	}
	if cfg.ResponseChecksumValidation, err = whenVar(lookup, "AWS_RESPONSE_CHECKSUM_VALIDATION",
		aws.ResponseChecksumValidationWhenSupported, aws.ResponseChecksumValidationWhenRequired); err != nil {
		return aws.Config{}, err
	}

	if path := get("AWS_CA_BUNDLE"); path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return aws.Config{}, fmt.Errorf("AWS_CA_BUNDLE: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return aws.Config{}, fmt.Errorf("AWS_CA_BUNDLE: no certificates in %s", path)
		}
		// As LoadDefaultConfig: the bundle's certificates, and only
		// them, are trusted.
		cfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			if tr.TLSClientConfig == nil {
				tr.TLSClientConfig = &tls.Config{}
			}
			tr.TLSClientConfig.RootCAs = roots
		})
	}
	return cfg, nil
}

// boolVar reads a true/false variable as the SDK does: nil when unset.
func boolVar(lookup func(string) (string, bool), key string) (*bool, error) {
	v, _ := lookup(key)
	switch {
	case v == "":
		return nil, nil
	case strings.EqualFold(v, "true"):
		return aws.Bool(true), nil
	case strings.EqualFold(v, "false"):
		return aws.Bool(false), nil
	}
	return nil, fmt.Errorf("invalid value for environment variable, %s=%s, need true or false", key, v)
}

// whenVar reads a when_supported/when_required variable as the SDK does;
// unset, it is when_supported, LoadDefaultConfig's default and the
// clients' own.
func whenVar[T any](lookup func(string) (string, bool), key string, supported, required T) (T, error) {
	switch v, _ := lookup(key); strings.ToLower(v) {
	case "", "when_supported":
		return supported, nil
	case "when_required":
		return required, nil
	default:
		return supported, fmt.Errorf("invalid value for environment variable, %s=%s, must be when_supported/when_required", key, v)
	}
}

// Source is the configuration source Load puts in aws.Config's
// ConfigSources, where the SDK's generated clients (and package awsrest)
// look for service endpoints and endpoint variants, as they find the
// config package's EnvConfig there.
type Source struct {
	lookup          func(string) (string, bool)
	ignoreEndpoints *bool
	fips, dualStack *bool
}

// GetServiceBaseEndpoint returns AWS_ENDPOINT_URL_<SERVICE> for the SDK's
// service ID ("S3", "CloudFront", "Scheduler").
func (s *Source) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v, _ := s.lookup("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return v, v != "", nil
}

// GetIgnoreConfiguredEndpoints returns AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (s *Source) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	if s.ignoreEndpoints == nil {
		return false, false, nil
	}
	return *s.ignoreEndpoints, true, nil
}

// GetUseFIPSEndpoint returns AWS_USE_FIPS_ENDPOINT.
func (s *Source) GetUseFIPSEndpoint(context.Context) (aws.FIPSEndpointState, bool, error) {
	switch {
	case s.fips == nil:
		return aws.FIPSEndpointStateUnset, false, nil
	case *s.fips:
		return aws.FIPSEndpointStateEnabled, true, nil
	}
	return aws.FIPSEndpointStateDisabled, true, nil
}

// GetUseDualStackEndpoint returns AWS_USE_DUALSTACK_ENDPOINT.
func (s *Source) GetUseDualStackEndpoint(context.Context) (aws.DualStackEndpointState, bool, error) {
	switch {
	case s.dualStack == nil:
		return aws.DualStackEndpointStateUnset, false, nil
	case *s.dualStack:
		return aws.DualStackEndpointStateEnabled, true, nil
	}
	return aws.DualStackEndpointStateDisabled, true, nil
}
