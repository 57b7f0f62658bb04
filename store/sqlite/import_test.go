package sqlite_test

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/file"
	"github.com/mlrun/mlrun/store/sqlite"
)

// copyTree copies the read-only fixture into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestImportsMLflowFileStore reads the file store MLflow 2.17.2 wrote
// (shared/testdata, copied) and imports it into a new SQLite database.
func TestImportsMLflowFileStore(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	copyTree(t, filepath.Join("..", "..", "..", "shared", "testdata", "mlflow-2.17.2", "filestore", "mlruns"), root)
	snap, err := file.Read(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stats, err := s.Import(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Experiments != 1 || stats.Runs != 1 || stats.Points != 4 || stats.Models != 1 || stats.Versions != 1 {
		t.Fatalf("stats %+v", stats)
	}
	e, err := s.GetExperiment(ctx, "960000870881090086")
	if err != nil || e.Name != "file-store-exp" {
		t.Fatalf("experiment %+v %v", e, err)
	}
	r, err := s.GetRun(ctx, "9399d0b10cd649a8b2cc8fd4b1e0ffcf")
	if err != nil {
		t.Fatal(err)
	}
	p := map[string]string{}
	for _, kv := range r.Params {
		p[kv.Key] = kv.Value
	}
	if r.Info.RunName != "fs-run" || r.Info.Status != store.StatusFinished || p["alpha"] != "0.5" || p["path/like"] != "x" {
		t.Fatalf("run %+v params %v", r.Info, p)
	}
	if v, _ := r.Tag("team"); v != "ml" {
		t.Fatalf("team tag %q", v)
	}
	h, _, _ := s.GetMetricHistory(ctx, r.Info.RunID, "loss", 0, "")
	if len(h) != 3 || h[2].Step != 2 || math.Abs(h[2].Value-1.0/3) > 1e-12 {
		t.Fatalf("loss %v", h)
	}
	nan, _, _ := s.GetMetricHistory(ctx, r.Info.RunID, "nanval", 0, "")
	if len(nan) != 1 || !math.IsNaN(nan[0].Value) {
		t.Fatalf("nanval %v", nan)
	}
	v, err := s.GetVersionByAlias(ctx, "fs-model", "best")
	if err != nil || v.Version != "1" || v.Source != "runs:/9399d0b10cd649a8b2cc8fd4b1e0ffcf/docs" || v.RunID != r.Info.RunID {
		t.Fatalf("fs-model@best %+v %v", v, err)
	}
	// A second import clashes and writes nothing.
	if _, err := s.Import(ctx, snap); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("second import: %v", err)
	}
}
