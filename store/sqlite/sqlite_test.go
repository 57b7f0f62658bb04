package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
	"github.com/mlrun/mlrun/store/storetest"
)

// open returns a store on a new SQLite file in t.TempDir().
func open(t *testing.T) store.Store {
	t.Helper()
	dir := t.TempDir()
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "mlflow.db"), sqlite.Options{ArtifactRoot: filepath.Join(dir, "mlruns")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open)
}

func TestCollectorConformance(t *testing.T) {
	storetest.RunCollector(t, open)
}

// TestOpenNewFileConcurrently: processes (here, stores) opening the same
// new file at once all succeed; one creates the schema.
func TestOpenNewFileConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			s, err := sqlite.Open(context.Background(), path, sqlite.Options{ArtifactRoot: t.TempDir()})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("open a new file concurrently: %v", err)
		}
	}
}
