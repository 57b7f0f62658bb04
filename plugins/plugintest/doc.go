// Package plugintest runs a Flavor through the real gRPC shim in process
// (go-plugin's TestPluginGRPCConn), so a flavor's tests see exactly what
// mlrun sees across the process boundary: the same encoding, the same
// error codes.
package plugintest
