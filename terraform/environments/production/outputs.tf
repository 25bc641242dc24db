output "lake_uri" {
  description = "EVENTLAKE_LAKE of the environment."
  value       = module.eventlake.lake_uri
}

output "bucket_name" {
  description = "The lake bucket."
  value       = module.eventlake.bucket_name
}

output "repository_url" {
  description = "Push the image here: <repository_url>:<tag>."
  value       = module.eventlake.repository_url
}

output "stream_name" {
  description = "Kinesis stream producers write to."
  value       = module.eventlake.stream_name
}

output "producer_policy_arn" {
  description = "Policy to attach to producers."
  value       = module.eventlake.producer_policy_arn
}

output "cluster_name" {
  description = "ECS cluster of the jobs."
  value       = module.eventlake.cluster_name
}

output "schedules" {
  description = "What runs when."
  value       = module.eventlake.schedules
}

output "log_group_name" {
  description = "Logs of every job."
  value       = module.eventlake.log_group_name
}

output "dlq_url" {
  description = "Dead-letter queue of the schedules."
  value       = module.eventlake.dlq_url
}

output "run_task_example" {
  description = "Run a job by hand."
  value       = module.eventlake.run_task_example
}

output "athena_workgroup" {
  description = "Workgroup to query in."
  value       = module.eventlake.athena_workgroup
}

output "glue_database" {
  description = "Database holding the tables."
  value       = module.eventlake.glue_database
}

output "alarm_topic_arn" {
  description = "SNS topic of every alarm."
  value       = module.eventlake.alarm_topic_arn
}
