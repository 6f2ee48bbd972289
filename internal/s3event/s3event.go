// Package s3event decodes S3 event notifications as they arrive in SQS
// message bodies: the real service's, LocalStack's and moto's, including
// s3:TestEvent messages.
//
// It exists because the stock events.S3Event cannot read every emulator's
// output: moto writes eventTime without a zone, omits the sequencer and
// escapes "/" in keys. Decoding stops at the notification; deciding what a
// changed key means is package publish's job.
package s3event

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Record is one object change.
type Record struct {
	EventName string // e.g. "ObjectCreated:Put", "ObjectRemoved:DeleteMarkerCreated"
	Bucket    string
	Key       string // decoded: "my post.md", not "my+post.md"
	Size      int64
	ETag      string
	VersionID string
	Sequencer string // orders events for one key; empty when not sent
	Time      time.Time
}

// Removed reports whether the event announces a deletion.
func (r Record) Removed() bool { return strings.HasPrefix(r.EventName, "ObjectRemoved:") }

// ErrTestEvent is returned for the s3:TestEvent S3 sends when a
// notification configuration is saved; such messages carry no change.
var ErrTestEvent = errors.New("s3:TestEvent")

type notification struct {
	Event   string `json:"Event"`
	Records []struct {
		EventSource string `json:"eventSource"`
		EventName   string `json:"eventName"`
		EventTime   string `json:"eventTime"`
		S3          struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object struct {
				Key       string          `json:"key"`
				Size      json.RawMessage `json:"size"`
				ETag      string          `json:"eTag"`
				VersionID string          `json:"versionId"`
				Sequencer string          `json:"sequencer"`
			} `json:"object"`
		} `json:"s3"`
	} `json:"Records"`
	// SNS wraps the notification in a Message string.
	Type    string `json:"Type"`
	Message string `json:"Message"`
}

// Parse decodes an SQS message body. It returns ErrTestEvent for test
// events, and an error naming the problem for anything that is not an S3
// notification. Records from other sources are skipped.
func Parse(body string) ([]Record, error) {
	var n notification
	if err := json.Unmarshal([]byte(body), &n); err != nil {
		return nil, fmt.Errorf("not an S3 event notification: %w", err)
	}
	if n.Type == "Notification" && n.Message != "" {
		return Parse(n.Message)
	}
	if n.Event == "s3:TestEvent" {
		return nil, ErrTestEvent
	}
	if n.Records == nil {
		return nil, errors.New("not an S3 event notification: no Records")
	}
	var out []Record
	for i, r := range n.Records {
		if r.EventSource != "" && r.EventSource != "aws:s3" {
			continue
		}
		key, err := DecodeKey(r.S3.Object.Key)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		rec := Record{
			EventName: r.EventName,
			Bucket:    r.S3.Bucket.Name,
			Key:       key,
			ETag:      strings.Trim(r.S3.Object.ETag, `"`),
			VersionID: r.S3.Object.VersionID,
			Sequencer: r.S3.Object.Sequencer,
			Time:      parseTime(r.EventTime),
		}
		_ = json.Unmarshal(r.S3.Object.Size, &rec.Size)
		out = append(out, rec)
	}
	return out, nil
}

// DecodeKey undoes the form encoding S3 applies to keys in notifications:
// "+" is a space and "%XX" a byte ("%2F", which emulators send, is "/").
func DecodeKey(k string) (string, error) {
	d, err := url.QueryUnescape(k)
	if err != nil {
		return "", fmt.Errorf("key %q is not form-encoded: %w", k, err)
	}
	return d, nil
}

// timeLayouts accepts the service's format and the emulators' variants,
// including moto's time without a zone (read as UTC).
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"}

func parseTime(s string) time.Time {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
