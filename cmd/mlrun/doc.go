// Command mlrun is the MLflow platform in one Go binary.
//
// Commands (flags follow their mlflow counterparts):
//
//	mlrun run           an MLflow project (folder or git), local, --backend docker or kubernetes
//	mlrun server        the tracking server (MLflow's REST API, artifact proxy, UI;
//	                    --app-name basic-auth for users and permissions)
//	mlrun experiments   create | list | get | rename | delete | restore
//	mlrun runs          list | get | delete | restore
//	mlrun log           param | metric | tag | artifact, into $MLFLOW_RUN_ID
//	mlrun models        register | list | get | versions | transition | alias | tag |
//	                    download | inspect | log (flavor plugins)
//	mlrun db            current | upgrade | init | backup | import-filestore
//	mlrun gc            remove deleted runs and experiments for good
//	mlrun users         create | get | update-password | update-admin | delete
//	mlrun permissions   create | get | update | delete (experiments, models)
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
