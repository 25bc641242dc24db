variable "name" {
  description = "Topic name and alarm name prefix, e.g. eventlake-staging."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key for the topic (its key policy must allow cloudwatch and events; the kms module's does)."
  type        = string
}

variable "alarm_emails" {
  description = "Addresses subscribed to the topic; each must confirm the subscription email."
  type        = list(string)
  default     = []
}

variable "cluster_arn" {
  description = "ECS cluster whose stopped tasks are watched."
  type        = string
}

variable "log_group_name" {
  description = "Log group of the jobs, named in the notifications."
  type        = string
}

variable "dlq_name" {
  description = "Dead-letter queue of the schedules."
  type        = string
}

variable "metric_namespace" {
  description = "CloudWatch namespace of the jobs' EMF metrics."
  type        = string
  default     = "eventlake"
}

variable "stale_after_hours" {
  description = "Alarm when no hourly run succeeded for this many consecutive hours."
  type        = number
  default     = 2
}

variable "quarantine_rate_threshold" {
  description = "Alarm when an hour's quarantined share of records is above this (0-1)."
  type        = number
  default     = 0.05
}

variable "late_bronze_hours_per_day" {
  description = "Alarm when more hours than this are reprocessed in a day because their bronze landed after they committed."
  type        = number
  default     = 3
}
