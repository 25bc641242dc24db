variable "workgroup_name" {
  description = "Athena workgroup, e.g. eventlake-staging."
  type        = string
}

variable "database_name" {
  description = "Glue database; lower case letters, digits and underscores only (Athena), e.g. eventlake_staging."
  type        = string
}

variable "lake_uri" {
  description = "s3://<bucket>/<lake_prefix>, the database's default location."
  type        = string
}

variable "results_bucket" {
  description = "Bucket for query results (the lake bucket, or a separate one)."
  type        = string
}

variable "results_prefix" {
  description = "Folder for query results inside results_bucket (no trailing slash)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key encrypting query results."
  type        = string
}

variable "bytes_scanned_cutoff_per_query" {
  description = "Athena cancels a query that scans more than this (bytes, at least 10 MB); a guard against runaway cost."
  type        = number
  default     = 107374182400
}
