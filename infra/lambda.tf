# The pipeline's functions, one instance of each block per entry in
# local.functions (main.tf). Each has its own role (iam.tf), log group and,
# if it consumes the event queue, an event source mapping.

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "function" {
  for_each = local.functions

  function_name    = "${var.name}-${each.key}"
  description      = each.value.description
  role             = aws_iam_role.function[each.key].arn
  runtime          = "provided.al2023"
  architectures    = ["arm64"]
  handler          = "bootstrap"
  filename         = each.value.zip
  source_code_hash = fileexists(each.value.zip) ? filebase64sha256(each.value.zip) : null
  memory_size      = each.value.memory_size
  timeout          = each.value.timeout

  environment {
    variables = local.function_environment
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function[each.key].name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  # Checked on create and update, not on destroy, which needs no zip.
  lifecycle {
    precondition {
      condition     = fileexists(each.value.zip)
      error_message = "The deployment zip ${each.value.zip} does not exist: run `make build`."
    }
  }

  depends_on = [aws_iam_role_policy.function]
}

# One environment for every function; each reads what it needs (only
# render uses the CDN and the scheduler settings).
locals {
  function_environment = {
    SOURCE_BUCKET       = aws_s3_bucket.source.id
    SITE_BUCKET         = aws_s3_bucket.site.id
    DISTRIBUTION_ID     = local.distribution_id
    SCHEDULE_GROUP      = aws_scheduler_schedule_group.posts.name
    SCHEDULER_ROLE_ARN  = aws_iam_role.scheduler.arn
    SCHEDULE_TARGET_ARN = aws_sqs_queue.events.arn
    SITE_BASE_URL       = local.site_base_url
    SITE_TITLE          = var.site_title
    SITE_DESCRIPTION    = var.site_description
    SITE_AUTHOR         = var.site_author
    SITE_AUTHOR_EMAIL   = var.site_author_email
    SITE_COPYRIGHT      = var.site_copyright
    SITE_LANGUAGE       = var.site_language
    PERMALINK           = var.permalink
    FEED_LIMIT          = tostring(var.feed_limit)
    PAGE_SIZE           = tostring(var.page_size)
    TIME_ZONE           = var.time_zone
    FEED_ID_DATE        = var.feed_id_date
    ALLOW_HTML          = tostring(var.allow_html)
    JSON_FEED           = tostring(var.json_feed)
    WEBSUB_HUB_URL      = var.websub_hub_url
    LOG_LEVEL           = var.log_level
  }
}

# Partial batch responses: only the messages the function reports as failed
# return to the queue. In the emulator a mapping would make moto consume the
# queue itself (it cannot run the code); the local event pump stands in.
resource "aws_lambda_event_source_mapping" "function" {
  for_each = { for k, f in local.functions : k => f if f.queue && !var.emulator }

  event_source_arn                   = aws_sqs_queue.events.arn
  function_name                      = aws_lambda_function.function[each.key].arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.max_concurrency
  }
}
