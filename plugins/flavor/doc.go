// Package flavor is the SDK for mlrun flavor plugins: programs named
// mlrun-flavor-<name> that read model files of one kind (a "flavor", as
// MLflow calls sklearn, xgboost, onnx) without running them, write MLflow
// model directories for them, and may serve them.
//
// # Writing a flavor
//
// Implement Flavor:
//
//	type myFlavor struct{}
//
//	func (myFlavor) Describe(ctx context.Context) (*flavor.Description, error) {
//		return &flavor.Description{Name: "myformat", Version: "0.1.0", FilePatterns: []string{"*.myf"}}, nil
//	}
//
//	func (myFlavor) Inspect(ctx context.Context, req *flavor.InspectRequest) (*flavor.Model, error) {
//		// Read req.Path. Never execute it. A file that is not yours, or
//		// is broken, is flavor.Invalid("why").
//		return &flavor.Model{
//			ModelFile: "model.myf",
//			Flavor:    map[string]any{"data": "model.myf", "myformat_version": "1.2"},
//			Facts:     map[string]string{"layers": "3"},
//			Requirements: []string{"myformat==1.2"},
//		}, nil
//	}
//
//	func (f myFlavor) Save(ctx context.Context, req *flavor.SaveRequest) (*flavor.SaveResponse, error) {
//		return flavor.SaveModel(ctx, f, req) // inspect, copy the file, write MLmodel and the env files
//	}
//
// A requirement the file cannot pin is written bare ("myformat"): Save
// gets the logging environment's installed versions (req.Installed) and
// Python version, and SaveModel pins bare requirements to them.
//
// Then serve it from main:
//
//	func main() { flavor.Serve(myFlavor{}) }
//
// Build it as mlrun-flavor-myformat and put it in $MLRUN_PLUGIN_PATH,
// ~/.mlrun/plugins or on PATH; `mlrun models inspect --flavor myformat FILE`
// runs it.
//
// # Serving
//
// A flavor may also implement Predictor (the protocol's optional
// Predict): LoadPredictor loads a saved model folder once and returns a
// Session whose Predict answers batches of rows with predictions as JSON;
// `mlrun models serve` then serves the flavor's models over MLflow's
// scoring protocol. A flavor without it answers UNIMPLEMENTED.
//
// # Testing a flavor
//
// plugintest.Client returns a Flavor that drives yours through the real
// gRPC shim in process (go-plugin's TestPluginGRPCConn), so a test sees
// exactly what mlrun sees.
//
// # The protocol
//
// Flavors speak gRPC through hashicorp/go-plugin; the .proto is
// plugins/internal/proto/flavorv1/flavor.proto, versioned with Handshake's
// ProtocolVersion. This package imports nothing of mlrun's store, server
// or runner, so it can become its own module.
package flavor
