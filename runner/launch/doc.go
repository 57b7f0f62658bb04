// Package launch runs MLflow projects as tracked runs: it resolves the
// project (package project), creates the run with MLflow's automatic tags,
// logs the parameters, hands the step MLFLOW_TRACKING_URI, MLFLOW_RUN_ID
// and MLFLOW_EXPERIMENT_ID (serving a local store on a loopback port with
// the handler Request.Serve gives, so this package does not import the
// server), prepares the environment (local, virtualenv, conda), starts the
// step on a runner.Backend, keeps its output as a run artifact, and ends
// the run FINISHED, FAILED or KILLED. No run is left RUNNING: every way
// out of Execute after the run is created ends it, and Reap ends the runs
// of an mlrun that died.
package launch
