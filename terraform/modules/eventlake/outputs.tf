output "lake_uri" {
  description = "EVENTLAKE_LAKE of the environment."
  value       = module.lake_bucket.lake_uri
}

output "bucket_name" {
  description = "The lake bucket."
  value       = module.lake_bucket.bucket_name
}

output "kms_key_arn" {
  description = "The environment's customer managed key."
  value       = module.kms.key_arn
}

output "repository_url" {
  description = "Push the image here: <repository_url>:<tag>."
  value       = module.container.repository_url
}

output "stream_name" {
  description = "Kinesis stream producers write to (empty without ingestion)."
  value       = join("", module.ingestion[*].stream_name)
}

output "producer_policy_arn" {
  description = "Policy for producers (empty without ingestion)."
  value       = join("", module.ingestion[*].producer_policy_arn)
}

output "cluster_name" {
  description = "ECS cluster of the jobs."
  value       = module.jobs.cluster_name
}

output "schedules" {
  description = "What runs when."
  value       = module.jobs.schedules
}

output "log_group_name" {
  description = "Logs of every job."
  value       = module.jobs.log_group_name
}

output "dlq_url" {
  description = "Dead-letter queue of the schedules."
  value       = module.jobs.dlq_url
}

output "run_task_example" {
  description = "Run a job by hand."
  value       = module.jobs.run_task_example
}

output "athena_workgroup" {
  description = "Workgroup to query in."
  value       = module.analytics.workgroup_name
}

output "glue_database" {
  description = "Database holding the tables."
  value       = module.analytics.database_name
}

output "alarm_topic_arn" {
  description = "SNS topic of every alarm."
  value       = module.alarms.topic_arn
}
