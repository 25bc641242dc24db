variable "bucket_name" {
  description = "Globally unique bucket name, e.g. acme-eventlake-staging."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key for SSE-KMS (default encryption of every object)."
  type        = string
}

variable "lake_prefix" {
  description = "Folder of the lake root inside the bucket; the jobs get EVENTLAKE_LAKE=s3://<bucket>/<lake_prefix>."
  type        = string
  default     = "lake"
}

variable "athena_results_prefix" {
  description = "Folder for Athena query results (no trailing slash)."
  type        = string
  default     = "athena-results"
}

variable "firehose_errors_prefix" {
  description = "Folder for Firehose error output, outside the lake root so the jobs never read it."
  type        = string
  default     = "firehose-errors"
}

variable "access_log_bucket" {
  description = "Existing bucket receiving S3 server access logs; empty disables them."
  type        = string
  default     = ""
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which unfinished multipart uploads are aborted (their parts cost storage)."
  type        = number
  default     = 2
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted object version is kept (the window to undo a bad rerun)."
  type        = number
  default     = 30
}

variable "quarantine_expiration_days" {
  description = "Days quarantined records (and Firehose error output) are kept."
  type        = number
  default     = 180
}

variable "bronze_infrequent_access_days" {
  description = "Age in days at which bronze moves to STANDARD_IA (at least 30)."
  type        = number
  default     = 30
}

variable "bronze_glacier_ir_days" {
  description = "Age in days at which bronze moves to GLACIER_IR (instant retrieval, so backfills still work)."
  type        = number
  default     = 90
}

variable "athena_results_expiration_days" {
  description = "Days Athena query results are kept."
  type        = number
  default     = 30
}
