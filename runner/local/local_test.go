package local_test

import (
	"testing"

	"github.com/mlrun/mlrun/runner/local"
	"github.com/mlrun/mlrun/runner/runnertest"
)

// TestConformance runs the backends' suite on the local backend.
func TestConformance(t *testing.T) {
	runnertest.Run(t, runnertest.Config{Backend: local.Backend{}, HostPIDs: true})
}
