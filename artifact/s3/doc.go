// Package s3 is the artifact repository of an S3-compatible bucket
// (s3://bucket/prefix), configured as MLflow configures boto3: the AWS
// credential environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN, then ~/.aws/credentials, then the instance's role),
// AWS_DEFAULT_REGION, MLFLOW_S3_ENDPOINT_URL for another S3 service,
// MLFLOW_S3_IGNORE_TLS and AWS_CA_BUNDLE.
//
// It is built on minio-go: one module with few dependencies, streaming
// multipart uploads of unknown length with one part in memory, presigned
// part URLs for MLflow's proxied multipart upload, and path-style
// addressing for non-AWS endpoints (as boto3 with an endpoint URL).
//
// Every key is the repository's prefix joined to a path that passed
// artifact.CleanPath: no '..', no absolute path, no key outside the
// prefix, whatever the caller sends.
package s3
