variable "name" {
  description = "Prefix of every resource, e.g. eventlake-staging (cluster, families <name>-<job>, schedule group)."
  type        = string
}

variable "image" {
  description = "Full image reference, <repository_url>:<tag>. Use immutable tags (a git SHA)."
  type        = string
}

variable "schedules_dir" {
  description = "Folder of <job>.json schedule files (the repository's schedules/)."
  type        = string
}

variable "task_sizes" {
  description = "Per-job Fargate size overriding the schedule file, e.g. { hourly = { cpu = 2048, memory = 8192 } }."
  type = map(object({
    cpu    = number
    memory = number
  }))
  default = {}
}

variable "setup_command" {
  description = "Arguments after the entrypoint for the task run on deploy."
  type        = list(string)
  # The analytics module owns the Glue database, so setup never sends CREATE DATABASE (which Athena
  # turns into glue:CreateDatabase and a GetDatabase on `default`, outside the task role).
  default = ["setup", "--execute", "--database-exists"]
}

variable "setup_cpu" {
  description = "Fargate CPU units of the setup task."
  type        = number
  default     = 512
}

variable "setup_memory" {
  description = "Fargate memory (MiB) of the setup task."
  type        = number
  default     = 1024
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64; must match the image's platform."
  type        = string
  default     = "X86_64"
}

variable "extra_environment" {
  description = "More environment variables for every job (e.g. EVENTLAKE_MAX_QUARANTINE_RATE); they override the defaults."
  type        = map(string)
  default     = {}
}

variable "lake_uri" {
  description = "EVENTLAKE_LAKE: s3://<bucket>/<lake_prefix>."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the lake bucket."
  type        = string
}

variable "lake_prefix" {
  description = "Folder of the lake root inside the bucket."
  type        = string
}

variable "athena_results_prefix" {
  description = "Folder of Athena query results inside the bucket."
  type        = string
}

variable "athena_workgroup_name" {
  description = "EVENTLAKE_ATHENA_WORKGROUP."
  type        = string
}

variable "athena_workgroup_arn" {
  description = "The only workgroup the jobs may use."
  type        = string
}

variable "glue_database_name" {
  description = "EVENTLAKE_ATHENA_DATABASE."
  type        = string
}

variable "glue_resource_arns" {
  description = "Catalog, database and table ARNs the jobs may use (analytics module output)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "Customer managed key (bucket objects, logs, schedules, dead-letter queue)."
  type        = string
}

variable "ecr_repository_arn" {
  description = "The only repository the execution role may pull from."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the tasks' security group."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets the tasks run in. Private subnets need a NAT gateway or VPC endpoints (S3, ECR, Logs, Athena, Glue, STS)."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "true for public subnets without NAT (e.g. the default VPC), false for private subnets."
  type        = bool
  default     = false
}

variable "schedules_enabled" {
  description = "false creates the schedules disabled (e.g. while a new environment is being filled)."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the jobs' log group."
  type        = number
  default     = 365
}

variable "run_setup_on_apply" {
  description = "Run the setup task (and wait for it) whenever its task definition changes. Needs the AWS CLI where terraform runs."
  type        = bool
  default     = true
}

variable "spot_jobs" {
  description = "Scheduled jobs that run on FARGATE_SPOT (idempotent and cheap to retry); the others run on FARGATE."
  type        = list(string)
  default     = ["hourly"]
}

variable "ephemeral_storage_gib" {
  description = "Task storage in GiB (21-200) per job, for the /scratch spills; jobs not listed get Fargate's default 20 GiB."
  type        = map(number)
  default     = { daily = 100 }
}

variable "vpc_endpoints" {
  description = "Create an S3 gateway endpoint and interface endpoints for ECR, Logs, STS, Athena and Glue, and allow the tasks HTTPS to those only: for private subnets without a NAT gateway."
  type        = bool
  default     = false
}

variable "route_table_ids" {
  description = "Route tables of the task subnets, for the S3 gateway endpoint (with vpc_endpoints)."
  type        = list(string)
  default     = []
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
