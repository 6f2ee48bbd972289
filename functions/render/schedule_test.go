package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postmill/postmill/internal/awstest"
	"github.com/postmill/postmill/internal/schedule"
)

// TestScheduledPostAppearsOnTime publishes a post due in a few seconds:
// the function creates a one-time schedule for that moment in the
// emulator's EventBridge Scheduler; when it fires (the emulator cannot
// fire schedules, so the test sends the schedule's own target message to
// the queue at the due time) the post is published without any upload.
func TestScheduledPostAppearsOnTime(t *testing.T) {
	ctx := context.Background()
	api := scheduler.NewFromConfig(awstest.Config(t))
	group := fmt.Sprintf("postmill-%x", time.Now().UnixNano())
	if _, err := api.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		api.DeleteScheduleGroup(context.Background(), &scheduler.DeleteScheduleGroupInput{Name: aws.String(group)})
	})
	st := newStack(t, 1, "SCHEDULE_GROUP="+group,
		"SCHEDULER_ROLE_ARN=arn:aws:iam::123456789012:role/postmill-scheduler",
		"SCHEDULE_TARGET_ARN=arn:aws:sqs:us-east-1:123456789012:posts")

	due := time.Now().UTC().Add(4 * time.Second).Truncate(time.Second)
	st.put("posts/timed.md", []byte(fmt.Sprintf("+++\ntitle = \"Right on time\"\ndate = %s\ntags = [\"Timing\"]\n+++\n\nHello.\n", due.Format(time.RFC3339))))
	st.drain()
	if strings.Contains(st.site()["index.xml"].body, "Right on time") {
		t.Fatal("published before its date")
	}
	sc, err := api.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String(schedule.Name("posts/timed.md")), GroupName: aws.String(group)})
	if err != nil {
		t.Fatalf("no schedule for the future post: %v", err)
	}
	if want := schedule.Expression(due); *sc.ScheduleExpression != want {
		t.Errorf("schedule %s, want %s", *sc.ScheduleExpression, want)
	}

	time.Sleep(time.Until(due) + 500*time.Millisecond)
	if _, err := st.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(st.queueURL), MessageBody: sc.Target.Input}); err != nil {
		t.Fatal(err)
	}
	st.drain()
	if !strings.Contains(st.site()["index.xml"].body, "Right on time") {
		t.Fatalf("not published when its schedule fired\n%s", tail(st.logs.String(), 2000))
	}
	st.assertSite()
	if _, err := api.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String(schedule.Name("posts/timed.md")), GroupName: aws.String(group)}); err == nil {
		t.Error("the schedule outlived the change it was for")
	}
}
