# Scheduled publishing: for a post dated in the future (or about to
# expire) the render function creates a one-time EventBridge Scheduler
# schedule in this group. At that moment the schedule sends an S3-shaped
# event for the post to the event queue, through the scheduler role
# (iam.tf), and the ordinary event path publishes or withdraws the post.
# Schedules delete themselves once they have run.

resource "aws_scheduler_schedule_group" "posts" {
  name = "${var.name}-posts"
}
