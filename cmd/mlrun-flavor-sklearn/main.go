// Command mlrun-flavor-sklearn serves mlrun's built-in sklearn flavor as a plugin.
package main

import (
	"github.com/mlrun/mlrun/plugins/builtin/sklearn"
	"github.com/mlrun/mlrun/plugins/flavor"
)

func main() { flavor.Serve(sklearn.Flavor{}) }
