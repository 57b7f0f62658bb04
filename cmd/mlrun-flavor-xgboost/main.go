// Command mlrun-flavor-xgboost serves mlrun's built-in xgboost flavor as a plugin.
package main

import (
	"github.com/mlrun/mlrun/plugins/builtin/xgboost"
	"github.com/mlrun/mlrun/plugins/flavor"
)

func main() { flavor.Serve(xgboost.Flavor{}) }
