// Package proxied is the artifact Repository behind a tracking server's
// artifact proxy (/api/2.0/mlflow-artifacts/artifacts/...): MLflow's
// mlflow-artifacts:/ scheme. Uploads and downloads stream.
package proxied
