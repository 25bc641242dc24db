variable "name" {
  description = "Environment prefix of every resource, e.g. eventlake-staging (letters, digits, hyphens)."
  type        = string
}

variable "bucket_name" {
  description = "Globally unique name of the lake bucket."
  type        = string
}

variable "image_tag" {
  description = "Tag of the eventlake image in this environment's ECR repository (a git SHA)."
  type        = string
}

variable "schedules_dir" {
  description = "The repository's schedules/ folder."
  type        = string
}

variable "task_sizes" {
  description = "Per-job Fargate size overriding the schedule files, e.g. { hourly = { cpu = 2048, memory = 8192 } }."
  type = map(object({
    cpu    = number
    memory = number
  }))
  default = {}
}

variable "extra_environment" {
  description = "More environment variables for every job."
  type        = map(string)
  default     = {}
}

variable "vpc_id" {
  description = "VPC the tasks run in."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets the tasks run in."
  type        = list(string)
}

variable "vpc_endpoints" {
  description = "Create VPC endpoints for every AWS API the tasks call and narrow their egress to them (private subnets without NAT)."
  type        = bool
  default     = false
}

variable "route_table_ids" {
  description = "Route tables of the task subnets, for the S3 gateway endpoint (with vpc_endpoints)."
  type        = list(string)
  default     = []
}

variable "assign_public_ip" {
  description = "true for public subnets without NAT (the default VPC)."
  type        = bool
  default     = false
}

variable "create_ingestion" {
  description = "Create the Kinesis stream and Firehose delivery to bronze; false when bronze is fed otherwise."
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

variable "quarantine_rate_threshold" {
  description = "Alarm when an hour's quarantined share is above this (0-1)."
  type        = number
  default     = 0.05
}

variable "athena_bytes_scanned_cutoff_per_query" {
  description = "Athena cancels queries scanning more bytes than this."
  type        = number
  default     = 107374182400
}

variable "access_log_bucket" {
  description = "Existing bucket for S3 server access logs of the lake bucket; empty disables them."
  type        = string
  default     = ""
}

variable "quarantine_expiration_days" {
  description = "Days quarantined records are kept."
  type        = number
  default     = 180
}

variable "bronze_infrequent_access_days" {
  description = "Age in days at which bronze moves to STANDARD_IA."
  type        = number
  default     = 30
}

variable "bronze_glacier_ir_days" {
  description = "Age in days at which bronze moves to GLACIER_IR."
  type        = number
  default     = 90
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
