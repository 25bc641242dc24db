variable "name" {
  description = "Name of the stream, the delivery stream and their roles, e.g. eventlake-staging-events."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the lake bucket."
  type        = string
}

variable "bronze_prefix" {
  description = "Key prefix of bronze with trailing slash, e.g. lake/bronze/."
  type        = string
}

variable "error_prefix" {
  description = "Key prefix for Firehose error output with trailing slash, outside the lake root."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key for the stream, the delivered objects and the log group."
  type        = string
}

variable "stream_retention_hours" {
  description = "How long the stream keeps records (24-8760); a Firehose outage longer than this loses data."
  type        = number
  default     = 48
}

variable "buffering_size_mb" {
  description = "Firehose flushes a bronze object at this size (1-128 MiB)..."
  type        = number
  default     = 64
}

variable "buffering_interval_seconds" {
  description = "...or after this long (0-900 s), whichever comes first."
  type        = number
  default     = 300
}

variable "log_retention_days" {
  description = "Retention of the Firehose error log group."
  type        = number
  default     = 365
}

variable "alarm_topic_arns" {
  description = "SNS topics notified by the ingestion alarms (delivery freshness, iterator age, error objects)."
  type        = list(string)
  default     = []
}

variable "freshness_alarm_seconds" {
  description = "Alarm when Firehose's newest delivered record is older than this (buffering interval plus a margin)."
  type        = number
  default     = 900
}

variable "iterator_age_alarm_minutes" {
  description = "Alarm when records wait longer than this in Kinesis before Firehose reads them."
  type        = number
  default     = 15
}
