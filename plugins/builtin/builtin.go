package builtin

import (
	"sort"

	"github.com/mlrun/mlrun/plugins/builtin/onnx"
	"github.com/mlrun/mlrun/plugins/builtin/sklearn"
	"github.com/mlrun/mlrun/plugins/builtin/xgboost"
	"github.com/mlrun/mlrun/plugins/flavor"
)

// Flavors are the built-in flavors by name.
var Flavors = map[string]flavor.Flavor{
	"sklearn": sklearn.Flavor{},
	"xgboost": xgboost.Flavor{},
	"onnx":    onnx.Flavor{},
}

// Names returns the built-in flavor names, sorted.
func Names() []string {
	var out []string
	for n := range Flavors {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
