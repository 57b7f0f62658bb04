// Package builtin lists the flavors built into mlrun, in one place (as
// Caddy's standard modules): each is also served as its own executable
// (cmd/mlrun-flavor-<name>) and by `mlrun __flavor <name>`.
package builtin
