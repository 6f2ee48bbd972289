# One customer managed key (with yearly rotation) encrypts both buckets and
# the alarm topic. Who may use it is decided here and in iam.tf:
#   - IAM principals of the account, as their own policies allow (the
#     function's role; authors uploading posts need kms:GenerateDataKey);
#   - CloudFront, only for this distribution, to read the site bucket;
#   - CloudWatch, to publish alarms to the encrypted topic (it cannot use
#     the AWS managed SNS key, whose policy cannot be changed).
# S3 Bucket Keys keep the number of KMS requests, and their cost, low.

resource "aws_kms_key" "main" {
  description             = "Encrypts the ${var.name} buckets and alarm topic."
  enable_key_rotation     = true
  deletion_window_in_days = 7
}

resource "aws_kms_alias" "main" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.main.key_id
}

data "aws_iam_policy_document" "kms" {
  statement {
    sid       = "AccountAdministersAndDelegatesToIAM"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudFrontReadsSite"
    actions   = ["kms:Decrypt"]
    resources = ["*"]

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

  statement {
    sid       = "CloudWatchPublishesAlarms"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# A separate policy resource: the key must exist before the buckets and the
# distribution, and its policy names the distribution.
resource "aws_kms_key_policy" "main" {
  key_id = aws_kms_key.main.id
  policy = data.aws_iam_policy_document.kms.json
}
