// Package runner runs MLflow projects as tracked runs: it resolves the
// project (package project), creates the run with MLflow's automatic tags,
// logs the parameters, hands the step MLFLOW_TRACKING_URI, MLFLOW_RUN_ID
// and MLFLOW_EXPERIMENT_ID (serving a local store on a loopback port),
// prepares the environment (local, virtualenv, conda), starts the step on
// a Backend, keeps its output as a run artifact, and ends the run
// FINISHED, FAILED or KILLED. No run is left RUNNING: every way out of
// Execute after the run is created ends it.
//
// Backends live in child packages (runner/local, runner/docker) and only
// run a prepared Job; they know nothing about tracking.
package runner
