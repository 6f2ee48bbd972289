package cdn

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postmill/postmill/internal/awsrest"
)

// apiVersion starts CloudFront's API paths and names its XML namespace.
const apiVersion = "2020-05-31"

// service is CloudFront's API as awsrest sends to it: REST-XML, one
// global endpoint, requests signed for us-east-1 (cn-northwest-1 from
// the China regions) wherever they are sent.
var service = awsrest.Service{
	ID:          "CloudFront",
	SigningName: "cloudfront",
	Endpoint: func(region string) (string, string, error) {
		if strings.HasPrefix(region, "cn-") {
			return "https://cloudfront.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1", nil
		}
		return "https://cloudfront.amazonaws.com", "us-east-1", nil
	},
	SigningRegion: func(region string) string {
		if strings.HasPrefix(region, "cn-") {
			return "cn-northwest-1"
		}
		return "us-east-1"
	},
	DecodeError: awsrest.XMLError,
}

// Client calls CloudFront's CreateInvalidation: POST
// /2020-05-31/distribution/{Id}/invalidation with an InvalidationBatch,
// at AWS_ENDPOINT_URL_CLOUDFRONT or AWS_ENDPOINT_URL when the
// configuration names one (an emulator), and with the SDK's retries and
// errors (package awsrest).
type Client struct {
	api *awsrest.Client
}

// NewClient returns a client configured by cfg.
func NewClient(cfg aws.Config) (*Client, error) {
	api, err := awsrest.New(cfg, service)
	if err != nil {
		return nil, err
	}
	return &Client{api: api}, nil
}

// invalidationBatch is CreateInvalidation's request body.
type invalidationBatch struct {
	XMLName         xml.Name `xml:"http://cloudfront.amazonaws.com/doc/2020-05-31/ InvalidationBatch"`
	CallerReference string   `xml:"CallerReference"`
	Paths           struct {
		Items    []string `xml:"Items>Path"`
		Quantity int      `xml:"Quantity"`
	} `xml:"Paths"`
}

// CreateInvalidation implements API.
func (c *Client) CreateInvalidation(ctx context.Context, distribution, callerReference string, paths []string) error {
	b := invalidationBatch{CallerReference: callerReference}
	b.Paths.Items, b.Paths.Quantity = paths, len(paths)
	body, err := xml.Marshal(b)
	if err != nil {
		return fmt.Errorf("encode invalidation batch: %w", err)
	}
	return c.api.Do(ctx, awsrest.Request{
		Operation:   "CreateInvalidation",
		Method:      http.MethodPost,
		Path:        "/" + apiVersion + "/distribution/" + url.PathEscape(distribution) + "/invalidation",
		ContentType: "application/xml",
		Body:        body,
	})
}
