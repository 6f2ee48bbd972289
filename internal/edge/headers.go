package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Headers is the distribution's response headers policy, as
// infra/cloudfront/security-headers.json describes it for Terraform and
// for this package. CloudFront adds these headers to every response it
// sends, error pages and 304s included, whatever the origin said.
type Headers struct {
	ContentSecurityPolicy   string `json:"content_security_policy"`
	StrictTransportSecurity HSTS   `json:"strict_transport_security"`
	ContentTypeOptions      bool   `json:"content_type_options"` // X-Content-Type-Options: nosniff
	FrameOptions            string `json:"frame_options"`        // DENY or SAMEORIGIN
	ReferrerPolicy          string `json:"referrer_policy"`

	// Custom headers, by name.
	Custom map[string]string `json:"custom"`
}

// HSTS is the Strict-Transport-Security setting.
type HSTS struct {
	MaxAge            int  `json:"max_age"` // seconds; 0 means no header
	IncludeSubdomains bool `json:"include_subdomains"`
	Preload           bool `json:"preload"`
}

// The values CloudFront accepts for the policy's enumerated settings.
var (
	frameOptions     = []string{"DENY", "SAMEORIGIN"}
	referrerPolicies = []string{
		"no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
		"same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url",
	}
	// securityHeaders may not be set as custom headers: CloudFront
	// rejects a policy that names them twice.
	securityHeaders = []string{
		"Content-Security-Policy", "Strict-Transport-Security", "X-Content-Type-Options",
		"X-Frame-Options", "Referrer-Policy", "X-Xss-Protection",
	}
)

// LoadHeaders reads and validates a headers policy file. Unknown fields
// are an error, so that a typo does not silently drop a header.
func LoadHeaders(path string) (Headers, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Headers{}, fmt.Errorf("load headers: %w", err)
	}
	var h Headers
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return Headers{}, fmt.Errorf("load headers %s: %w", path, err)
	}
	if err := h.Validate(); err != nil {
		return Headers{}, fmt.Errorf("load headers %s: %w", path, err)
	}
	return h, nil
}

// Validate reports whether CloudFront would accept the policy.
func (h Headers) Validate() error {
	var errs []error
	if h.FrameOptions != "" && !slices.Contains(frameOptions, h.FrameOptions) {
		errs = append(errs, fmt.Errorf("frame_options %q is not one of %s", h.FrameOptions, strings.Join(frameOptions, ", ")))
	}
	if h.ReferrerPolicy != "" && !slices.Contains(referrerPolicies, h.ReferrerPolicy) {
		errs = append(errs, fmt.Errorf("referrer_policy %q is not one of %s", h.ReferrerPolicy, strings.Join(referrerPolicies, ", ")))
	}
	if h.StrictTransportSecurity.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("strict_transport_security max_age %d is negative", h.StrictTransportSecurity.MaxAge))
	}
	for name, value := range h.Custom {
		canonical := http.CanonicalHeaderKey(name)
		switch {
		case slices.Contains(securityHeaders, canonical):
			errs = append(errs, fmt.Errorf("custom header %q is a security header; set it in its own field", name))
		case name == "" || strings.ContainsAny(name, " :\r\n"):
			errs = append(errs, fmt.Errorf("custom header name %q is invalid", name))
		case strings.ContainsAny(value, "\r\n"):
			errs = append(errs, fmt.Errorf("custom header %q has a line break in its value", name))
		}
	}
	return errors.Join(errs...)
}

// set adds the policy's headers to dst.
func (h Headers) set(dst http.Header) {
	if h.ContentSecurityPolicy != "" {
		dst.Set("Content-Security-Policy", h.ContentSecurityPolicy)
	}
	if s := h.StrictTransportSecurity; s.MaxAge > 0 {
		v := "max-age=" + strconv.Itoa(s.MaxAge)
		if s.IncludeSubdomains {
			v += "; includeSubDomains"
		}
		if s.Preload {
			v += "; preload"
		}
		dst.Set("Strict-Transport-Security", v)
	}
	if h.ContentTypeOptions {
		dst.Set("X-Content-Type-Options", "nosniff")
	}
	if h.FrameOptions != "" {
		dst.Set("X-Frame-Options", h.FrameOptions)
	}
	if h.ReferrerPolicy != "" {
		dst.Set("Referrer-Policy", h.ReferrerPolicy)
	}
	for name, value := range h.Custom {
		dst.Set(name, value)
	}
}
