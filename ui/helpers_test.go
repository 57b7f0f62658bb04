package ui_test

import "github.com/mlrun/mlrun/registry"

func registryVersion(name, source, runID string) registry.CreateVersion {
	return registry.CreateVersion{Name: name, Source: source, RunID: runID}
}
