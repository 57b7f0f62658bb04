// Package kubernetes is the runner backend that runs a project's step as
// a Kubernetes Job (`mlrun run -b kubernetes`), as MLflow's kubernetes
// backend does: the project is built into an image FROM its docker_env
// image (runner/docker's build, tagged repository-uri:<content hash>),
// pushed unless the cluster has it, and run by a Job made from the
// user's template (kube-job-template-path). The backend streams the
// pod's log, ends with the Job's conditions, fails a pod that cannot be
// scheduled or started in bounded time, and deletes the Job with its pods
// when the run is stopped.
package kubernetes
