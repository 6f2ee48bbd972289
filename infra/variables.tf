# ---- naming and placement -------------------------------------------------

variable "name" {
  description = "Name prefix for every resource (buckets, queue, functions, alarms). Lower case letters, digits and hyphens."
  type        = string
  default     = "postmill"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.name))
    error_message = "The name must be 2 to 20 characters: lower case letters, digits and hyphens, starting with a letter."
  }
}

variable "region" {
  description = "AWS region for the buckets, queue and functions. CloudFront and its certificate are global (us-east-1) whatever this is."
  type        = string
  default     = "us-east-1"
}

variable "bucket_suffix" {
  description = "Suffix that makes the bucket names globally unique (<name>-source-<suffix>, <name>-site-<suffix>). Empty means <account id>-<region>."
  type        = string
  default     = ""

  validation {
    condition     = var.bucket_suffix == "" || can(regex("^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$", var.bucket_suffix))
    error_message = "The bucket suffix must be 2 to 32 characters of lower case letters, digits and hyphens, not starting or ending with a hyphen."
  }
}

variable "tags" {
  description = "Tags added to every resource, on top of Project = <name>."
  type        = map(string)
  default     = {}
}

# ---- emulator -------------------------------------------------------------

variable "emulator" {
  description = "Apply to an AWS emulator (moto) instead of AWS: leaves out what the emulator cannot run (see README.md, \"Emulator mode\"). Needs aws_endpoint_url. Never set it for a real account."
  type        = bool
  default     = false
}

variable "aws_endpoint_url" {
  description = "Send every AWS API call to this endpoint (e.g. http://127.0.0.1:5000 for moto), with path-style S3 and no credential checks. Empty means real AWS."
  type        = string
  default     = ""

  validation {
    condition     = var.aws_endpoint_url == "" || can(regex("^https?://", var.aws_endpoint_url))
    error_message = "The endpoint must be an http(s) URL, or empty for real AWS."
  }
}

# ---- function -------------------------------------------------------------

variable "render_zip" {
  description = "Path of the render function's deployment zip (linux/arm64 bootstrap). Empty means dist/render.zip in the repository, built by `make build`."
  type        = string
  default     = ""
}

variable "render_memory_size" {
  description = "Memory of the render function in MB (CPU grows with it)."
  type        = number
  default     = 256

  validation {
    condition     = var.render_memory_size >= 128 && var.render_memory_size <= 10240
    error_message = "Lambda memory must be between 128 and 10240 MB."
  }
}

variable "render_timeout" {
  description = "Timeout of the render function in seconds. The queue's visibility timeout is derived from it (6x plus the batching window)."
  type        = number
  default     = 60

  validation {
    condition     = var.render_timeout >= 1 && var.render_timeout <= 900
    error_message = "Lambda timeout must be between 1 and 900 seconds."
  }
}

variable "rebuild_zip" {
  description = "Path of the rebuild function's deployment zip (linux/arm64 bootstrap). Empty means dist/rebuild.zip in the repository, built by `make build`."
  type        = string
  default     = ""
}

variable "rebuild_memory_size" {
  description = "Memory of the rebuild function in MB."
  type        = number
  default     = 512

  validation {
    condition     = var.rebuild_memory_size >= 128 && var.rebuild_memory_size <= 10240
    error_message = "Lambda memory must be between 128 and 10240 MB."
  }
}

variable "rebuild_timeout" {
  description = "Timeout of the rebuild function in seconds; a rebuild renders every post."
  type        = number
  default     = 900

  validation {
    condition     = var.rebuild_timeout >= 1 && var.rebuild_timeout <= 900
    error_message = "Lambda timeout must be between 1 and 900 seconds."
  }
}

variable "log_level" {
  description = "Lowest level the functions log (LOG_LEVEL, and the Lambda application log level filter)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR"], var.log_level)
    error_message = "The log level must be one of DEBUG, INFO, WARN, ERROR."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the functions' logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The retention must be one CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 days."
  }
}

# ---- queue ----------------------------------------------------------------

variable "batch_size" {
  description = "Most S3 event messages the render function receives in one invocation. Above 10, SQS needs a batching window above 0."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 100
    error_message = "The batch size must be between 1 and 100."
  }
}

variable "batching_window_seconds" {
  description = "Seconds the event source mapping waits to fill a batch, so a burst of uploads becomes one invocation (and one CDN invalidation)."
  type        = number
  default     = 5

  validation {
    condition     = var.batching_window_seconds >= 0 && var.batching_window_seconds <= 300
    error_message = "The batching window must be between 0 and 300 seconds."
  }
}

