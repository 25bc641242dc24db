# The jobs: an ECS cluster on Fargate, one task definition per job, EventBridge Scheduler schedules
# built from schedules/*.json, the roles, the dead-letter queue, and `setup` run on every deploy.
#
#   schedules/<job>.json ──► aws_ecs_task_definition.job["<job>"]   (command, cpu, memory)
#                       └──► aws_scheduler_schedule.job["<job>"]    (cron, time zone, retries, DLQ)
#   setup_command        ──► aws_ecs_task_definition.job["setup"]   run by null_resource.setup

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

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  # The schedule files are the single source of the jobs' commands and timing (a test runs each
  # command through the binary's argument parser). The file name is the job name.
  schedules = {
    for f in fileset(var.schedules_dir, "*.json") :
    trimsuffix(f, ".json") => jsondecode(file("${var.schedules_dir}/${f}"))
  }

  # `setup` runs on deploy, not on a schedule, so it has a task definition and no schedule.
  tasks = merge(
    {
      for job, s in local.schedules : job => {
        command = tolist(s.command)
        cpu     = try(var.task_sizes[job].cpu, s.cpu)
        memory  = try(var.task_sizes[job].memory, s.memory)
      }
    },
    {
      setup = {
        command = var.setup_command
        cpu     = var.setup_cpu
        memory  = var.setup_memory
      }
    },
  )

  # Every flag of the binary also reads an environment variable; these are the ones every job needs.
  environment = merge(
    {
      EVENTLAKE_LAKE             = var.lake_uri
      EVENTLAKE_SCHEMAS          = "/app/schemas"
      EVENTLAKE_LOG_FORMAT       = "json"
      RUST_LOG                   = "info"
      EVENTLAKE_ATHENA_WORKGROUP = var.athena_workgroup_name
      EVENTLAKE_ATHENA_DATABASE  = var.glue_database_name
      TMPDIR                     = "/tmp"
    },
    var.extra_environment,
  )

  container_name = "eventlake"
  lake_objects   = "${var.bucket_arn}/${var.lake_prefix}"
  results        = "${var.bucket_arn}/${var.athena_results_prefix}"
  task_def_arn   = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition"
}

# --- cluster and logs ------------------------------------------------------------------------

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

# One group for every job; streams are <job>/eventlake/<task id>. The jobs log one JSON object per
# line, and their CloudWatch Embedded Metric Format lines become metrics in namespace `eventlake`.
resource "aws_cloudwatch_log_group" "jobs" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# --- network ---------------------------------------------------------------------------------

resource "aws_security_group" "tasks" {
  #checkov:skip=CKV2_AWS_5:Attached at run time: the scheduler and the setup run-task pass it in the task's network configuration, which checkov cannot follow.
  name        = "${var.name}-tasks"
  description = "eventlake tasks: nothing inbound, HTTPS out to AWS APIs"
  vpc_id      = var.vpc_id

  egress {
    description = "HTTPS to S3, Athena, Glue, ECR, CloudWatch Logs and STS"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

# --- roles -----------------------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
    }
  }
}

# The task role: what the eventlake process may do.
resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  description        = "eventlake jobs: read bronze, write their own lake prefixes, use one Athena workgroup and Glue database"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "FindTheBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]
    resources = [var.bucket_arn]
  }

  statement {
    sid       = "ListTheLakeAndResultsOnly"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [var.lake_prefix, "${var.lake_prefix}/*", "${var.athena_results_prefix}/*"]
    }
  }

  # Bronze included: the jobs read everything in the lake and Athena reads silver and gold as the caller.
  statement {
    sid       = "ReadTheLakeAndResults"
    actions   = ["s3:GetObject"]
    resources = ["${local.lake_objects}/*", "${local.results}/*"]
  }

  # Not bronze: only Firehose writes there.
  statement {
    sid     = "WriteOwnPrefixesOnly"
    actions = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = concat(
      [for folder in var.writable_lake_folders : "${local.lake_objects}/${folder}/*"],
      ["${local.results}/*"],
    )
  }

  statement {
    sid       = "UseTheKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "QueryInOwnWorkgroupOnly"
    actions   = ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution", "athena:GetWorkGroup"]
    resources = [var.athena_workgroup_arn]
  }

  statement {
    sid = "ManageOwnDatabaseOnly"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
      "glue:CreatePartition",
      "glue:BatchCreatePartition",
      "glue:UpdatePartition",
    ]
    resources = var.glue_resource_arns
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "lake-access"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# The execution role: what ECS needs to start the container (pull the image, ship the logs).
resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  description        = "ECS pulls the eventlake image and writes its logs"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken has no resource-level permissions.
  }

  statement {
    sid       = "PullTheImage"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = [var.ecr_repository_arn]
  }

  statement {
    sid       = "DecryptTheImage"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.jobs.arn}:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-and-log"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# --- task definitions ------------------------------------------------------------------------

