# Two buckets, both private and reached only through AWS APIs:
#   source: authors upload Markdown and images under posts/; the function
#           keeps its catalog, path claims and status objects under _postmill/.
#   site:   the rendered site, written only by the function and read only by
#           CloudFront through Origin Access Control.

# ---- source ---------------------------------------------------------------

resource "aws_s3_bucket" "source" {
  bucket = "${var.name}-source-${local.bucket_suffix}"

  lifecycle {
    precondition {
      condition     = !var.emulator || var.aws_endpoint_url != ""
      error_message = "emulator = true leaves out protections a real account needs; it is only for an emulator at aws_endpoint_url."
    }
  }
}

resource "aws_s3_bucket_ownership_controls" "source" {
  bucket = aws_s3_bucket.source.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "source" {
  bucket = aws_s3_bucket.source.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "source" {
  bucket = aws_s3_bucket.source.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

# Versions let an author get back an overwritten or deleted post. moto sends
# no event for a delete on a versioned bucket, so the emulator's bucket is
# unversioned: deletes must reach the site there too.
resource "aws_s3_bucket_versioning" "source" {
  count = var.emulator ? 0 : 1

  bucket = aws_s3_bucket.source.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "source" {
  bucket = aws_s3_bucket.source.id

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    # The whole bucket. prefix = "" rather than an empty block: moto returns
    # an empty prefix either way, and the provider waits until they match.
    filter {
      prefix = ""
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"

    # The whole bucket. prefix = "" rather than an empty block: moto returns
    # an empty prefix either way, and the provider waits until they match.
    filter {
      prefix = ""
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.source]
}

# TLS only. moto serves plain HTTP and enforces this deny, so the emulator's
# buckets go without it.
data "aws_iam_policy_document" "source_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.source.arn, "${aws_s3_bucket.source.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "source" {
  count = var.emulator ? 0 : 1

  bucket = aws_s3_bucket.source.id
  policy = data.aws_iam_policy_document.source_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.source]
}

# Only posts/ notifies: the function's own writes under _postmill/ must not
# trigger it again.
resource "aws_s3_bucket_notification" "source" {
  bucket = aws_s3_bucket.source.id

  queue {
    id            = "posts"
    queue_arn     = aws_sqs_queue.events.arn
    events        = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
    filter_prefix = local.posts_prefix
  }

  # The queue's policy, part of the queue, must admit the bucket first.
  depends_on = [aws_sqs_queue.events]
}

# ---- site -----------------------------------------------------------------

# Everything in it is derived from the source bucket (make rebuild), so
# destroy may empty it. The source bucket is never emptied by Terraform.
resource "aws_s3_bucket" "site" {
  bucket        = "${var.name}-site-${local.bucket_suffix}"
  force_destroy = true
}

resource "aws_s3_bucket_ownership_controls" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "site" {
  bucket = aws_s3_bucket.site.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"

    # The whole bucket. prefix = "" rather than an empty block: moto returns
    # an empty prefix either way, and the provider waits until they match.
    filter {
      prefix = ""
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "site_bucket" {
  # TLS only, as for the source bucket (and left out in the emulator).
  dynamic "statement" {
    for_each = var.emulator ? [] : ["DenyInsecureTransport"]

    content {
      sid       = statement.value
      effect    = "Deny"
      actions   = ["s3:*"]
      resources = [aws_s3_bucket.site.arn, "${aws_s3_bucket.site.arn}/*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "Bool"
        variable = "aws:SecureTransport"
        values   = ["false"]
      }
    }
  }

  # CloudFront, and only this distribution, reads the site. ListBucket
  # makes S3 answer 404 rather than 403 for a missing page, so that the
  # 404 page is served with the right status. No listing is reachable
  # through the CDN: the viewer-request function rewrites "/" to
  # /index.html and the cache policies forward no query string.
  statement {
    sid       = "AllowCloudFrontRead"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [aws_s3_bucket.site.arn, "${aws_s3_bucket.site.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.site.arn]
    }
  }
}

resource "aws_s3_bucket_policy" "site" {
  bucket = aws_s3_bucket.site.id
  policy = data.aws_iam_policy_document.site_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.site]
}
