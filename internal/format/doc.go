// Package format holds the few formatting rules the CLI, the UI and the
// model server share: numbers as MLflow and Python print them, and
// Python's repr of simple values for messages copied from MLflow.
package format
