// Package rest is the tracking store as a client of a remote
// MLflow-compatible tracking server (mlrun server, or MLflow's own), over
// MLflow's REST API, so commands behave the same with sqlite:/// and
// http:// tracking URIs. Remote errors come back as the store error kinds:
// RESOURCE_DOES_NOT_EXIST is store.ErrNotFound again on this side.
//
// Credentials come from MLflow's environment variables:
// MLFLOW_TRACKING_TOKEN (bearer), MLFLOW_TRACKING_USERNAME and
// MLFLOW_TRACKING_PASSWORD (basic), MLFLOW_TRACKING_INSECURE_TLS=true.
package rest
