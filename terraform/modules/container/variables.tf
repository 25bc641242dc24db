variable "name" {
  description = "Repository name, e.g. eventlake-staging."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key encrypting the image layers."
  type        = string
}

variable "keep_images" {
  description = "Tagged images kept; older ones expire. Keep more than the number of deploys you may roll back over."
  type        = number
  default     = 50
}
