# The production environment: backend, provider and values only; every resource comes from modules/.

terraform {
  # S3-native state locking (use_lockfile) needs Terraform 1.10 or later.
  required_version = ">= 1.10"

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

  # Partial configuration: bucket and region come from `terraform init -backend-config=...`
  # (see terraform/README.md), so no account-specific name is committed.
  backend "s3" {
    key          = "eventlake/production/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project     = "eventlake"
      environment = "production"
      managed_by  = "terraform"
    }
  }
}

module "eventlake" {
  source = "../../modules/eventlake"

  name          = "eventlake-production"
  bucket_name   = var.bucket_name
  image_tag     = var.image_tag
  schedules_dir = "${path.root}/../../../schedules"

  vpc_id           = var.vpc_id
  subnet_ids       = var.subnet_ids
  assign_public_ip = var.assign_public_ip

  create_ingestion   = var.create_ingestion
  schedules_enabled  = var.schedules_enabled
  run_setup_on_apply = var.run_setup_on_apply
  alarm_emails       = var.alarm_emails
  export             = var.export
  access_log_bucket  = var.access_log_bucket

  # More headroom than the schedule files give: production hours are the largest.
  task_sizes = {
    hourly = { cpu = 2048, memory = 8192 }
    daily  = { cpu = 4096, memory = 16384 }
  }

  quarantine_rate_threshold             = 0.05
  athena_bytes_scanned_cutoff_per_query = 107374182400 # 100 GiB
  quarantine_expiration_days            = 180
}
