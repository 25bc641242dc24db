# Ingestion: producers put JSON events on a Kinesis data stream; Firehose delivers them to bronze as
# gzip NDJSON, one folder per UTC arrival hour: <bronze_prefix>YYYY/MM/DD/HH/.

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

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
}

resource "aws_kinesis_stream" "events" {
  name             = var.name
  retention_period = var.stream_retention_hours
  encryption_type  = "KMS"
  kms_key_id       = var.kms_key_arn

  stream_mode_details {
    stream_mode = "ON_DEMAND"
  }
}

resource "aws_cloudwatch_log_group" "firehose" {
  name              = "/aws/kinesisfirehose/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_cloudwatch_log_stream" "delivery" {
  name           = "S3Delivery"
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "firehose" {
  name               = "${var.name}-firehose"
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
}

data "aws_iam_policy_document" "firehose" {
  statement {
    sid       = "ReadTheStream"
    actions   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"]
    resources = [aws_kinesis_stream.events.arn]
  }

  statement {
    sid       = "FindTheBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [var.bucket_arn]
  }

  statement {
    sid     = "WriteBronzeAndErrorsOnly"
    actions = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
    resources = [
      "${var.bucket_arn}/${var.bronze_prefix}*",
      "${var.bucket_arn}/${var.error_prefix}*",
    ]
  }

  statement {
    sid       = "UseTheKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "LogDeliveryErrors"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.firehose.arn}:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "firehose" {
  name   = "deliver-to-bronze"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose.json
}

resource "aws_kinesis_firehose_delivery_stream" "bronze" {
  #checkov:skip=CKV_AWS_240:Firehose server-side encryption applies only to Direct PUT sources; this one reads a KMS-encrypted Kinesis stream and writes SSE-KMS objects (kms_key_arn below).
  #checkov:skip=CKV_AWS_241:Same as CKV_AWS_240: no Firehose-side encryption setting exists for a Kinesis stream source; the stream and the S3 objects use the customer managed key.
  name        = var.name
  destination = "extended_s3"

  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.events.arn
    role_arn           = aws_iam_role.firehose.arn
  }

  extended_s3_configuration {
    role_arn   = aws_iam_role.firehose.arn
    bucket_arn = var.bucket_arn
    # UTC arrival time, the layout the hourly job reads. Error output stays outside the lake root.
    prefix              = "${var.bronze_prefix}!{timestamp:yyyy/MM/dd/HH}/"
    error_output_prefix = "${var.error_prefix}!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"
    buffering_size      = var.buffering_size_mb
    buffering_interval  = var.buffering_interval_seconds
    compression_format  = "GZIP"
    kms_key_arn         = var.kms_key_arn

    # Firehose concatenates records without a separator by default; one event per line is NDJSON.
    processing_configuration {
      enabled = true
      processors {
        type = "AppendDelimiterToRecord"
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose.name
      log_stream_name = aws_cloudwatch_log_stream.delivery.name
    }
  }

  # The role's policy must exist before Firehose assumes the role, or a first apply can fail to
  # create the stream (or create it unable to read Kinesis).
  depends_on = [aws_iam_role_policy.firehose]
}

# For producers: attach to the role of any application that sends events.
data "aws_iam_policy_document" "producer" {
  statement {
    sid       = "PutEvents"
    actions   = ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary"]
    resources = [aws_kinesis_stream.events.arn]
  }

  statement {
    sid       = "EncryptEvents"
    actions   = ["kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["kinesis.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_policy" "producer" {
  name        = "${var.name}-producer"
  description = "Put events on the ${var.name} stream."
  policy      = data.aws_iam_policy_document.producer.json
}

# --- alarms: data stops arriving, or arrives in the wrong place ---------------------------------

# The age of the newest record Firehose has delivered: above the buffering interval plus a margin,
# bronze is falling behind (throttled S3 puts, a KMS problem, a stuck delivery).
resource "aws_cloudwatch_metric_alarm" "delivery_freshness" {
  alarm_name          = "${var.name}-delivery-freshness"
  alarm_description   = "Firehose ${aws_kinesis_firehose_delivery_stream.bronze.name} has not delivered records younger than ${var.freshness_alarm_seconds}s to bronze for 15 minutes."
  namespace           = "AWS/Firehose"
  metric_name         = "DeliveryToS3.DataFreshness"
  dimensions          = { DeliveryStreamName = aws_kinesis_firehose_delivery_stream.bronze.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.freshness_alarm_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arns
  ok_actions          = var.alarm_topic_arns
}

# Records wait in Kinesis because Firehose does not keep up: past the stream's retention they are lost.
resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  alarm_name          = "${var.name}-iterator-age"
  alarm_description   = "Records wait more than ${var.iterator_age_alarm_minutes} minutes in ${aws_kinesis_stream.events.name} before Firehose reads them; they are lost after ${var.stream_retention_hours} hours."
  namespace           = "AWS/Kinesis"
  metric_name         = "GetRecords.IteratorAgeMilliseconds"
  dimensions          = { StreamName = aws_kinesis_stream.events.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.iterator_age_alarm_minutes * 60000
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arns
  ok_actions          = var.alarm_topic_arns
}

# Objects under Firehose's error prefix are records it could not deliver as events: they never reach
# bronze's hour folders, so no eventlake run sees them. S3 request metrics count the puts there.
resource "aws_s3_bucket_metric" "firehose_errors" {
  bucket = element(split(":::", var.bucket_arn), 1)
  name   = "firehose-errors"
  filter {
    prefix = var.error_prefix
  }
}

resource "aws_cloudwatch_metric_alarm" "firehose_errors" {
  alarm_name          = "${var.name}-firehose-errors"
  alarm_description   = "Firehose wrote objects under ${var.error_prefix}: records it could not deliver to bronze. Inspect them and replay."
  namespace           = "AWS/S3"
  metric_name         = "PutRequests"
  dimensions          = { BucketName = aws_s3_bucket_metric.firehose_errors.bucket, FilterId = aws_s3_bucket_metric.firehose_errors.name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arns
}
