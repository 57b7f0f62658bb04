// Command mlrun-flavor-onnx serves mlrun's built-in onnx flavor as a plugin.
package main

import (
	"github.com/mlrun/mlrun/plugins/builtin/onnx"
	"github.com/mlrun/mlrun/plugins/flavor"
)

func main() { flavor.Serve(onnx.Flavor{}) }
