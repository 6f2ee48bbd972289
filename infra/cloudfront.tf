# The CDN in front of the site bucket. S3 is reached only through Origin
# Access Control; a viewer-request function maps folder URLs to their
# index.html; HTML and feeds are cached briefly (the function invalidates
# what it changes), stylesheets and assets for long.

locals {
  site_origin_id = "site"

  # Paths with a content hash or that rarely change. Patterns are
  # case-sensitive and count against CloudFront's 25 behaviours.
  asset_path_patterns = [
    "/css/*",
    "*.png", "*.jpg", "*.jpeg", "*.gif", "*.webp", "*.avif", "*.svg", "*.ico",
    "*.woff2", "*.pdf",
  ]

  security_headers = jsondecode(file("${path.module}/cloudfront/security-headers.json"))

  # moto has no CloudFront Functions, cache policies or response headers
  # policies. Its distribution names two of AWS's managed cache policies
  # instead (CachingDisabled, CachingOptimized; moto does not check them).
  pages_cache_policy_id      = var.emulator ? "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" : aws_cloudfront_cache_policy.pages[0].id
  assets_cache_policy_id     = var.emulator ? "658327ea-f89d-4fab-a63d-7e88639e58f6" : aws_cloudfront_cache_policy.assets[0].id
  response_headers_policy_id = one(aws_cloudfront_response_headers_policy.security[*].id)
}

resource "aws_cloudfront_origin_access_control" "site" {
  name                              = "${var.name}-site"
  description                       = "CloudFront reads the ${var.name} site bucket."
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_function" "rewrite" {
  count = var.emulator ? 0 : 1

  name    = "${var.name}-rewrite"
  comment = "Maps /path/ and /path to /path/index.html"
  runtime = "cloudfront-js-2.0"
  code    = file("${path.module}/cloudfront/rewrite.js")
  publish = true
}

# HTML and feeds: the origin's Cache-Control decides (the function sets a
# short max-age); default_ttl only covers objects without one.
resource "aws_cloudfront_cache_policy" "pages" {
  count = var.emulator ? 0 : 1

  name        = "${var.name}-pages"
  comment     = "Pages and feeds: short TTL, origin Cache-Control honoured"
  min_ttl     = 0
  default_ttl = 300
  max_ttl     = 86400

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_brotli = true
    enable_accept_encoding_gzip   = true

    cookies_config {
      cookie_behavior = "none"
    }

    headers_config {
      header_behavior = "none"
    }

    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

resource "aws_cloudfront_cache_policy" "assets" {
  count = var.emulator ? 0 : 1

  name        = "${var.name}-assets"
  comment     = "Stylesheets and assets: long TTL"
  min_ttl     = 0
  default_ttl = 86400
  max_ttl     = 31536000

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_brotli = true
    enable_accept_encoding_gzip   = true

    cookies_config {
      cookie_behavior = "none"
    }

    headers_config {
      header_behavior = "none"
    }

    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

resource "aws_cloudfront_response_headers_policy" "security" {
  count = var.emulator ? 0 : 1

  name    = "${var.name}-security"
  comment = "Security headers from cloudfront/security-headers.json"

  security_headers_config {
    content_security_policy {
      content_security_policy = local.security_headers.content_security_policy
      override                = true
    }

    strict_transport_security {
      access_control_max_age_sec = local.security_headers.strict_transport_security.max_age
      include_subdomains         = local.security_headers.strict_transport_security.include_subdomains
      preload                    = local.security_headers.strict_transport_security.preload
      override                   = true
    }

    # X-Content-Type-Options: nosniff, when the file asks for it.
    dynamic "content_type_options" {
      for_each = local.security_headers.content_type_options ? [true] : []

      content {
        override = true
      }
    }

    frame_options {
      frame_option = local.security_headers.frame_options
      override     = true
    }

    referrer_policy {
      referrer_policy = local.security_headers.referrer_policy
      override        = true
    }
  }

  custom_headers_config {
    dynamic "items" {
      for_each = local.security_headers.custom

      content {
        header   = items.key
        value    = items.value
        override = true
      }
    }
  }
}

# A WAF web ACL costs about $6 a month before any request, and the site is
# static files behind GET and HEAD only: attach one with web_acl_id if the
# site needs rate limiting or bot control.
#tfsec:ignore:aws-cloudfront-enable-waf
resource "aws_cloudfront_distribution" "site" {
  enabled             = !var.emulator
  comment             = "${var.name} site"
  default_root_object = "index.html"
  http_version        = "http2and3"
  is_ipv6_enabled     = true
  price_class         = var.price_class
  aliases             = local.custom_domain ? [var.domain_name] : []
  web_acl_id          = var.web_acl_id != "" ? var.web_acl_id : null

  # In the emulator the distribution serves nothing (the local CDN does)
  # and goes away with moto, so it is created disabled and not waited for:
  # waiting for it to deploy, and to be disabled before deletion, would add
  # over a minute to every apply and destroy.
  wait_for_deployment = !var.emulator
  retain_on_delete    = var.emulator

  origin {
    origin_id                = local.site_origin_id
    domain_name              = aws_s3_bucket.site.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.site.id
  }

  default_cache_behavior {
    target_origin_id           = local.site_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.pages_cache_policy_id
    response_headers_policy_id = local.response_headers_policy_id

    dynamic "function_association" {
      for_each = aws_cloudfront_function.rewrite

      content {
        event_type   = "viewer-request"
        function_arn = function_association.value.arn
      }
    }
  }

  # Every asset pattern names a file, so none needs the rewrite function.
  dynamic "ordered_cache_behavior" {
    for_each = local.asset_path_patterns

    content {
      path_pattern               = ordered_cache_behavior.value
      target_origin_id           = local.site_origin_id
      viewer_protocol_policy     = "redirect-to-https"
      allowed_methods            = ["GET", "HEAD"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      cache_policy_id            = local.assets_cache_policy_id
      response_headers_policy_id = local.response_headers_policy_id
    }
  }

  # S3 answers 404 for a missing key (the bucket policy allows ListBucket);
  # 403 is mapped too, in case it ever answers that.
  dynamic "custom_error_response" {
    for_each = [403, 404]

    content {
      error_code            = custom_error_response.value
      response_code         = 404
      response_page_path    = "/404.html"
      error_caching_min_ttl = 60
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = !local.custom_domain
    acm_certificate_arn            = local.custom_domain ? aws_acm_certificate_validation.site[0].certificate_arn : null
    ssl_support_method             = local.custom_domain ? "sni-only" : null
    minimum_protocol_version       = local.custom_domain ? "TLSv1.2_2021" : null
  }
}
