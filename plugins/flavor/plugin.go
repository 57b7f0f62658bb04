package flavor

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/mlrun/mlrun/plugins/internal/proto/flavorv1"
)

// ProtocolVersion is the flavor protocol's version (flavorv1).
const ProtocolVersion = 1

// Handshake is shared by mlrun and every flavor: a plugin built for
// another protocol version is refused with a clear message.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "MLRUN_FLAVOR_PLUGIN",
	MagicCookieValue: "c5f1e2a0-flavor-plugin",
}

// PluginName is the key of the flavor in go-plugin's plugin map.
const PluginName = "flavor"

// GRPCPlugin is the go-plugin glue: Impl is set on the plugin side.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Flavor
}

// PluginMap is the map of plugins a flavor serves.
func PluginMap(f Flavor) map[string]plugin.Plugin {
	return map[string]plugin.Plugin{PluginName: &GRPCPlugin{Impl: f}}
}

// GRPCServer registers the flavor's gRPC service (plugin side).
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	flavorv1.RegisterFlavorServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient returns a Flavor that calls the plugin (host side).
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(c), nil
}

// Serve serves f as a plugin; call it from main. It does not return.
func Serve(f Flavor) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         PluginMap(f),
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
