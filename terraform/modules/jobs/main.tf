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
  # The export schedule needs a database: it is deployed only where `export` names one.
  schedules = {
    for f in fileset(var.schedules_dir, "*.json") :
    trimsuffix(f, ".json") => jsondecode(file("${var.schedules_dir}/${f}"))
    if f != "export.json" || var.export != null
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

  # Per task: the query engine's memory pool is 3/4 of the task's memory (MiB), leaving the rest to
  # the process, the writers and the allocator; past it the daily job spills to /scratch instead of
  # being killed.
  # The export job also gets its database and tables (the password comes from `secrets`).
  export_environment = var.export == null ? {} : {
    EVENTLAKE_EXPORT_TO    = var.export.to
    EVENTLAKE_EXPORT_TABLE = join(",", var.export.tables)
  }
  task_environment = {
    for job, t in local.tasks : job => merge(
      { EVENTLAKE_MEMORY_LIMIT = "${floor(t.memory * 3 / 4)}MiB" },
      job == "export" ? local.export_environment : {},
    )
  }
  task_secrets = {
    for job, t in local.tasks : job => job == "export" && var.export != null ? [
      { name = "EVENTLAKE_EXPORT_PASSWORD", valueFrom = var.export.password_secret_arn }
    ] : []
  }

  # Every flag of the binary also reads an environment variable; these are the ones every job needs.
  environment = merge(
    {
      EVENTLAKE_LAKE             = var.lake_uri
      EVENTLAKE_SCHEMAS          = "/app/schemas"
      EVENTLAKE_MODELS           = "/app/models"
      EVENTLAKE_CONFIG           = "/app/eventlake.toml"
      EVENTLAKE_LOG_FORMAT       = "json"
      RUST_LOG                   = "info"
      EVENTLAKE_ATHENA_WORKGROUP = var.athena_workgroup_name
      EVENTLAKE_ATHENA_DATABASE  = var.glue_database_name
      TMPDIR                     = "/scratch"
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

# Spot capacity for the jobs in `spot_jobs`: an interrupted hourly run leaves no committed manifest,
# and the next schedule (or its retry) redoes the hour from scratch, so it may run at Spot prices.
resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
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
}

# Without VPC endpoints the tasks reach the AWS APIs over the internet (a NAT gateway, or a public IP).
resource "aws_vpc_security_group_egress_rule" "https_anywhere" {
  count = var.vpc_endpoints ? 0 : 1

  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to S3, Athena, Glue, ECR, CloudWatch Logs and STS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# The export job connects to its database (PostgreSQL or MySQL) on the port and networks it names.
resource "aws_vpc_security_group_egress_rule" "to_export_database" {
  for_each = var.export == null ? toset([]) : toset(var.export.cidr_blocks)

  security_group_id = aws_security_group.tasks.id
  description       = "The export job's database"
  ip_protocol       = "tcp"
  from_port         = var.export.port
  to_port           = var.export.port
  cidr_ipv4         = each.value
}

# --- VPC endpoints (optional): every API the tasks call, and egress to them only ----------------

locals {
  # ECR (API and image layers), logs (awslogs driver), STS (credentials), Athena and Glue (setup).
  interface_endpoints = var.vpc_endpoints ? toset(["ecr.api", "ecr.dkr", "logs", "sts", "athena", "glue"]) : toset([])
}

resource "aws_vpc_endpoint" "s3" {
  count = var.vpc_endpoints ? 1 : 0

  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.route_table_ids
}

resource "aws_security_group" "endpoints" {
  count = var.vpc_endpoints ? 1 : 0

  name        = "${var.name}-endpoints"
  description = "eventlake interface endpoints: HTTPS in from the tasks only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_tasks" {
  count = var.vpc_endpoints ? 1 : 0

  security_group_id            = aws_security_group.endpoints[0].id
  description                  = "HTTPS from the eventlake tasks"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.interface_endpoints

  vpc_id              = var.vpc_id
  service_name        = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = var.subnet_ids
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true
}

resource "aws_vpc_security_group_egress_rule" "to_interface_endpoints" {
  count = var.vpc_endpoints ? 1 : 0

  security_group_id            = aws_security_group.tasks.id
  description                  = "HTTPS to the interface endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints[0].id
}

resource "aws_vpc_security_group_egress_rule" "to_s3" {
  count = var.vpc_endpoints ? 1 : 0

  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to S3 through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3[0].prefix_list_id
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

# One task role per job, each allowed exactly what its code path calls: the policies are JSON
# templates in policies/<job>.json.tftpl, rendered here and loaded by the test that runs each job
# under its own policy against a local S3 server with IAM enforcement on. Bronze is never writable;
# the hourly job cannot touch gold or tables, the daily job cannot touch silver or tables, and only
# setup reaches Athena and Glue.
resource "aws_iam_role" "task" {
  for_each = local.tasks

  name               = "${var.name}-${each.key}"
  description        = "eventlake ${each.key} job"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

locals {
  policy_variables = {
    bucket_arn        = var.bucket_arn
    lake_prefix       = var.lake_prefix
    results_prefix    = var.athena_results_prefix
    kms_key_arn       = var.kms_key_arn
    region            = local.region
    workgroup_arn     = var.athena_workgroup_arn
    glue_catalog_arn  = var.glue_resource_arns[0]
    glue_database_arn = var.glue_resource_arns[1]
    glue_tables_arn   = var.glue_resource_arns[2]
  }
}

resource "aws_iam_role_policy" "task" {
  for_each = local.tasks

  name   = "${each.key}-access"
  role   = aws_iam_role.task[each.key].id
  policy = templatefile("${path.module}/policies/${each.key}.json.tftpl", local.policy_variables)
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
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.jobs.arn}:log-stream:*"]
  }

  # ECS reads the export database's password into the export task's environment at start.
  dynamic "statement" {
    for_each = var.export == null ? [] : [var.export.password_secret_arn]
    content {
      sid       = "ReadTheExportPassword"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
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
  task_role_arn            = aws_iam_role.task[each.key].arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # /scratch holds the daily job's spills: sized per job (Fargate's default is 20 GiB).
  dynamic "ephemeral_storage" {
    for_each = contains(keys(var.ephemeral_storage_gib), each.key) ? [var.ephemeral_storage_gib[each.key]] : []
    content {
      size_in_gib = ephemeral_storage.value
    }
  }

  # The root filesystem is read-only; scratch space (spills, temporary files) is this task volume,
  # mounted on the image's VOLUME /scratch so that it belongs to the job's user (uid 10001).
  volume {
    name = "scratch"
  }

  container_definitions = jsonencode([
    {
      name                   = local.container_name
      image                  = var.image
      essential              = true
      command                = each.value.command
      environment            = [for k, v in merge(local.environment, local.task_environment[each.key]) : { name = k, value = v }]
      secrets                = local.task_secrets[each.key]
      readonlyRootFilesystem = true
      privileged             = false
      mountPoints            = [{ sourceVolume = "scratch", containerPath = "/scratch", readOnly = false }]
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
    resources = concat([for job in keys(local.schedules) : aws_iam_role.task[job].arn], [aws_iam_role.execution.arn])
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

  # The universal ecs:runTask target, so the task gets the time it was scheduled for: a run that
  # starts late or is retried still computes "the previous hour" from it, not from its own clock.
  target {
    arn      = "arn:${local.partition}:scheduler:::aws-sdk:ecs:runTask"
    role_arn = aws_iam_role.scheduler.arn
    input = jsonencode({
      Cluster         = aws_ecs_cluster.this.arn
      TaskDefinition  = aws_ecs_task_definition.job[each.key].arn
      Count           = 1
      PlatformVersion = "LATEST"
      CapacityProviderStrategy = [{
        CapacityProvider = contains(var.spot_jobs, each.key) ? "FARGATE_SPOT" : "FARGATE"
        Weight           = 1
      }]
      EnableECSManagedTags = true
      PropagateTags        = "TASK_DEFINITION"
      Tags                 = [{ Key = "job", Value = each.key }]
      NetworkConfiguration = {
        AwsvpcConfiguration = {
          Subnets        = var.subnet_ids
          SecurityGroups = [aws_security_group.tasks.id]
          AssignPublicIp = var.assign_public_ip ? "ENABLED" : "DISABLED"
        }
      }
      Overrides = {
        ContainerOverrides = [{
          Name        = local.container_name
          Environment = [{ Name = "EVENTLAKE_SCHEDULED_TIME", Value = "<aws.scheduler.scheduled-time>" }]
        }]
      }
    })

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
