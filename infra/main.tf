# Names, and the settings shared by more than one file. The resources live
# in s3.tf, kms.tf, queue.tf, schedule.tf, lambda.tf, iam.tf, cloudfront.tf,
# dns.tf and monitoring.tf.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  bucket_suffix = var.bucket_suffix != "" ? var.bucket_suffix : "${local.account_id}-${var.region}"

  tags = merge({ Project = var.name }, var.tags)

  # The function keeps its own state under this prefix of the source
  # bucket. Author uploads live under posts/, and only posts/ notifies.
  posts_prefix = "posts/"
  state_prefix = "_postmill/"

  # Every Lambda function of the pipeline (functions/<name> in the
  # repository). Adding one means adding an entry here; lambda.tf, iam.tf
  # and monitoring.tf follow. What each may do beyond reading and writing
  # the buckets:
  #   queue:      consumes the S3 event queue (event source mapping, SQS)
  #   invalidate: creates CloudFront invalidations
  #   schedule:   manages the one-time schedules of future posts
  functions = {
    render = {
      description = "Renders the posts named in S3 event notifications and publishes them to the site bucket."
      zip         = var.render_zip != "" ? var.render_zip : "${path.module}/../dist/render.zip"
      memory_size = var.render_memory_size
      timeout     = var.render_timeout
      queue       = true
      invalidate  = true
      schedule    = true
    }
    rebuild = {
      description = "Rebuilds the whole site from the source bucket; invoked by hand (make rebuild AWS=1)."
      zip         = var.rebuild_zip != "" ? var.rebuild_zip : "${path.module}/../dist/rebuild.zip"
      memory_size = var.rebuild_memory_size
      timeout     = var.rebuild_timeout
      queue       = false
      invalidate  = false
      schedule    = false
    }
  }

  # In the emulator the distribution exists (moto keeps its configuration
  # and accepts invalidations) but serves nothing: the local CDN does, at
  # site_base_url, by default the address the function's own default names.
  custom_domain   = var.domain_name != ""
  distribution_id = aws_cloudfront_distribution.site.id
  site_base_url = (
    var.base_url != "" ? var.base_url :
    var.emulator ? "http://127.0.0.1:8080/" :
    local.custom_domain ? "https://${var.domain_name}/" :
    "https://${aws_cloudfront_distribution.site.domain_name}/"
  )
}
