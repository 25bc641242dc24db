# Alarms to one encrypted SNS topic:
#   - a job's task stopped with a non-zero exit code other than 75 (lease held), or failed to start
#     (EventBridge rule);
#   - no successful hourly run for `stale_after_hours` hours (EMF metric `records`, missing = breaching),
#     which also catches runs that never start;
#   - the hourly quarantine rate is above a threshold (EMF metric `quarantine_rate`);
#   - a data-quality rule failed for a day (EMF metric `rules_failed` of the daily job);
#   - hourly runs had to reprocess hours whose bronze landed late (EMF `inputs_changed_after_commit`);
#   - no committed daily run for 36 hours (EMF `gold_rows`, missing = breaching);
#   - scheduler invocations landed in the dead-letter queue.

terraform {
  required_version = ">= 1.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

resource "aws_sns_topic" "alarms" {
  name              = var.name
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "TaskFailureRulePublishes"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.task_failed.arn]
    }
  }

  statement {
    sid       = "AccountAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${data.aws_partition.current.partition}:cloudwatch:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:alarm:*"]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.topic.json
}

# --- a task failed ---------------------------------------------------------------------------

resource "aws_cloudwatch_event_rule" "task_failed" {
  name        = "${var.name}-task-failed"
  description = "An eventlake task stopped with a non-zero exit code or failed to start"
  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Task State Change"]
    detail = {
      clusterArn = [var.cluster_arn]
      lastStatus = ["STOPPED"]
      "$or" = [
        # 75 is "lease held": another run is doing this unit's work, by design not a failure.
        { containers = { exitCode = [{ "anything-but" = [0, 75] }] } },
        { stopCode = ["TaskFailedToStart"] },
      ]
    }
  })
}

resource "aws_cloudwatch_event_target" "task_failed" {
  rule = aws_cloudwatch_event_rule.task_failed.name
  arn  = aws_sns_topic.alarms.arn

  input_transformer {
    input_paths = {
      group  = "$.detail.group"
      task   = "$.detail.taskArn"
      code   = "$.detail.containers[0].exitCode"
      reason = "$.detail.stoppedReason"
    }
    # Exit codes: 1 failure, 2 configuration, 3 quality threshold, 75 lease held (another run).
    input_template = "\"${var.name}: <group> stopped with exit code <code> (<reason>). Task <task>. Logs: ${var.log_group_name}\""
  }
}

# --- no successful hourly run ----------------------------------------------------------------

# The hourly job emits `records` once per committed hour. Missing data is breaching, so the alarm
# also fires when runs fail before the job starts (no capacity, bad image, scheduler errors).
resource "aws_cloudwatch_metric_alarm" "hourly_stale" {
  alarm_name          = "${var.name}-hourly-stale"
  alarm_description   = "No successful hourly run for ${var.stale_after_hours} hours. Check the task-failed notifications, the schedules DLQ and ${var.log_group_name}."
  namespace           = var.metric_namespace
  metric_name         = "records"
  dimensions          = { job = "hourly" }
  statistic           = "SampleCount"
  period              = 3600
  evaluation_periods  = var.stale_after_hours
  datapoints_to_alarm = var.stale_after_hours
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# --- quarantine rate -------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "quarantine_rate" {
  alarm_name          = "${var.name}-quarantine-rate"
  alarm_description   = "The quarantined share of an hour's records was above ${var.quarantine_rate_threshold}. Inspect lake/quarantine/ (reason per record) or query the quarantine table."
  namespace           = var.metric_namespace
  metric_name         = "quarantine_rate"
  dimensions          = { job = "hourly" }
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.quarantine_rate_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# --- quality rules -------------------------------------------------------------------------

# The daily job evaluates the project's `[[quality.rules]]` for every day it builds and emits how
# many failed (`rules_failed`, with the names in `failed_rules`); the day's page under reports/
# shows which and why.
resource "aws_cloudwatch_metric_alarm" "quality_rules" {
  alarm_name          = "${var.name}-quality-rules"
  alarm_description   = "A data-quality rule failed for a day. Open lake/reports/dt=<date>/index.html (or run eventlake report) for the rule, the observation and the failing event names."
  namespace           = var.metric_namespace
  metric_name         = "rules_failed"
  dimensions          = { job = "daily" }
  statistic           = "Maximum"
  period              = 86400
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# --- late bronze ---------------------------------------------------------------------------

# An hourly run reran an hour because Firehose objects landed after the hour had committed (the
# lookback caught them up). Occasional ones are expected after Firehose retries; a steady stream
# means the schedule runs too early for the delivery stream's buffering.
resource "aws_cloudwatch_metric_alarm" "late_bronze" {
  alarm_name          = "${var.name}-late-bronze"
  alarm_description   = "Hourly runs reprocessed hours whose bronze changed after they committed (more than ${var.late_bronze_hours_per_day} in a day). The lookback caught them up; check the Firehose buffering against the hourly schedule."
  namespace           = var.metric_namespace
  metric_name         = "inputs_changed_after_commit"
  dimensions          = { job = "hourly" }
  statistic           = "Sum"
  period              = 86400
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.late_bronze_hours_per_day
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

# --- a stale daily run ---------------------------------------------------------------------

# The daily job emits `gold_rows` once per committed day; none for a day and a half means gold
# stopped (failed runs, incomplete days, or a schedule that no longer starts).
resource "aws_cloudwatch_metric_alarm" "daily_stale" {
  alarm_name          = "${var.name}-daily-stale"
  alarm_description   = "No committed daily run for 36 hours: gold is not being built. Check the task-failed notifications and ${var.log_group_name}."
  namespace           = var.metric_namespace
  metric_name         = "gold_rows"
  dimensions          = { job = "daily" }
  statistic           = "SampleCount"
  period              = 21600
  evaluation_periods  = 6
  datapoints_to_alarm = 6
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# --- scheduler dead letters ------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "schedule_dead_letters" {
  alarm_name          = "${var.name}-schedule-dead-letters"
  alarm_description   = "A scheduled job could not be started after all retries; the failed invocation is in ${var.dlq_name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.dlq_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}
