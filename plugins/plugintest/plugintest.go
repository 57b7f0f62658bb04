package plugintest

import (
	"testing"

	"github.com/hashicorp/go-plugin"

	"github.com/mlrun/mlrun/plugins/flavor"
)

// Client returns f served over an in-process gRPC connection.
func Client(t testing.TB, f flavor.Flavor) flavor.Flavor {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, flavor.PluginMap(f))
	// Closing the client shuts the server down through go-plugin's controller;
	// stopping it here too would race with that.
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(flavor.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(flavor.Flavor)
}
