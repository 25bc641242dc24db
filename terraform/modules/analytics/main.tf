# Athena workgroup and Glue database. The tables are not declared here: `eventlake setup --execute`
# creates and evolves them from the event schemas (partition projection, no crawler, no MSCK REPAIR).

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
  glue_prefix = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
}

resource "aws_glue_catalog_database" "lake" {
  name         = var.database_name
  description  = "eventlake tables (silver, gold, quarantine); managed by eventlake setup"
  location_uri = var.lake_uri
}

resource "aws_athena_workgroup" "lake" {
  name          = var.workgroup_name
  description   = "eventlake jobs and analysts; results encrypted in s3://${var.results_bucket}/${var.results_prefix}/"
  state         = "ENABLED"
  force_destroy = false

  configuration {
    # Clients cannot choose another result location or turn encryption off.
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    result_configuration {
      output_location = "s3://${var.results_bucket}/${var.results_prefix}/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
}
