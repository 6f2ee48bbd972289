// Package schedule makes posts appear and disappear on time. When a post's
// publish date lies ahead, or its expiry date will pass, the engine asks
// for a one-time EventBridge Scheduler schedule at that moment; the
// schedule sends the post's key to the function's own queue, shaped like
// an S3 notification, so the ordinary event path reconciles the post.
// No rebuild, no polling.
//
// It only manages schedules; deciding when a post changes is package
// post's job. Client makes the three EventBridge Scheduler calls it needs
// as signed HTTPS requests (package awsrest) rather than through the
// SDK's Scheduler client, half a megabyte of the function for them.
package schedule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// EventName is the eventName of the notifications schedules send; the
// handler treats such events as a reason to look again carefully.
const EventName = "postmill:Scheduled"

// API is the part of EventBridge Scheduler's API used here; Client makes
// these calls. Update and Delete fail with an error for which
// IsNotFound is true when there is no such schedule.
type API interface {
	CreateSchedule(ctx context.Context, s *Schedule) error
	UpdateSchedule(ctx context.Context, s *Schedule) error
	DeleteSchedule(ctx context.Context, group, name string) error
}

// Schedule is a schedule as CreateSchedule and UpdateSchedule take it:
// their request's fields, in their names, for the one-time schedules Set
// makes.
type Schedule struct {
	Name                       string             `json:"-"` // in the path
	GroupName                  string             `json:"GroupName"`
	ScheduleExpression         string             `json:"ScheduleExpression"`
	ScheduleExpressionTimezone string             `json:"ScheduleExpressionTimezone,omitempty"`
	FlexibleTimeWindow         FlexibleTimeWindow `json:"FlexibleTimeWindow"`
	Target                     Target             `json:"Target"`
	ActionAfterCompletion      string             `json:"ActionAfterCompletion,omitempty"`
	Description                string             `json:"Description,omitempty"`
}

// FlexibleTimeWindow is a schedule's window; Mode "OFF" for none.
type FlexibleTimeWindow struct {
	Mode string `json:"Mode"`
}

// Target is what a schedule invokes: here, a queue, sent Input.
type Target struct {
	Arn     string `json:"Arn"`
	RoleArn string `json:"RoleArn"`
	Input   string `json:"Input,omitempty"`
}

// Scheduler keeps one schedule per post in a schedule group.
type Scheduler struct {
	api                       API
	group, roleARN, targetARN string
}

// New returns a scheduler putting schedules in group, which send to the
// queue targetARN with the role roleARN.
func New(api API, group, roleARN, targetARN string) *Scheduler {
	return &Scheduler{api: api, group: group, roleARN: roleARN, targetARN: targetARN}
}

// Name is the schedule name of a post: a hash, since keys may hold
// characters schedule names cannot.
func Name(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "post-" + hex.EncodeToString(sum[:20])
}

// Event is the message a schedule sends for key: an S3 notification as
// the function already understands it, key form-encoded as S3 does.
func Event(key string) string {
	type object struct {
		Key string `json:"key"`
	}
	type s3 struct {
		Object object `json:"object"`
	}
	type record struct {
		EventSource string `json:"eventSource"`
		EventName   string `json:"eventName"`
		S3          s3     `json:"s3"`
	}
	b, _ := json.Marshal(struct {
		Records []record `json:"Records"`
	}{[]record{{EventSource: "aws:s3", EventName: EventName, S3: s3{Object: object{Key: url.QueryEscape(key)}}}}})
	return string(b)
}

// Expression is the one-time schedule expression for t: whole minutes,
// rounded up, so the schedule never fires before the moment it is for.
func Expression(t time.Time) string {
	t = t.UTC()
	if r := t.Truncate(time.Minute); !r.Equal(t) {
		t = r.Add(time.Minute)
	}
	return "at(" + t.Format("2006-01-02T15:04:05") + ")"
}

// Set makes the post at key be looked at again at t.
func (s *Scheduler) Set(ctx context.Context, key string, t time.Time) error {
	expr := Expression(t)
	sc := &Schedule{
		Name: Name(key), GroupName: s.group, ScheduleExpression: expr, ScheduleExpressionTimezone: "UTC",
		FlexibleTimeWindow: FlexibleTimeWindow{Mode: "OFF"},
		Target:             Target{Arn: s.targetARN, RoleArn: s.roleARN, Input: Event(key)},
		// A one-time schedule deletes itself once it has fired.
		ActionAfterCompletion: "DELETE", Description: key,
	}
	err := s.api.UpdateSchedule(ctx, sc)
	if IsNotFound(err) {
		err = s.api.CreateSchedule(ctx, sc)
	}
	if err != nil {
		return fmt.Errorf("schedule %s at %s: %w", key, expr, err)
	}
	return nil
}

// Clear removes the post's schedule, if any.
func (s *Scheduler) Clear(ctx context.Context, key string) error {
	if err := s.api.DeleteSchedule(ctx, s.group, Name(key)); err != nil && !IsNotFound(err) {
		return fmt.Errorf("unschedule %s: %w", key, err)
	}
	return nil
}
