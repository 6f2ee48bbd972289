// Package schedule makes posts appear and disappear on time. When a post's
// publish date lies ahead, or its expiry date will pass, the engine asks
// for a one-time EventBridge Scheduler schedule at that moment; the
// schedule sends the post's key to the function's own queue, shaped like
// an S3 notification, so the ordinary event path reconciles the post.
// No rebuild, no polling.
//
// It only manages schedules; deciding when a post changes is package
// post's job.
package schedule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"
)

// EventName is the eventName of the notifications schedules send; the
// handler treats such events as a reason to look again carefully.
const EventName = "postmill:Scheduled"

// API is the part of the EventBridge Scheduler client used here.
type API interface {
	CreateSchedule(ctx context.Context, in *scheduler.CreateScheduleInput, opts ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error)
	UpdateSchedule(ctx context.Context, in *scheduler.UpdateScheduleInput, opts ...func(*scheduler.Options)) (*scheduler.UpdateScheduleOutput, error)
	DeleteSchedule(ctx context.Context, in *scheduler.DeleteScheduleInput, opts ...func(*scheduler.Options)) (*scheduler.DeleteScheduleOutput, error)
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
	target := &types.Target{Arn: aws.String(s.targetARN), RoleArn: aws.String(s.roleARN), Input: aws.String(Event(key))}
	window := &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff}
	expr := Expression(t)
	_, err := s.api.UpdateSchedule(ctx, &scheduler.UpdateScheduleInput{
		Name: aws.String(Name(key)), GroupName: aws.String(s.group), ScheduleExpression: aws.String(expr),
		ScheduleExpressionTimezone: aws.String("UTC"), FlexibleTimeWindow: window, Target: target,
		ActionAfterCompletion: types.ActionAfterCompletionDelete, Description: aws.String(key),
	})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		_, err = s.api.CreateSchedule(ctx, &scheduler.CreateScheduleInput{
			Name: aws.String(Name(key)), GroupName: aws.String(s.group), ScheduleExpression: aws.String(expr),
			ScheduleExpressionTimezone: aws.String("UTC"), FlexibleTimeWindow: window, Target: target,
			ActionAfterCompletion: types.ActionAfterCompletionDelete, Description: aws.String(key),
		})
	}
	if err != nil {
		return fmt.Errorf("schedule %s at %s: %w", key, expr, err)
	}
	return nil
}

// Clear removes the post's schedule, if any.
func (s *Scheduler) Clear(ctx context.Context, key string) error {
	_, err := s.api.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{Name: aws.String(Name(key)), GroupName: aws.String(s.group)})
	var nf *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("unschedule %s: %w", key, err)
	}
	return nil
}