variable "max_concurrency" {
  description = "Most concurrent render invocations the queue drives (event source mapping scaling_config; Lambda's minimum is 2). Every publish updates the site listing, so more invocations mostly wait on each other; above 4, raise max_receive_count too (at 8 the soak test saw about 1% of messages fail five times on conflicting writes)."
  type        = number
  default     = 2

  validation {
    condition     = var.max_concurrency >= 2 && var.max_concurrency <= 1000
    error_message = "The maximum concurrency must be between 2 and 1000."
  }
}

variable "max_receive_count" {
  description = "Receives of a message before SQS moves it to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "The maximum receive count must be between 1 and 1000."
  }
}

# ---- storage --------------------------------------------------------------

variable "noncurrent_version_days" {
  description = "Days the source bucket keeps overwritten or deleted versions of posts before they expire."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_days >= 1
    error_message = "Noncurrent versions must be kept at least 1 day."
  }
}

# ---- site settings (the function's environment) ---------------------------

variable "base_url" {
  description = "Absolute URL the site is served at (SITE_BASE_URL). Empty means https://<domain_name>/, or the CloudFront domain without one; in emulator mode http://127.0.0.1:8080/, the local CDN."
  type        = string
  default     = ""

  validation {
    condition     = var.base_url == "" || can(regex("^https?://[^/?#]+(/[^?#]*)?$", var.base_url))
    error_message = "The base URL must be an absolute http(s) URL without query or fragment, e.g. https://blog.example/."
  }
}

variable "site_title" {
  description = "Site title (SITE_TITLE)."
  type        = string
  default     = "A postmill blog"
}

variable "site_description" {
  description = "Site description for feeds and the home page (SITE_DESCRIPTION)."
  type        = string
  default     = ""
}

variable "site_author" {
  description = "Default author of posts and feeds (SITE_AUTHOR)."
  type        = string
  default     = ""
}

variable "site_author_email" {
  description = "Author e-mail address in feeds (SITE_AUTHOR_EMAIL)."
  type        = string
  default     = ""
}

variable "site_copyright" {
  description = "Copyright line in feeds and pages (SITE_COPYRIGHT)."
  type        = string
  default     = ""
}

variable "site_language" {
  description = "Language tag of the site, e.g. en or de-CH (SITE_LANGUAGE)."
  type        = string
  default     = "en"
}

variable "permalink" {
  description = "Permalink pattern of posts, Hugo style (PERMALINK). Changing it moves every post."
  type        = string
  default     = "/:year/:month/:day/:slug/"
}

variable "feed_limit" {
  description = "Entries per feed (FEED_LIMIT)."
  type        = number
  default     = 20

  validation {
    condition     = var.feed_limit >= 1 && var.feed_limit <= 200
    error_message = "The feed limit must be between 1 and 200."
  }
}

variable "page_size" {
  description = "Posts per home or tag page (PAGE_SIZE)."
  type        = number
  default     = 10

  validation {
    condition     = var.page_size >= 1 && var.page_size <= 100
    error_message = "The page size must be between 1 and 100."
  }
}

variable "time_zone" {
  description = "IANA time zone for dates without an offset and for archive months (TIME_ZONE)."
  type        = string
  default     = "UTC"
}

variable "feed_id_date" {
  description = "Date in the feed entry ids, tag:<host>,<date>:... (FEED_ID_DATE). Set it once and never change it, or readers see every post as new."
  type        = string
  default     = "2026-01-01"

  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", var.feed_id_date))
    error_message = "The feed id date must look like 2026-01-01."
  }
}

variable "allow_html" {
  description = "Allow (sanitized) raw HTML in Markdown posts (ALLOW_HTML)."
  type        = bool
  default     = false
}

variable "json_feed" {
  description = "Publish a JSON Feed 1.1 beside every Atom feed (JSON_FEED). Costs one more S3 write per listing a publish touches."
  type        = bool
  default     = false
}

variable "websub_hub_url" {
  description = "WebSub hub announced in the feeds (WEBSUB_HUB_URL). Empty means none."
  type        = string
  default     = ""

  validation {
    condition     = var.websub_hub_url == "" || can(regex("^https?://", var.websub_hub_url))
    error_message = "The WebSub hub must be an absolute http(s) URL, or empty."
  }
}

# ---- CDN and domain -------------------------------------------------------

variable "price_class" {
  description = "CloudFront price class: which edge locations serve the site."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "The price class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "domain_name" {
  description = "Custom domain of the site, e.g. blog.example.com. Empty serves the site at the CloudFront domain. Needs route53_zone_id."
  type        = string
  default     = ""
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone that holds domain_name: the certificate's DNS validation and the A/AAAA alias records go there."
  type        = string
  default     = ""
}

variable "web_acl_id" {
  description = "ARN of a WAFv2 web ACL (scope CLOUDFRONT, in us-east-1) to attach to the distribution. Empty means none."
  type        = string
  default     = ""
}

# ---- monitoring -----------------------------------------------------------

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (confirm the subscription mail). Empty means no subscription."
  type        = string
  default     = ""
}
