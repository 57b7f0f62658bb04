// Package project reads MLflow projects: the MLproject file (name, entry
// points with typed parameters and command templates, python_env,
// conda_env, docker_env), projects without one (a .py or .sh entry point),
// and renders an entry point's command exactly as MLflow renders it
// (Python str.format templates, shlex quoting, undeclared -P values
// appended as --key value, path parameters made absolute).
//
// Values are Python-compatible strings: defaults are read with YAML 1.1
// rules as PyYAML reads them and stringified as Python's str() would
// (0.1, 1.0, 1e-05, True), so that the same string is logged as a param
// and passed to the step.
//
// Sources (source.go) fetch a project: a local folder, or a git
// repository through go-git with a clone cache. Nothing here creates runs
// or starts processes; the runner does.
package project
