output "key_arn" {
  description = "ARN of the key; pass it to every module that encrypts."
  value       = aws_kms_key.this.arn
}

output "alias" {
  description = "alias/<name>"
  value       = aws_kms_alias.this.name
}
