# With aws_endpoint_url set, every service this configuration uses is sent
# to that one endpoint (an emulator such as moto) and the provider skips
# the calls only real AWS answers. Both providers share these settings.
locals {
  use_endpoint = var.aws_endpoint_url != ""
}

provider "aws" {
  region = var.region

  s3_use_path_style           = local.use_endpoint
  skip_credentials_validation = local.use_endpoint
  skip_requesting_account_id  = local.use_endpoint
  skip_metadata_api_check     = local.use_endpoint

  dynamic "endpoints" {
    for_each = local.use_endpoint ? [var.aws_endpoint_url] : []

    content {
      acm            = endpoints.value
      cloudfront     = endpoints.value
      cloudwatch     = endpoints.value
      cloudwatchlogs = endpoints.value
      iam            = endpoints.value
      kms            = endpoints.value
      lambda         = endpoints.value
      route53        = endpoints.value
      s3             = endpoints.value
      scheduler      = endpoints.value
      sns            = endpoints.value
      sqs            = endpoints.value
      sts            = endpoints.value
    }
  }

  default_tags {
    tags = local.tags
  }
}

# CloudFront only accepts certificates from ACM in us-east-1.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  s3_use_path_style           = local.use_endpoint
  skip_credentials_validation = local.use_endpoint
  skip_requesting_account_id  = local.use_endpoint
  skip_metadata_api_check     = local.use_endpoint

  dynamic "endpoints" {
    for_each = local.use_endpoint ? [var.aws_endpoint_url] : []

    content {
      acm            = endpoints.value
      cloudfront     = endpoints.value
      cloudwatch     = endpoints.value
      cloudwatchlogs = endpoints.value
      iam            = endpoints.value
      kms            = endpoints.value
      lambda         = endpoints.value
      route53        = endpoints.value
      s3             = endpoints.value
      scheduler      = endpoints.value
      sns            = endpoints.value
      sqs            = endpoints.value
      sts            = endpoints.value
    }
  }

  default_tags {
    tags = local.tags
  }
}
