package postgres_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/registry/registrytest"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/postgres"
	"github.com/mlrun/mlrun/store/storetest"
)

// open returns a store on a new database of a real PostgreSQL server.
func open(t *testing.T) store.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), testutil.Postgres(t), postgres.Options{ArtifactRoot: filepath.Join(t.TempDir(), "mlruns")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open)
}

func TestRegistryConformance(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registrytest.Stores {
		s := open(t)
		return registrytest.Stores{Tracking: s, Registry: s.(registrytest.Registry)}
	})
}
