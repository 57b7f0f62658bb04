// Package runner is the contract between a run of an MLflow project and
// the place its step runs: a Backend starts a prepared Job and returns a
// Handle to wait for its Result; a Preparer checks what it can before the
// run exists. It also holds the error kinds every backend returns
// (ErrInvalid, ErrBackendUnavailable). It imports nothing of mlrun's.
//
// Backends live in child packages (runner/local, runner/docker) and only
// run a prepared Job; they know nothing about tracking. The orchestration
// of a run (project, tags, parameters, environment, loopback server, the
// step's log, the run's end) is runner/launch's.
package runner
