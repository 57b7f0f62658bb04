// Package artifact holds the artifact Repository contract, the path-safety
// rule every repository applies (CleanPath), and its error kinds.
// Implementations live in child packages: artifact/local (a folder on
// disk, confined with os.Root so neither '..' nor a symlink reaches
// outside it) and artifact/proxied (a server's mlflow-artifacts API).
package artifact
