output "workgroup_name" {
  description = "Athena workgroup; the jobs get it as EVENTLAKE_ATHENA_WORKGROUP."
  value       = aws_athena_workgroup.lake.name
}

output "workgroup_arn" {
  description = "ARN of the workgroup (the task role may use this one only)."
  value       = aws_athena_workgroup.lake.arn
}

output "database_name" {
  description = "Glue database; the jobs get it as EVENTLAKE_ATHENA_DATABASE."
  value       = aws_glue_catalog_database.lake.name
}

output "glue_resource_arns" {
  description = "Catalog, database and table ARNs of the database, for IAM."
  value = [
    "${local.glue_prefix}:catalog",
    "${local.glue_prefix}:database/${aws_glue_catalog_database.lake.name}",
    "${local.glue_prefix}:table/${aws_glue_catalog_database.lake.name}/*",
  ]
}

output "results_location" {
  description = "Where the workgroup writes query results."
  value       = "s3://${var.results_bucket}/${var.results_prefix}/"
}