resource "aws_ecs_task_definition" "job" {
  for_each = local.tasks

  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(each.value.cpu)
  memory                   = tostring(each.value.memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # The root filesystem is read-only; scratch space (spills, temporary files) is this task volume.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = local.container_name
      image                  = var.image
      essential              = true
      command                = each.value.command
      environment            = [for k in sort(keys(local.environment)) : { name = k, value = local.environment[k] }]
      readonlyRootFilesystem = true
      privileged             = false
      mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
      # An init process as PID 1 forwards SIGTERM, so a stopped task ends the job promptly.
      linuxParameters = { initProcessEnabled = true }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.jobs.name
          awslogs-region        = local.region
          awslogs-stream-prefix = each.key
        }
      }
    },
  ])
}

# --- schedules -------------------------------------------------------------------------------

# Failed invocations (RunTask refused, no capacity, throttling) land here after the retries, instead
# of vanishing; the alarms module alarms on its depth.
resource "aws_sqs_queue" "dlq" {
  name                              = "${var.name}-schedules-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
}

# A group per environment: schedule names cannot collide with (and silently replace) another's.
resource "aws_scheduler_schedule_group" "this" {
  name = var.name
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_scheduler_schedule_group.this.arn]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-scheduler"
  description        = "EventBridge Scheduler starts the eventlake jobs"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "RunScheduledJobsOnThisClusterOnly"
    actions   = ["ecs:RunTask"]
    resources = [for job in keys(local.schedules) : "${local.task_def_arn}/${var.name}-${job}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.this.arn]
    }
  }

  statement {
    sid       = "TagTheTasksItStarts"
    actions   = ["ecs:TagResource"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${aws_ecs_cluster.this.name}/*"]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  statement {
    sid       = "PassTheJobRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.task.arn, aws_iam_role.execution.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }

  # For the encrypted schedules and the encrypted dead-letter queue.
  statement {
    sid       = "UseTheKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "run-jobs"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "job" {
  for_each = local.schedules

  name        = each.key
  group_name  = aws_scheduler_schedule_group.this.name
  description = each.value.description
  state       = var.schedules_enabled ? "ENABLED" : "DISABLED"
  kms_key_arn = var.kms_key_arn

  schedule_expression          = "cron(${each.value.cron})"
  schedule_expression_timezone = each.value.timezone

  # Exact start times: the hourly job derives its hour from the start time.
  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_ecs_cluster.this.arn
    role_arn = aws_iam_role.scheduler.arn

    ecs_parameters {
      task_definition_arn     = aws_ecs_task_definition.job[each.key].arn
      task_count              = 1
      launch_type             = "FARGATE"
      platform_version        = "LATEST"
      enable_ecs_managed_tags = true
      propagate_tags          = "TASK_DEFINITION"
      tags                    = { job = each.key }

      network_configuration {
        subnets          = var.subnet_ids
        security_groups  = [aws_security_group.tasks.id]
        assign_public_ip = var.assign_public_ip
      }
    }

    retry_policy {
      maximum_retry_attempts       = each.value.retry_policy.maximum_retry_attempts
      maximum_event_age_in_seconds = each.value.retry_policy.maximum_event_age_in_seconds
    }

    dead_letter_config {
      arn = aws_sqs_queue.dlq.arn
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}

# --- setup on deploy -------------------------------------------------------------------------

# Runs `eventlake setup --execute` (tables, schema evolution) whenever its task definition changes,
# that is on every new image tag, and fails the apply unless it exits 0. Uses the AWS CLI and the
# deployer's credentials (ecs:RunTask, ecs:DescribeTasks, iam:PassRole on the two job roles).
resource "null_resource" "setup" {
  count = var.run_setup_on_apply ? 1 : 0

  triggers = {
    task_definition = aws_ecs_task_definition.job["setup"].arn
  }

  provisioner "local-exec" {
    command = "bash ${path.module}/run-task.sh"
    environment = {
      AWS_REGION       = local.region
      CLUSTER          = aws_ecs_cluster.this.name
      TASK_DEFINITION  = aws_ecs_task_definition.job["setup"].arn
      SUBNETS          = join(",", var.subnet_ids)
      SECURITY_GROUP   = aws_security_group.tasks.id
      ASSIGN_PUBLIC_IP = var.assign_public_ip ? "ENABLED" : "DISABLED"
      LOG_GROUP        = aws_cloudwatch_log_group.jobs.name
    }
  }

  depends_on = [aws_iam_role_policy.task, aws_iam_role_policy.execution]
}
