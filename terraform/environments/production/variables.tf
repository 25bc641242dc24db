variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "bucket_name" {
  description = "Globally unique name of the lake bucket."
  type        = string
}

variable "image_tag" {
  description = "Tag of the eventlake image pushed to this environment's ECR repository (a git SHA). Bootstrap: see terraform/README.md."
  type        = string
}

variable "vpc_id" {
  description = "VPC the tasks run in."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets the tasks run in."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "true for public subnets without NAT (the default VPC)."
  type        = bool
  default     = false
}

variable "create_ingestion" {
  description = "Create the Kinesis stream and Firehose delivery to bronze."
  type        = bool
  default     = true
}

variable "schedules_enabled" {
  description = "false creates the schedules disabled."
  type        = bool
  default     = true
}

variable "run_setup_on_apply" {
  description = "Run eventlake setup --execute on apply when the image changes (needs the AWS CLI)."
  type        = bool
  default     = true
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic."
  type        = list(string)
  default     = []
}

variable "access_log_bucket" {
  description = "Existing bucket for S3 server access logs; empty disables them."
  type        = string
  default     = ""
}

variable "export" {
  description = <<-EOT
    The export schedule (schedules/export.json): `to` is the database URL without its password
    (postgresql://user@host:5432/db or mysql://user@host:3306/db), `tables` the lake tables it loads
    each day, `password_secret_arn` the Secrets Manager secret holding the password (given to the task
    as EVENTLAKE_EXPORT_PASSWORD, never in the environment or the state), and `port` and `cidr_blocks`
    where the tasks may connect. Null (the default) leaves the export schedule out.
  EOT
  type = object({
    to                  = string
    tables              = list(string)
    password_secret_arn = string
    port                = number
    cidr_blocks         = list(string)
  })
  default = null
}
