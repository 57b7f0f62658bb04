// Package plugins is the host side of flavor plugins: it finds flavor
// executables (mlrun-flavor-<name> in $MLRUN_PLUGIN_PATH, ~/.mlrun/plugins,
// beside the mlrun executable, or on PATH; the built-in flavors are also
// served by mlrun itself), starts them through hashicorp/go-plugin, checks
// the protocol version and optionally a pinned SHA-256 of the binary, and
// wraps every call with a timeout. A plugin that crashes or hangs is an
// error that names the flavor and the call; it never takes mlrun down.
package plugins
