package sqlite_test

import (
	"testing"

	"github.com/mlrun/mlrun/registry/registrytest"
)

func TestRegistryConformance(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registrytest.Stores {
		s := open(t)
		return registrytest.Stores{Tracking: s, Registry: s.(registrytest.Registry)}
	})
}

func TestWebhooks(t *testing.T) {
	registrytest.RunWebhooks(t, func(t *testing.T) registrytest.Stores {
		s := open(t)
		return registrytest.Stores{Tracking: s, Registry: s.(registrytest.Registry)}
	})
}
