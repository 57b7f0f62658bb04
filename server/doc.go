// Package server is mlrun's tracking server: MLflow's REST API under
// /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/ (MLflow 3's traces,
// assessments, scorers and evaluation datasets under /api/3.0/mlflow/),
// the artifact proxy under /api/2.0/mlflow-artifacts/, OpenTelemetry's
// OTLP/HTTP trace export at /v1/traces, /health and /version. It speaks MLflow's
// JSON conventions (see internal/wire) so MLflow's own clients work
// against it unchanged.
//
// One file per endpoint group (experiments.go, runs.go, metrics.go,
// artifacts.go, scorers.go, evaldatasets.go, …); request decoding in request.go; errors.go is the one
// place that maps error kinds to MLflow's error_code and HTTP status. The
// server holds no state of its own beyond the store.Store and the artifact
// destination it is given.
package server
