# S3 event notifications for posts/ queue here for the render function.
# Messages that fail max_receive_count times move to the dead-letter queue,
# which raises an alarm (monitoring.tf).

locals {
  events_queue_name = "${var.name}-events"
  # Known before the queue exists, so that its policy can be part of it:
  # a separate aws_sqs_queue_policy would add another wait for SQS's
  # attributes to settle (about 25 s) to every apply.
  events_queue_arn = "arn:${data.aws_partition.current.partition}:sqs:${var.region}:${local.account_id}:${local.events_queue_name}"

  # AWS: at least six times the function timeout plus the batching window,
  # so a message is not handed out again while a retried invocation runs.
  queue_visibility_timeout = 6 * var.render_timeout + var.batching_window_seconds
}

resource "aws_sqs_queue" "events" {
  name                       = local.events_queue_name
  visibility_timeout_seconds = local.queue_visibility_timeout
  message_retention_seconds  = 345600 # 4 days
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true
  policy                     = data.aws_iam_policy_document.events_queue.json

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.events_dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_sqs_queue" "events_dlq" {
  name                      = "${var.name}-events-dlq"
  message_retention_seconds = 1209600 # 14 days, the most SQS keeps
  sqs_managed_sse_enabled   = true
}

# Only the events queue may use the DLQ. moto accepts RedriveAllowPolicy
# but never returns it, and the provider keeps waiting to read it back.
resource "aws_sqs_queue_redrive_allow_policy" "events_dlq" {
  count = var.emulator ? 0 : 1

  queue_url = aws_sqs_queue.events_dlq.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.events.arn]
  })
}

data "aws_iam_policy_document" "events_queue" {
  statement {
    sid       = "AllowSourceBucketNotifications"
    actions   = ["sqs:SendMessage"]
    resources = [local.events_queue_arn]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.source.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}
