// Package docker is the runner backend for projects with a docker_env: it
// runs the step in a container through the Docker Engine API (with API
// version negotiation, so an older daemon works).
//
// Without BuildImage the docker_env image runs as is, with the project
// folder mounted at /mlflow/projects/code/ as the working directory (MLflow
// runs the bare image and expects the code baked in). With BuildImage a
// derived image is built FROM that base with the project copied in, from a
// tar context made in Go, tagged <project name>:<content hash>; the hash
// covers every file of the project and the base image's id, so a second
// run of the same content on the same base finds the tag and builds
// nothing.
//
// The container reaches a tracking server on the host's loopback through
// a TCP forwarder the backend opens on the Docker bridge's gateway address
// for the run's lifetime (reachable from containers, not from outside the
// host); MLFLOW_TRACKING_URI is rewritten to it. A local artifact folder is
// mounted at the same path, as MLflow does.
package docker
