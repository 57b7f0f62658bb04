package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/server"
)

// TestDBCommands: current, upgrade (on a copy of the database MLflow
// 2.17.2 wrote), init at MLflow 2.17.2's revision, and backup.
func TestDBCommands(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../../../shared/testdata/mlflow-2.17.2/mlflow.db")
	if err != nil {
		t.Fatalf("the MLflow 2.17.2 fixture is missing: %v", err)
	}
	db := filepath.Join(dir, "mlflow.db")
	os.WriteFile(db, b, 0o644)
	uri := "sqlite:///" + db
	if out := mustRun(t, "db", "current", uri); !strings.HasPrefix(out, "f5a4f2784254 ") {
		t.Fatalf("current: %q", out)
	}
	if out := mustRun(t, "db", "upgrade", uri); !strings.Contains(out, "from revision f5a4f2784254 to bf29a5ff90ea") {
		t.Fatalf("upgrade: %q", out)
	}
	if out := mustRun(t, "db", "current", uri); !strings.HasPrefix(out, "bf29a5ff90ea ") {
		t.Fatalf("current after upgrade: %q", out)
	}
	if out := mustRun(t, "runs", "get", "--run-id", "7350075c2b7d4c8aa8fff1ab467f84c0", "--tracking-uri", uri); !strings.Contains(out, "elasticnet-0") {
		t.Fatalf("a run after the upgrade: %q", out)
	}
	old := filepath.Join(dir, "old.db")
	if out := mustRun(t, "db", "init", "--revision", "f5a4f2784254", "sqlite:///"+old); !strings.Contains(out, "at revision f5a4f2784254") {
		t.Fatalf("init: %q", out)
	}
	if _, err := mlrun(t, "db", "init", "sqlite:///"+old); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("init over an existing file: %v", err)
	}
	if _, err := mlrun(t, "db", "current", "sqlite:///"+filepath.Join(dir, "none.db")); err == nil {
		t.Fatal("current of a missing database created it")
	}
	dest := filepath.Join(dir, "backup.db")
	if out := mustRun(t, "db", "backup", "--tracking-uri", uri, dest); !strings.Contains(out, "Backed up") {
		t.Fatalf("backup: %q", out)
	}
	if out := mustRun(t, "runs", "get", "--run-id", "7350075c2b7d4c8aa8fff1ab467f84c0", "--tracking-uri", "sqlite:///"+dest); !strings.Contains(out, "elasticnet-0") {
		t.Fatalf("a run in the backup: %q", out)
	}
}

// TestModelsDownloadLoggedModel: 'mlrun models download models:/<model_id>'
// and a registered version whose source is one, on a copy of the MLflow
// 3.6 database and its artifacts served by an mlrun server.
func TestModelsDownloadLoggedModel(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../../../shared/testdata/mlflow-3.6/mlflow.db")
	if err != nil {
		t.Fatalf("the MLflow 3.6 fixture is missing: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "mlflow.db"), b, 0o644)
	art := filepath.Join(dir, "mlartifacts")
	if out, err := exec.Command("cp", "-r", "../../../shared/testdata/mlflow-3.6/mlartifacts", art).CombinedOutput(); err != nil {
		t.Fatalf("copy artifacts: %v %s", err, out)
	}
	st, err := openStore(context.Background(), "sqlite:///"+filepath.Join(dir, "mlflow.db"), "mlflow-artifacts:/")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(server.New(st, server.Options{Artifacts: local.New(art), ArtifactRoots: []string{art}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	for _, uri := range []string{"models:/m-bd2ded587a44407892455c38615f9805", "models:/m/1", "models:/m@challenger"} {
		dst := t.TempDir()
		if out := mustRun(t, "models", "download", "--tracking-uri", srv.URL, "--dst-path", dst, uri); !strings.Contains(out, "MLmodel") && out == "" {
			t.Fatalf("download %s: %q", uri, out)
		}
		if _, err := os.Stat(filepath.Join(dst, "MLmodel")); err != nil {
			files, _ := os.ReadDir(dst)
			t.Fatalf("download %s: no MLmodel in %s (%v)", uri, dst, files)
		}
	}
}
