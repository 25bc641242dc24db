# The lake bucket: bronze (written by Firehose), silver, gold, quarantine and the jobs' bookkeeping
# under one lake root, plus the Athena results and Firehose error output beside it:
#
#   s3://<bucket>/<lake_prefix>/bronze/YYYY/MM/DD/HH/      Firehose arrival hours (read-only for the jobs)
#   s3://<bucket>/<lake_prefix>/{silver,gold,quarantine,_manifests,_locks,_schema_history}/
#   s3://<bucket>/<athena_results_prefix>/                 Athena query results
#   s3://<bucket>/<firehose_errors_prefix>/                Firehose delivery errors

terraform {
  required_version = ">= 1.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }
}

resource "aws_s3_bucket" "lake" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery decision per organisation; bronze is also kept by the stream for its retention period and versioning protects against deletes.
  #checkov:skip=CKV2_AWS_62:Nothing consumes bucket events; the jobs run on a schedule and list their prefixes.
  #checkov:skip=CKV_AWS_18:Access logs need a separate log bucket that SSE-KMS cannot protect; set access_log_bucket to the organisation's log bucket to enable them (aws_s3_bucket_logging below).
  bucket        = var.bucket_name
  force_destroy = false
}

resource "aws_s3_bucket_ownership_controls" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "lake" {
  bucket                  = aws_s3_bucket.lake.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "lake" {
  bucket = aws_s3_bucket.lake.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # One data key per bucket rather than per object: far fewer KMS calls for many small parts.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "lake" {
  count         = var.access_log_bucket == "" ? 0 : 1
  bucket        = aws_s3_bucket.lake.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3/${var.bucket_name}/"
}

data "aws_iam_policy_document" "lake" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.lake.arn, "${aws_s3_bucket.lake.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyTlsOlderThan12"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.lake.arn, "${aws_s3_bucket.lake.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_bucket_policy" "lake" {
  bucket = aws_s3_bucket.lake.id
  policy = data.aws_iam_policy_document.lake.json
  # A bucket policy cannot be written while the public access block is being changed.
  depends_on = [aws_s3_bucket_public_access_block.lake]
}

resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id
  # Rules on a versioned bucket need versioning in place first.
  depends_on = [aws_s3_bucket_versioning.lake]

  # Whole bucket: failed multipart uploads (a crashed run) and the versions left behind by reruns,
  # which replace silver/gold parts and delete the superseded ones.
  rule {
    id     = "housekeeping"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
    expiration {
      expired_object_delete_marker = true
    }
  }

  rule {
    id     = "quarantine-ages-out"
    status = "Enabled"
    filter {
      prefix = "${var.lake_prefix}/quarantine/"
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
    expiration {
      days = var.quarantine_expiration_days
    }
  }

  # Glacier Instant Retrieval, not Flexible: backfills read old bronze directly, without a restore.
  rule {
    id     = "bronze-to-colder-storage"
    status = "Enabled"
    filter {
      prefix = "${var.lake_prefix}/bronze/"
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
    transition {
      days          = var.bronze_infrequent_access_days
      storage_class = "STANDARD_IA"
    }
    transition {
      days          = var.bronze_glacier_ir_days
      storage_class = "GLACIER_IR"
    }
  }

  rule {
    id     = "athena-results-age-out"
    status = "Enabled"
    filter {
      prefix = "${var.athena_results_prefix}/"
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
    expiration {
      days = var.athena_results_expiration_days
    }
  }

  rule {
    id     = "firehose-errors-age-out"
    status = "Enabled"
    filter {
      prefix = "${var.firehose_errors_prefix}/"
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
    expiration {
      days = var.quarantine_expiration_days
    }
  }
}
