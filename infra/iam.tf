# One role per function, with only what the pipeline does:
#   source bucket: read posts/, read and write its own state under _postmill/
#   site bucket:   read (HEAD), write and delete any key: it owns the bucket
#   KMS:           the buckets' key, through S3 only
#   CloudFront:    invalidate this distribution (render only)
#   Scheduler:     manage schedules in the posts group (render only)
#   queue:         receive and delete its messages (render only)
#   logs:          write to its own log group

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each = local.functions

  name               = "${var.name}-${each.key}"
  description        = "Runs the ${var.name} ${each.key} function."
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "function" {
  for_each = local.functions

  statement {
    sid       = "ReadPosts"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.source.arn}/${local.posts_prefix}*"]
  }

  statement {
    sid       = "ReadWriteState"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.source.arn}/${local.state_prefix}*"]
  }

  # Listing is also what makes S3 answer 404, not 403, for a missing key
  # (a first catalog shard, a post deleted while its event was queued).
  statement {
    sid       = "ListPostsAndState"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.source.arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.posts_prefix}*", "${local.state_prefix}*"]
    }
  }

  # The function owns the site bucket: every key in it is its output.
  # GetObject covers HEAD; ListBucket turns a HEAD of a page not yet
  # published into 404 instead of 403.
  statement {
    sid       = "WriteSite"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.site.arn}/*"]
  }

  statement {
    sid       = "ListSite"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.site.arn]
  }

  # Both buckets are encrypted with the pipeline's key; only S3 may use it
  # on the function's behalf.
  statement {
    sid       = "UseBucketKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com"]
    }
  }

  dynamic "statement" {
    for_each = each.value.invalidate ? [aws_cloudfront_distribution.site.arn] : []

    content {
      sid       = "InvalidateCDN"
      actions   = ["cloudfront:CreateInvalidation"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = each.value.schedule ? ["arn:${data.aws_partition.current.partition}:scheduler:${var.region}:${local.account_id}:schedule/${aws_scheduler_schedule_group.posts.name}/*"] : []

    content {
      sid       = "ManageSchedules"
      actions   = ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = each.value.schedule ? [aws_iam_role.scheduler.arn] : []

    content {
      sid       = "PassSchedulerRole"
      actions   = ["iam:PassRole"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["scheduler.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = each.value.queue ? [aws_sqs_queue.events.arn] : []

    content {
      sid = "ConsumeEvents"
      actions = [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
      ]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function[each.key].arn}:*"]
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions

  name   = "${var.name}-${each.key}"
  role   = aws_iam_role.function[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}

# The role schedules run with: it may only put messages on the event queue.

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-scheduler"
  description        = "Lets the ${var.name} post schedules send events to the queue."
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "SendScheduledEvents"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "${var.name}-scheduler"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
