output "bucket_name" {
  description = "The lake bucket."
  value       = aws_s3_bucket.lake.id
}

output "bucket_arn" {
  description = "ARN of the lake bucket."
  value       = aws_s3_bucket.lake.arn
}

output "lake_prefix" {
  description = "Folder of the lake root inside the bucket."
  value       = var.lake_prefix
}

output "lake_uri" {
  description = "The jobs' EVENTLAKE_LAKE: s3://<bucket>/<lake_prefix>."
  value       = "s3://${aws_s3_bucket.lake.id}/${var.lake_prefix}"
}

output "bronze_prefix" {
  description = "Key prefix Firehose writes arrival hours under (with trailing slash)."
  value       = "${var.lake_prefix}/bronze/"
}

output "athena_results_prefix" {
  description = "Folder for Athena query results."
  value       = var.athena_results_prefix
}

output "firehose_errors_prefix" {
  description = "Folder for Firehose error output (with trailing slash)."
  value       = "${var.firehose_errors_prefix}/"
}
