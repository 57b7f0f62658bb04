package rest_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/rest"
	"github.com/mlrun/mlrun/store/sqlite"
	"github.com/mlrun/mlrun/store/storetest"
)

// open serves a fresh SQLite store through an in-process mlrun server and
// returns the REST client of it.
func open(t *testing.T) store.Store {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "mlflow.db"), sqlite.Options{ArtifactRoot: "mlflow-artifacts:/"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(db, server.Options{
		Artifacts: local.New(filepath.Join(dir, "mlartifacts")),
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}))
	t.Cleanup(func() { srv.Close(); db.Close() })
	s, err := rest.Open(srv.URL, rest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open)
}
