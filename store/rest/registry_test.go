package rest_test

import (
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/registry/registrytest"
	"github.com/mlrun/mlrun/store/rest"
)

func TestRegistryConformance(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registrytest.Stores {
		s, err := rest.Open(testutil.StartServer(t, true).URL, rest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return registrytest.Stores{Tracking: s, Registry: s}
	})
}
