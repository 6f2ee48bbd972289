package awsenv

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// variables are every variable Load reads, and those that would make
// LoadDefaultConfig look somewhere else.
var variables = []string{
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY",
	"AWS_SESSION_TOKEN", "AWS_ACCOUNT_ID", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_CLOUDFRONT",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_MAX_ATTEMPTS",
	"AWS_RETRY_MODE", "AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION", "AWS_SDK_UA_APP_ID",
	"AWS_CA_BUNDLE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_EC2_METADATA_DISABLED", "AWS_DEFAULTS_MODE",
}

// setenv gives the test exactly env among the variables, and shared
// config files that do not exist, so that LoadDefaultConfig reads the
// environment as Lambda's, not this machine's ~/.aws.
func setenv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range variables {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// TestAgreesWithLoadDefaultConfig loads environments like Lambda's, the
// local stack's and some with every variable Load reads, with Load and
// with the SDK's LoadDefaultConfig, and compares what they configure and
// what an S3 client built from each resolves.
func TestAgreesWithLoadDefaultConfig(t *testing.T) {
	bundle := writeCA(t)
	// A profile with other credentials and settings: the environment's
	// keys win, in the SDK too.
	dir := t.TempDir()
	profileConfig, profileCreds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	os.WriteFile(profileConfig, []byte("[profile somebody]\nregion = sa-east-1\n"), 0o600)
	os.WriteFile(profileCreds, []byte("[somebody]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = other\n"), 0o600)
	lambda := map[string]string{
		"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "eu-central-1",
		"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
	}
	with := func(extra map[string]string) map[string]string {
		env := map[string]string{}
		for k, v := range lambda {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	for name, env := range map[string]map[string]string{
		"lambda":              lambda,
		"local stack":         {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"},
		"default region only": {"AWS_ACCESS_KEY": "AKID", "AWS_SECRET_KEY": "secret", "AWS_DEFAULT_REGION": "ap-south-1"},
		"profile too": with(map[string]string{"AWS_PROFILE": "somebody",
			"AWS_CONFIG_FILE": profileConfig, "AWS_SHARED_CREDENTIALS_FILE": profileCreds}),
		"service endpoint": with(map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
			"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "AWS_ACCOUNT_ID": "123456789012"}),
		"ignored endpoints": with(map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
			"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}),
		"every setting": with(map[string]string{"AWS_USE_FIPS_ENDPOINT": "true", "AWS_USE_DUALSTACK_ENDPOINT": "TRUE",
			"AWS_MAX_ATTEMPTS": "5", "AWS_RETRY_MODE": "adaptive", "AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_REQUIRED",
			"AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required", "AWS_SDK_UA_APP_ID": "postmill", "AWS_CA_BUNDLE": bundle}),
		"settings off": with(map[string]string{"AWS_USE_FIPS_ENDPOINT": "false", "AWS_USE_DUALSTACK_ENDPOINT": "false",
			"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
			"AWS_RETRY_MODE": "standard", "AWS_REQUEST_CHECKSUM_CALCULATION": "when_supported",
			"AWS_RESPONSE_CHECKSUM_VALIDATION": "WHEN_SUPPORTED"}),
	} {
		t.Run(name, func(t *testing.T) {
			setenv(t, env)
			ctx := context.Background()
			want, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Load()
			if err != nil {
				t.Fatal(err)
			}
			if got.Region != want.Region || aws.ToString(got.BaseEndpoint) != aws.ToString(want.BaseEndpoint) ||
				got.RetryMaxAttempts != want.RetryMaxAttempts || got.RetryMode != want.RetryMode ||
				got.RequestChecksumCalculation != want.RequestChecksumCalculation ||
				got.ResponseChecksumValidation != want.ResponseChecksumValidation || got.AppID != want.AppID {
				t.Errorf("Load:\n%s\nLoadDefaultConfig:\n%s", describe(got), describe(want))
			}
			if (got.HTTPClient == nil) != (want.HTTPClient == nil) {
				t.Errorf("HTTP client %T, LoadDefaultConfig's %T", got.HTTPClient, want.HTTPClient)
			}
			gc, err := got.Credentials.Retrieve(ctx)
			if err != nil {
				t.Fatal(err)
			}
			wc, err := want.Credentials.Retrieve(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if gc.AccessKeyID != wc.AccessKeyID || gc.SecretAccessKey != wc.SecretAccessKey || gc.SessionToken != wc.SessionToken ||
				gc.AccountID != wc.AccountID || gc.Source != wc.Source || gc.CanExpire != wc.CanExpire {
				t.Errorf("credentials %+v, LoadDefaultConfig's %+v", gc, wc)
			}
			g, w := s3.NewFromConfig(got).Options(), s3.NewFromConfig(want).Options()
			if aws.ToString(g.BaseEndpoint) != aws.ToString(w.BaseEndpoint) || g.EndpointOptions.UseFIPSEndpoint != w.EndpointOptions.UseFIPSEndpoint ||
				g.EndpointOptions.UseDualStackEndpoint != w.EndpointOptions.UseDualStackEndpoint ||
				g.Retryer.MaxAttempts() != w.Retryer.MaxAttempts() || g.Region != w.Region {
				t.Errorf("S3 options: endpoint %s, fips %v, dual stack %v, attempts %d; LoadDefaultConfig's %s, %v, %v, %d",
					aws.ToString(g.BaseEndpoint), g.EndpointOptions.UseFIPSEndpoint, g.EndpointOptions.UseDualStackEndpoint, g.Retryer.MaxAttempts(),
					aws.ToString(w.BaseEndpoint), w.EndpointOptions.UseFIPSEndpoint, w.EndpointOptions.UseDualStackEndpoint, w.Retryer.MaxAttempts())
			}
			for _, id := range []string{"S3", "CloudFront", "Scheduler"} {
				gv, gok, _ := got.ConfigSources[0].(*Source).GetServiceBaseEndpoint(ctx, id)
				wv, wok, _ := config.EnvConfig{}.GetServiceBaseEndpoint(ctx, id)
				if gv != wv || gok != wok {
					t.Errorf("%s endpoint %q, the SDK's %q", id, gv, wv)
				}
			}
		})
	}
}

func describe(c aws.Config) string {
	return fmt.Sprintf("region %s, endpoint %s, max attempts %d, retry mode %s, checksums %v/%v, app %s", c.Region,
		aws.ToString(c.BaseEndpoint), c.RetryMaxAttempts, c.RetryMode, c.RequestChecksumCalculation, c.ResponseChecksumValidation, c.AppID)
}

// TestErrors checks what Load refuses, as the SDK does (bad values) or
// in its place (no credentials in the environment).
func TestErrors(t *testing.T) {
	base := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1"}
	for _, tc := range []struct {
		key, value, want string
	}{
		{"AWS_SECRET_ACCESS_KEY", "", "no AWS credentials in the environment"},
		{"AWS_MAX_ATTEMPTS", "three", "AWS_MAX_ATTEMPTS"},
		{"AWS_RETRY_MODE", "eager", "AWS_RETRY_MODE"},
		{"AWS_USE_FIPS_ENDPOINT", "yes", "AWS_USE_FIPS_ENDPOINT"},
		{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"},
		{"AWS_REQUEST_CHECKSUM_CALCULATION", "always", "AWS_REQUEST_CHECKSUM_CALCULATION"},
		{"AWS_RESPONSE_CHECKSUM_VALIDATION", "never", "AWS_RESPONSE_CHECKSUM_VALIDATION"},
		{"AWS_CA_BUNDLE", filepath.Join(t.TempDir(), "missing.pem"), "AWS_CA_BUNDLE"},
	} {
		env := map[string]string{tc.key: tc.value}
		for k, v := range base {
			if _, set := env[k]; !set {
				env[k] = v
			}
		}
		_, err := load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: err = %v, want one naming %s", tc.key, tc.value, err, tc.want)
		}
	}
}

// writeCA writes a self-signed certificate to a file, for AWS_CA_BUNDLE.
func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "postmill test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
