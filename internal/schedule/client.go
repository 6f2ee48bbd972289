package schedule

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	smithyrand "github.com/aws/smithy-go/rand"

	"github.com/postmill/postmill/internal/awsrest"
)

// service is EventBridge Scheduler's API as awsrest sends to it:
// REST-JSON at scheduler.{region}.amazonaws.com (.amazonaws.com.cn in the
// China regions), signed for the region.
var service = awsrest.Service{
	ID:          "Scheduler",
	SigningName: "scheduler",
	Endpoint: func(r string) (string, string, error) {
		if !validRegion(r) {
			return "", "", fmt.Errorf("region %q: set AWS_REGION", r)
		}
		suffix := "amazonaws.com"
		if strings.HasPrefix(r, "cn-") {
			suffix = "amazonaws.com.cn"
		}
		return "https://scheduler." + r + "." + suffix, r, nil
	},
	DecodeError: awsrest.JSONError,
}

// validRegion reports whether r can go into a host name as a region:
// lower-case letters, digits and inner hyphens.
func validRegion(r string) bool {
	if r == "" || r[0] == '-' || r[len(r)-1] == '-' {
		return false
	}
	for _, c := range r {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// Client calls EventBridge Scheduler at AWS_ENDPOINT_URL_SCHEDULER or
// AWS_ENDPOINT_URL when the configuration names one (an emulator), with
// the SDK's retries and errors (package awsrest). Like the SDK, it gives
// each call a fresh client token, kept across the call's retries, so a
// retried call is not done twice.
type Client struct {
	api    *awsrest.Client
	tokens *smithyrand.UUIDIdempotencyToken
}

// NewClient returns a client configured by cfg.
func NewClient(cfg aws.Config) (*Client, error) {
	api, err := awsrest.New(cfg, service)
	if err != nil {
		return nil, err
	}
	return &Client{api: api, tokens: smithyrand.NewUUIDIdempotencyToken(crand.Reader)}, nil
}

// IsNotFound reports whether err says there is no such schedule.
func IsNotFound(err error) bool { return awsrest.IsErrorCode(err, "ResourceNotFoundException") }

// CreateSchedule implements API: POST /schedules/{Name}.
func (c *Client) CreateSchedule(ctx context.Context, s *Schedule) error {
	return c.put(ctx, "CreateSchedule", http.MethodPost, s)
}

// UpdateSchedule implements API: PUT /schedules/{Name}.
func (c *Client) UpdateSchedule(ctx context.Context, s *Schedule) error {
	return c.put(ctx, "UpdateSchedule", http.MethodPut, s)
}

func (c *Client) put(ctx context.Context, op, method string, s *Schedule) error {
	token, err := c.tokens.GetIdempotencyToken()
	if err != nil {
		return err
	}
	body, err := json.Marshal(struct {
		*Schedule
		ClientToken string `json:"ClientToken"`
	}{s, token})
	if err != nil {
		return fmt.Errorf("encode schedule: %w", err)
	}
	return c.api.Do(ctx, awsrest.Request{
		Operation: op, Method: method, Path: "/schedules/" + url.PathEscape(s.Name),
		ContentType: "application/json", Body: body,
	})
}

// DeleteSchedule implements API: DELETE /schedules/{Name}.
func (c *Client) DeleteSchedule(ctx context.Context, group, name string) error {
	token, err := c.tokens.GetIdempotencyToken()
	if err != nil {
		return err
	}
	return c.api.Do(ctx, awsrest.Request{
		Operation: "DeleteSchedule", Method: http.MethodDelete, Path: "/schedules/" + url.PathEscape(name),
		Query: url.Values{"groupName": {group}, "clientToken": {token}},
	})
}
