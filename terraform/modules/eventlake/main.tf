# One complete environment: every other module wired together. The environments (staging,
# production) call this module and only set values, so both are built the same way.
#
#   producers ─► ingestion (Kinesis ─► Firehose) ─► lake_bucket: lake/bronze/YYYY/MM/DD/HH/
#                                                          │
#   schedules/*.json ─► jobs (EventBridge Scheduler ─► ECS Fargate: hourly, daily; setup on deploy)
#                          image from container (ECR)      │ silver, gold, quarantine
#                                                          ▼
#                       analytics (Glue database, Athena workgroup) ─► queries
#   alarms: failed tasks, stale hourly, quarantine rate, dead letters ─► SNS
#   kms: one customer managed key for all of the above

terraform {
  required_version = ">= 1.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
    null = {
      source  = "hashicorp/null"
      version = "~> 3.2"
    }
  }
}

module "kms" {
  source = "../kms"
  name   = var.name
}

module "lake_bucket" {
  source      = "../lake_bucket"
  bucket_name = var.bucket_name
  kms_key_arn = module.kms.key_arn

  access_log_bucket             = var.access_log_bucket
  quarantine_expiration_days    = var.quarantine_expiration_days
  bronze_infrequent_access_days = var.bronze_infrequent_access_days
  bronze_glacier_ir_days        = var.bronze_glacier_ir_days
}

module "ingestion" {
  source = "../ingestion"
  count  = var.create_ingestion ? 1 : 0

  name          = "${var.name}-events"
  bucket_arn    = module.lake_bucket.bucket_arn
  bronze_prefix = module.lake_bucket.bronze_prefix
  error_prefix  = module.lake_bucket.firehose_errors_prefix
  kms_key_arn   = module.kms.key_arn

  alarm_topic_arns = [module.alarms.topic_arn]
}

module "container" {
  source      = "../container"
  name        = var.name
  kms_key_arn = module.kms.key_arn
}

module "analytics" {
  source         = "../analytics"
  workgroup_name = var.name
  database_name  = replace(var.name, "-", "_")
  lake_uri       = module.lake_bucket.lake_uri
  results_bucket = module.lake_bucket.bucket_name
  results_prefix = module.lake_bucket.athena_results_prefix
  kms_key_arn    = module.kms.key_arn

  bytes_scanned_cutoff_per_query = var.athena_bytes_scanned_cutoff_per_query
}

module "jobs" {
  source        = "../jobs"
  name          = var.name
  image         = "${module.container.repository_url}:${var.image_tag}"
  schedules_dir = var.schedules_dir
  task_sizes    = var.task_sizes

  lake_uri              = module.lake_bucket.lake_uri
  bucket_arn            = module.lake_bucket.bucket_arn
  lake_prefix           = module.lake_bucket.lake_prefix
  athena_results_prefix = module.lake_bucket.athena_results_prefix
  athena_workgroup_name = module.analytics.workgroup_name
  athena_workgroup_arn  = module.analytics.workgroup_arn
  glue_database_name    = module.analytics.database_name
  glue_resource_arns    = module.analytics.glue_resource_arns
  kms_key_arn           = module.kms.key_arn
  ecr_repository_arn    = module.container.repository_arn

  vpc_id             = var.vpc_id
  subnet_ids         = var.subnet_ids
  assign_public_ip   = var.assign_public_ip
  vpc_endpoints      = var.vpc_endpoints
  route_table_ids    = var.route_table_ids
  schedules_enabled  = var.schedules_enabled
  run_setup_on_apply = var.run_setup_on_apply
  extra_environment  = var.extra_environment
  export             = var.export
}

module "alarms" {
  source         = "../alarms"
  name           = var.name
  kms_key_arn    = module.kms.key_arn
  alarm_emails   = var.alarm_emails
  cluster_arn    = module.jobs.cluster_arn
  log_group_name = module.jobs.log_group_name
  dlq_name       = module.jobs.dlq_name

  quarantine_rate_threshold = var.quarantine_rate_threshold
}
