// Command mlrun is the MLflow platform in one Go binary.
//
// Commands (flags follow their mlflow counterparts):
//
//	mlrun server        the tracking server (MLflow's REST API, artifact proxy)
//	mlrun experiments   create | list | get | rename | delete | restore
//	mlrun runs          list | get | delete | restore
//	mlrun log           param | metric | tag | artifact, into $MLFLOW_RUN_ID
//
// Every command that reads or writes tracking data takes --tracking-uri,
// else $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db in the working
// directory. Tracking URIs:
//
//	sqlite:///rel/path.db, sqlite:////abs/path.db   the embedded store (MLflow's schema)
//	http://host:port, https://host:port             a remote MLflow-compatible server
//
// This package is the only place that turns a URI into a store.
package main
