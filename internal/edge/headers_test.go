package edge_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postmill/postmill/internal/edge"
)

// policyFile is the response headers policy Terraform also reads.
var policyFile = filepath.Join("..", "..", "infra", "cloudfront", "security-headers.json")

func TestLoadHeadersPolicyFile(t *testing.T) {
	h, err := edge.LoadHeaders(policyFile)
	if err != nil {
		t.Fatalf("LoadHeaders: %v", err)
	}
	if h.ContentSecurityPolicy == "" || h.StrictTransportSecurity.MaxAge == 0 || !h.ContentTypeOptions ||
		h.FrameOptions == "" || h.ReferrerPolicy == "" {
		t.Errorf("policy is missing a security header: %+v", h)
	}
}

func TestLoadHeadersRejects(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		wantErr string
	}{
		{name: "unknown field", json: `{"frame_option":"DENY"}`, wantErr: "unknown field"},
		{name: "bad frame option", json: `{"frame_options":"ALLOW-FROM x"}`, wantErr: "frame_options"},
		{name: "bad referrer policy", json: `{"referrer_policy":"never"}`, wantErr: "referrer_policy"},
		{name: "negative max age", json: `{"strict_transport_security":{"max_age":-1}}`, wantErr: "max_age"},
		{name: "security header as custom", json: `{"custom":{"x-frame-options":"DENY"}}`, wantErr: "security header"},
		{name: "line break in custom value", json: `{"custom":{"X-A":"a\r\nb"}}`, wantErr: "line break"},
		{name: "not JSON", json: `frame_options: DENY`, wantErr: "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "headers.json")
			if err := os.WriteFile(path, []byte(tt.json), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := edge.LoadHeaders(path)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("LoadHeaders: %v, want an error about %q", err, tt.wantErr)
			}
		})
	}
}
