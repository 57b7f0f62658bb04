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

// TestTryExclusive: two stores (two servers) on one database: while one
// runs under a name, the other's TryExclusive does not run; afterwards it
// does.
func TestTryExclusive(t *testing.T) {
	uri := testutil.Postgres(t)
	ctx := context.Background()
	var stores [2]*postgres.Store
	for i := range stores {
		s, err := postgres.Open(ctx, uri, postgres.Options{ArtifactRoot: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan bool)
	go func() {
		ran, err := stores[0].TryExclusive(ctx, "reaper", func() error { close(inside); <-release; return nil })
		if err != nil {
			t.Error(err)
		}
		done <- ran
	}()
	<-inside
	ran, err := stores[1].TryExclusive(ctx, "reaper", func() error { return nil })
	if err != nil || ran {
		t.Fatalf("a second process ran under a held lock: ran=%v err=%v", ran, err)
	}
	if ran, err := stores[1].TryExclusive(ctx, "another", func() error { return nil }); err != nil || !ran {
		t.Fatalf("another name is free: ran=%v err=%v", ran, err)
	}
	close(release)
	if !<-done {
		t.Fatal("the first did not run")
	}
	if ran, err := stores[1].TryExclusive(ctx, "reaper", func() error { return nil }); err != nil || !ran {
		t.Fatalf("after release: ran=%v err=%v", ran, err)
	}
}
