output "source_bucket" {
  description = "Bucket authors upload posts to, under posts/."
  value       = aws_s3_bucket.source.id
}

output "site_bucket" {
  description = "Bucket holding the rendered site."
  value       = aws_s3_bucket.site.id
}

output "queue_url" {
  description = "URL of the queue of S3 events for posts/."
  value       = aws_sqs_queue.events.id
}

output "dlq_url" {
  description = "URL of the dead-letter queue of events the function kept failing on."
  value       = aws_sqs_queue.events_dlq.id
}

output "distribution_id" {
  description = "ID of the CloudFront distribution (the functions' DISTRIBUTION_ID)."
  value       = local.distribution_id
}

output "distribution_domain" {
  description = "Domain name of the CloudFront distribution (*.cloudfront.net); it serves nothing in emulator mode."
  value       = aws_cloudfront_distribution.site.domain_name
}

output "site_url" {
  description = "URL the site is served at (the functions' SITE_BASE_URL)."
  value       = local.site_base_url
}

output "function_names" {
  description = "Lambda function names by role, e.g. { render = \"postmill-render\" }."
  value       = { for k, f in aws_lambda_function.function : k => f.function_name }
}

output "function_environment" {
  description = "Environment the functions run with; the local stack starts the host binary with the same."
  value       = local.function_environment
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify; subscribe more endpoints to it."
  value       = aws_sns_topic.alarms.arn
}

output "kms_key_arn" {
  description = "Key encrypting both buckets: whoever uploads posts needs kms:GenerateDataKey on it (and kms:Decrypt to read them back)."
  value       = aws_kms_key.main.arn
}
