output "stream_name" {
  description = "Kinesis data stream producers write to."
  value       = aws_kinesis_stream.events.name
}

output "stream_arn" {
  description = "ARN of the Kinesis data stream."
  value       = aws_kinesis_stream.events.arn
}

output "delivery_stream_name" {
  description = "Firehose delivery stream writing bronze."
  value       = aws_kinesis_firehose_delivery_stream.bronze.name
}

output "producer_policy_arn" {
  description = "IAM policy to attach to producers (PutRecord/PutRecords on the stream)."
  value       = aws_iam_policy.producer.arn
}
