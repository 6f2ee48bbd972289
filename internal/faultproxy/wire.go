package faultproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// cloudFrontPrefix starts every CloudFront API path (its API version).
const cloudFrontPrefix = "/2020-05-31/"

// maxFormBytes bounds the query-protocol body read to find an SQS Action.
const maxFormBytes = 1 << 20

// describe works out which service and operation a request is for.
func describe(r *http.Request) (*Request, error) {
	req := &Request{Method: r.Method, Path: r.URL.Path, Header: r.Header}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch target := r.Header.Get("X-Amz-Target"); {
	case strings.HasPrefix(target, "AmazonSQS."):
		// AWS JSON 1.0, what current SDKs speak.
		req.Service, req.Action = SQS, strings.TrimPrefix(target, "AmazonSQS.")
	case strings.HasPrefix(r.URL.Path, cloudFrontPrefix):
		req.Service = CloudFront
	case r.Method == http.MethodPost && ct == "application/x-www-form-urlencoded":
		// The query protocol older SDKs and the CLI speak: S3 has no
		// form posts at the path's root, SQS has nothing else.
		action, err := formAction(r)
		if err != nil {
			return nil, err
		}
		req.Service, req.Action = SQS, action
	case r.URL.Query().Get("Action") != "" && r.Method == http.MethodGet:
		req.Service, req.Action = SQS, r.URL.Query().Get("Action")
	default:
		req.Service = S3
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		req.Bucket, req.Key = bucket, key
	}
	return req, nil
}

// formAction reads the Action of a query-protocol form and puts the body
// back for forwarding.
func formAction(r *http.Request) (string, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBytes+1))
	r.Body.Close()
	if err != nil {
		return "", fmt.Errorf("read form: %w", err)
	}
	if len(body) > maxFormBytes {
		return "", fmt.Errorf("form body over %d bytes", maxFormBytes)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", fmt.Errorf("parse form: %w", err)
	}
	return form.Get("Action"), nil
}

// wireError is one injected error as a service sends it.
type wireError struct {
	status        int
	code, message string
}

// wireErrors are the errors each service answers with for each fault.
// SQS's codes are AWS's common errors for its JSON protocol; S3's and
// CloudFront's are theirs.
var wireErrors = map[Service]map[Fault]wireError{
	S3: {
		InternalError: {http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."},
		Throttle:      {http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."},
	},
	SQS: {
		InternalError: {http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure."},
		Throttle:      {http.StatusBadRequest, "ThrottlingException", "Rate exceeded"},
	},
	CloudFront: {
		InternalError: {http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."},
		Throttle:      {http.StatusBadRequest, "Throttling", "Rate exceeded"},
	},
}

// writeError answers with the service's error for f in its wire format:
// S3's bare <Error> document, CloudFront's <ErrorResponse>, SQS's AWS JSON
// 1.0 document with a namespaced __type. HEAD answers carry no body, as
// S3's do not.
func writeError(w http.ResponseWriter, r *http.Request, svc Service, f Fault, requestID string) {
	e := wireErrors[svc][f]
	var ct, body string
	switch svc {
	case SQS:
		ct = "application/x-amz-json-1.0"
		b, _ := json.Marshal(map[string]string{"__type": "com.amazonaws.sqs#" + e.code, "message": e.message})
		body = string(b)
		w.Header().Set("X-Amzn-Requestid", requestID)
	case CloudFront:
		ct = "text/xml"
		body = fmt.Sprintf(`<?xml version="1.0"?>`+"\n"+
			`<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			faultType(e.status), e.code, html.EscapeString(e.message), requestID)
		w.Header().Set("X-Amzn-Requestid", requestID)
	default:
		ct = "application/xml"
		body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId></Error>`,
			e.code, html.EscapeString(e.message), requestID)
		w.Header().Set("X-Amz-Request-Id", requestID)
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(e.status)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(e.status)
	io.WriteString(w, body)
}

func faultType(status int) string {
	if status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// drain reads and closes a response body.
func drain(resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	return io.Copy(io.Discard, resp.Body)
}
