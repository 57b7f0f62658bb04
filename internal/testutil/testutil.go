package testutil

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/runner/launch"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/postgres"
	"github.com/mlrun/mlrun/store/sqlite"
)

// SQLiteStore opens a new SQLite store in tb.TempDir() (mlflow.db) with a
// local artifact root beside it, returned as the second value; it is
// closed by tb.Cleanup.
func SQLiteStore(tb testing.TB) (*sqlite.Store, string) {
	tb.Helper()
	dir := tb.TempDir()
	root := filepath.Join(dir, "mlruns")
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "mlflow.db"), sqlite.Options{ArtifactRoot: root})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st, root
}

// PostgresStore opens a store on a new database of the test PostgreSQL
// server (Postgres), and a connection pool to that database taking '?'
// placeholders (postgres.OpenDB); both are closed by tb.Cleanup.
func PostgresStore(tb testing.TB) (*postgres.Store, *sql.DB) {
	tb.Helper()
	uri := Postgres(tb)
	st, err := postgres.Open(context.Background(), uri, postgres.Options{ArtifactRoot: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	db, err := postgres.OpenDB(uri)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return st, db
}

// FullStore is a tracking store with everything SQL stores have: the
// registry, MLflow 3's logged models, traces, assessments, scorers and
// evaluation datasets (SQLite's and PostgreSQL's).
type FullStore interface {
	store.Store
	store.LoggedModels
	store.Traces
	store.Assessments
	store.Scorers
	store.EvaluationDatasets
	registry.Store
}

// Server is an in-process mlrun server over a SQLite file (or another
// store: StartServerOn).
type Server struct {
	URL       string    // http://127.0.0.1:port
	Store     FullStore // the store it serves
	Artifacts string    // the proxy's destination folder ("" if not serving)
	Dir       string    // the temporary folder holding both
}

// StartServer serves a new SQLite store (artifact root mlflow-artifacts:/)
// on a loopback port; with serveArtifacts the proxy stores files in
// Dir/mlartifacts. Each option function may change the server's options
// before it starts (e.g. StaticPrefix).
func StartServer(t testing.TB, serveArtifacts bool, options ...func(*server.Options)) *Server {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "mlflow.db"), sqlite.Options{ArtifactRoot: "mlflow-artifacts:/"})
	if err != nil {
		t.Fatal(err)
	}
	return StartServerOn(t, st, dir, serveArtifacts, options...)
}

// StartPostgresServer is StartServer on a new PostgreSQL database
// (Postgres).
func StartPostgresServer(t testing.TB, serveArtifacts bool, options ...func(*server.Options)) *Server {
	t.Helper()
	st, err := postgres.Open(context.Background(), Postgres(t), postgres.Options{ArtifactRoot: "mlflow-artifacts:/"})
	if err != nil {
		t.Fatal(err)
	}
	return StartServerOn(t, st, t.TempDir(), serveArtifacts, options...)
}

// StartServerOn serves st (closed with the server), keeping proxied
// artifacts in dir/mlartifacts when serveArtifacts.
func StartServerOn(t testing.TB, st FullStore, dir string, serveArtifacts bool, options ...func(*server.Options)) *Server {
	t.Helper()
	s := &Server{Store: st, Dir: dir}
	opts := server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if serveArtifacts {
		s.Artifacts = filepath.Join(dir, "mlartifacts")
		opts.Artifacts = local.New(s.Artifacts)
		opts.ArtifactRoots = []string{s.Artifacts}
	}
	for _, o := range options {
		o(&opts)
	}
	srv := httptest.NewServer(server.New(st, opts))
	t.Cleanup(func() { srv.Close(); st.Close() })
	s.URL = srv.URL
	return s
}

// ServeRun is what cmd gives launch.Request.Serve: the tracking server as
// a run's loopback server.
func ServeRun(l launch.Loopback) http.Handler {
	return server.ForRun(l.Store, l.Root, l.Roots, l.Token)
}

// LogHistory logs n points of metric key into run (step i: value
// 1/(i+1), timestamp i), in batches of 1,000.
func LogHistory(tb testing.TB, st store.Store, runID, key string, n int) {
	tb.Helper()
	ms := make([]store.Metric, 0, 1000)
	for i := 0; i < n; i++ {
		ms = append(ms, store.Metric{Key: key, Value: 1 / float64(i+1), Timestamp: int64(i), Step: int64(i)})
		if len(ms) == cap(ms) || i == n-1 {
			if err := st.LogBatch(context.Background(), runID, ms, nil, nil); err != nil {
				tb.Fatal(err)
			}
			ms = ms[:0]
		}
	}
}

// RunTags reads run id from st, with its tags as a map.
func RunTags(t testing.TB, st store.Store, id string) (*store.Run, map[string]string) {
	t.Helper()
	r, err := st.GetRun(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, tg := range r.Tags {
		tags[tg.Key] = tg.Value
	}
	return r, tags
}
