output "topic_arn" {
  description = "SNS topic every alarm publishes to; subscribe chat or paging integrations here."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "CloudWatch alarms of the environment."
  value = [
    aws_cloudwatch_metric_alarm.hourly_stale.alarm_name,
    aws_cloudwatch_metric_alarm.quarantine_rate.alarm_name,
    aws_cloudwatch_metric_alarm.late_bronze.alarm_name,
    aws_cloudwatch_metric_alarm.daily_stale.alarm_name,
    aws_cloudwatch_metric_alarm.schedule_dead_letters.alarm_name,
  ]
}

output "task_failed_rule" {
  description = "EventBridge rule forwarding failed tasks to the topic."
  value       = aws_cloudwatch_event_rule.task_failed.name
}
