package testutil

import (
	"context"
	"testing"

	"github.com/mlrun/mlrun/store/sqlite"
)

// NewMLflow3DB creates an mlrun database at path (new experiments under
// artifactRoot, "" for ./mlruns): MLflow 3.6's schema, with the logged
// model tables, as every new mlrun database has.
func NewMLflow3DB(t testing.TB, path, artifactRoot string) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{ArtifactRoot: artifactRoot})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
}
