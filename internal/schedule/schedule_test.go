package schedule

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"

	"github.com/postmill/postmill/internal/awstest"
	"github.com/postmill/postmill/internal/s3event"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestEventDecodesToTheKey(t *testing.T) {
	for _, key := range []string{"posts/a.md", "posts/with space+plus.md", "posts/über/日本.md"} {
		recs, err := s3event.Parse(Event(key))
		if err != nil || len(recs) != 1 || recs[0].Key != key || recs[0].EventName != EventName {
			t.Errorf("Event(%q) decodes to %+v, %v", key, recs, err)
		}
	}
}

func TestExpression(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2031, 3, 20, 8, 0, 0, 0, time.UTC), "at(2031-03-20T08:00:00)"},
		{time.Date(2031, 3, 20, 8, 0, 1, 0, time.UTC), "at(2031-03-20T08:01:00)"},
		{time.Date(2031, 3, 20, 9, 0, 0, 0, time.FixedZone("CET", 3600)), "at(2031-03-20T08:00:00)"},
	} {
		if got := Expression(tc.at); got != tc.want {
			t.Errorf("Expression(%v) = %s, want %s", tc.at, got, tc.want)
		}
	}
}

// TestAgainstEmulator creates, moves and removes a schedule in the
// emulator's EventBridge Scheduler.
func TestAgainstEmulator(t *testing.T) {
	cfg := awstest.Config(t)
	api := scheduler.NewFromConfig(cfg) // to set up and to check, independently of Client
	ctx := context.Background()
	group := "postmill-test"
	if _, err := api.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		api.DeleteScheduleGroup(context.Background(), &scheduler.DeleteScheduleGroupInput{Name: aws.String(group)})
	})
	client, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := New(client, group, "arn:aws:iam::123456789012:role/scheduler", "arn:aws:sqs:us-east-1:123456789012:posts")
	key := "posts/future post.md"
	get := func() *scheduler.GetScheduleOutput {
		out, err := api.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String(Name(key)), GroupName: aws.String(group)})
		if err != nil {
			return nil
		}
		return out
	}
	if err := s.Set(ctx, key, time.Date(2031, 3, 20, 8, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if out := get(); out == nil || *out.ScheduleExpression != "at(2031-03-20T08:00:00)" || *out.Target.Input != Event(key) ||
		aws.ToString(out.ScheduleExpressionTimezone) != "UTC" || out.FlexibleTimeWindow.Mode != "OFF" ||
		out.ActionAfterCompletion != "DELETE" || aws.ToString(out.Description) != key ||
		aws.ToString(out.Target.Arn) != "arn:aws:sqs:us-east-1:123456789012:posts" ||
		aws.ToString(out.Target.RoleArn) != "arn:aws:iam::123456789012:role/scheduler" {
		t.Fatalf("created schedule %+v", out)
	}
	if err := s.Set(ctx, key, time.Date(2031, 4, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if out := get(); out == nil || *out.ScheduleExpression != "at(2031-04-01T00:00:00)" {
		t.Fatalf("updated schedule %+v", out)
	}
	if err := s.Clear(ctx, key); err != nil {
		t.Fatal(err)
	}
	if get() != nil {
		t.Fatal("schedule still there after Clear")
	}
	if err := s.Clear(ctx, key); err != nil {
		t.Errorf("clearing a missing schedule: %v", err)
	}
}
