package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
