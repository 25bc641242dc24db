#!/usr/bin/env bash
# Runs one Fargate task to completion and fails unless its container exits 0. Terraform calls it to
# run `eventlake setup --execute` on deploy; it also works by hand with the same variables:
#   CLUSTER TASK_DEFINITION SUBNETS (comma-separated) SECURITY_GROUP ASSIGN_PUBLIC_IP [LOG_GROUP]
set -euo pipefail

: "${CLUSTER:?}" "${TASK_DEFINITION:?}" "${SUBNETS:?}" "${SECURITY_GROUP:?}" "${ASSIGN_PUBLIC_IP:=DISABLED}"
command -v aws >/dev/null || {
  echo "run-task.sh: the AWS CLI is needed to run setup on deploy (or set run_setup_on_apply = false and run it by hand)" >&2
  exit 1
}

network="awsvpcConfiguration={subnets=[${SUBNETS}],securityGroups=[${SECURITY_GROUP}],assignPublicIp=${ASSIGN_PUBLIC_IP}}"
read -r task failure < <(aws ecs run-task \
  --cluster "$CLUSTER" \
  --task-definition "$TASK_DEFINITION" \
  --launch-type FARGATE \
  --network-configuration "$network" \
  --started-by terraform \
  --query '[tasks[0].taskArn, failures[0].reason]' \
  --output text)
if [ -z "$task" ] || [ "$task" = "None" ]; then
  echo "run-task.sh: ECS did not start the task: ${failure:-unknown reason}" >&2
  exit 1
fi
echo "run-task.sh: started $task"

# `aws ecs wait tasks-stopped` gives up after 10 minutes; keep waiting up to an hour.
for _ in 1 2 3 4 5 6; do
  if aws ecs wait tasks-stopped --cluster "$CLUSTER" --tasks "$task" 2>/dev/null; then break; fi
  echo "run-task.sh: still running"
done

read -r status code reason < <(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$task" \
  --query 'tasks[0].[lastStatus, containers[0].exitCode, stoppedReason]' --output text)
if [ "$status" != "STOPPED" ] || [ "$code" != "0" ]; then
  echo "run-task.sh: $task: status $status, exit code $code: $reason" >&2
  [ -n "${LOG_GROUP:-}" ] && echo "run-task.sh: logs: aws logs tail $LOG_GROUP --since 1h" >&2
  exit 1
fi
echo "run-task.sh: $task exited 0"
