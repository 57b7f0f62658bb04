package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDoctor: mlrun doctor names the versions, the URIs without their
// passwords, the database's revision and the MLFLOW_ variables, hiding
// credentials always and every value with --mask-envs.
func TestDoctor(t *testing.T) {
	uri := trackingURIs(t)["sqlite"]
	t.Setenv("MLFLOW_TRACKING_URI", uri)
	t.Setenv("MLFLOW_REGISTRY_URI", "postgresql://ml:hunter2@db:5432/reg")
	t.Setenv("MLFLOW_TRACKING_PASSWORD", "hunter2")
	t.Setenv("MLFLOW_EXPERIMENT_NAME", "wine")
	out := mustRun(t, "doctor")
	for _, want := range []string{"Go version: go", "mlrun version: ", "speaks MLflow", "Tracking URI: " + uri, "Registry URI: postgresql://ml@db:5432/reg",
		"Database: MLflow revision bf29a5ff90ea", "MLFLOW_EXPERIMENT_NAME: wine", "MLFLOW_TRACKING_PASSWORD: *** (hidden: a credential)"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("doctor shows a password:\n%s", out)
	}
	if out := mustRun(t, "doctor", "--mask-envs"); !strings.Contains(out, "MLFLOW_EXPERIMENT_NAME: ***") || strings.Contains(out, "wine") {
		t.Errorf("--mask-envs:\n%s", out)
	}
	if out := mustRun(t, "doctor", "--tracking-uri", "sqlite:///"+filepath.Join(t.TempDir(), "typo.db")); !strings.Contains(out, "Database: unable to open database file") {
		t.Errorf("a missing database:\n%s", out)
	}
}
