// Command misbehave is a flavor plugin for tests that crashes or hangs
// mid-call: Inspect of a file named "crash" exits the process, of "hang"
// never returns, anything else answers normally.
package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/mlrun/mlrun/plugins/flavor"
)

type misbehave struct{}

func (misbehave) Describe(context.Context) (*flavor.Description, error) {
	return &flavor.Description{Name: "misbehave", Version: "0"}, nil
}

func (misbehave) Inspect(ctx context.Context, req *flavor.InspectRequest) (*flavor.Model, error) {
	switch filepath.Base(req.Path) {
	case "crash":
		os.Exit(3)
	case "hang":
		select {} // ignores ctx on purpose
	case "panic":
		panic("boom")
	}
	return &flavor.Model{Facts: map[string]string{"ok": "yes"}, ModelFile: "m"}, nil
}

func (m misbehave) Save(ctx context.Context, req *flavor.SaveRequest) (*flavor.SaveResponse, error) {
	return nil, flavor.ErrUnsupported
}

func main() { flavor.Serve(misbehave{}) }
