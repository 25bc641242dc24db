variable "name" {
  description = "Key alias without the alias/ prefix, e.g. eventlake-staging."
  type        = string
}

variable "description" {
  description = "Shown in the KMS console."
  type        = string
  default     = "eventlake: lake bucket, stream, images, logs, alarms and Athena results"
}

variable "deletion_window_in_days" {
  description = "Days between scheduling the key's deletion and the deletion (7-30). Everything encrypted with it becomes unreadable after."
  type        = number
  default     = 30
}
