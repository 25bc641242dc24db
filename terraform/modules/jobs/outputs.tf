output "cluster_name" {
  description = "ECS cluster running the jobs."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the cluster (the alarms module watches its tasks)."
  value       = aws_ecs_cluster.this.arn
}

output "task_definition_arns" {
  description = "Task definition (with revision) per job, setup included."
  value       = { for job, td in aws_ecs_task_definition.job : job => td.arn }
}

output "schedules" {
  description = "Schedule expression per scheduled job."
  value       = { for job, s in aws_scheduler_schedule.job : job => "${s.schedule_expression} ${s.schedule_expression_timezone}" }
}

output "schedule_group" {
  description = "EventBridge Scheduler group holding the schedules."
  value       = aws_scheduler_schedule_group.this.name
}

output "log_group_name" {
  description = "CloudWatch log group of every job."
  value       = aws_cloudwatch_log_group.jobs.name
}

output "dlq_name" {
  description = "Dead-letter queue of the schedules."
  value       = aws_sqs_queue.dlq.name
}

output "dlq_url" {
  description = "URL of the dead-letter queue, for aws sqs receive-message."
  value       = aws_sqs_queue.dlq.url
}

output "task_role_arns" {
  description = "Role of the eventlake process, per job."
  value       = { for job, role in aws_iam_role.task : job => role.arn }
}

output "security_group_id" {
  description = "Security group of the tasks."
  value       = aws_security_group.tasks.id
}

output "run_task_example" {
  description = "AWS CLI command that runs a job by hand (replace the task definition to run another job)."
  value = join(" ", [
    "aws ecs run-task --cluster ${aws_ecs_cluster.this.name} --launch-type FARGATE",
    "--task-definition ${var.name}-setup",
    "--network-configuration 'awsvpcConfiguration={subnets=[${join(",", var.subnet_ids)}],securityGroups=[${aws_security_group.tasks.id}],assignPublicIp=${var.assign_public_ip ? "ENABLED" : "DISABLED"}}'",
  ])
}
