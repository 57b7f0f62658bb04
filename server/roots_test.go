package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store/sqlite"
)

// TestArtifactLocationRefused replays the three-request attack
// (experiments/create with file:///etc#, runs/create, get-artifact) and
// its relatives on a real server: each location is refused at
// experiments/create with 400 INVALID_PARAMETER_VALUE and no experiment
// is made.
func TestArtifactLocationRefused(t *testing.T) {
	ts := newServer(t)
	for i, loc := range []string{
		"file:///etc#", "file:///etc#/x", "http://host#/abc/etc/", "http://host/;..%2F..%2Fetc",
		"/tmp/x/../../etc", "file:///tmp/%2e%2e/etc", "file:///tmp/%252e%252e/etc", "/etc?x=1",
		"runs:/abc/artifacts", "gs://bucket/x", "ftp://host/etc", "mlflow-artifacts:/../../etc",
		"/" + strings.Repeat("a", 2100),
	} {
		name := "x" + string(rune('a'+i))
		st, m := ts.post(t, "/api/2.0/mlflow/experiments/create", map[string]any{"name": name, "artifact_location": loc})
		if st != 400 || m["error_code"] != "INVALID_PARAMETER_VALUE" {
			t.Errorf("experiments/create %q: %d %v, want 400 INVALID_PARAMETER_VALUE", loc, st, m)
		}
		if st, _ := ts.do(t, "GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name="+name, "", nil); st != 404 {
			t.Errorf("experiment %s was created anyway (%d)", name, st)
		}
	}
	st, m := ts.post(t, "/api/2.0/mlflow/experiments/create", map[string]any{"name": "frag", "artifact_location": "file:///etc#"})
	if st != 400 || m["message"] != "'artifact_location' URL can't include fragments or params." {
		t.Errorf("MLflow's message: %d %v", st, m)
	}
	// Artifact paths follow MLflow's validate_path_is_safe: no file: URI, no '#'.
	_, run := ts.post(t, "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": "0"})
	id := run["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	for _, p := range []string{"file:///etc", "a%23b", "file%3A%2F%2F%2Fetc"} {
		status, body := ts.do(t, "GET", "/api/2.0/mlflow/artifacts/list?run_id="+id+"&path="+p, "", nil)
		if status != 400 || !strings.Contains(string(body), "INVALID_PARAMETER_VALUE") {
			t.Errorf("artifacts/list path=%s: %d %s, want 400", p, status, body)
		}
	}
	// Model-version sources follow the same rule.
	ts.post(t, "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "m"})
	for _, src := range []string{"file:///etc#", "s3://b/x?y=1", "gs://b/m", "runs:/abc/../../x", "models:/m/1#x", "mlflow-artifacts:/1/%2e%2e/%2e%2e/etc"} {
		st, m := ts.post(t, "/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": src})
		if st != 400 || m["error_code"] != "INVALID_PARAMETER_VALUE" {
			t.Errorf("model-versions/create source %q: %d %v, want 400 INVALID_PARAMETER_VALUE", src, st, m)
		}
	}
	for _, src := range []string{"s3://b/m", "mlflow-artifacts:/1/r/artifacts/model", "runs:/abc/model", "models:/m/1"} {
		if st, m := ts.post(t, "/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": src}); st != 200 {
			t.Errorf("model-versions/create source %q: %d %v, want 200", src, st, m)
		}
	}
}

// TestArtifactOutsideRoots: a run whose artifact URI is a local folder
// outside the server's roots (stored through the store, as an old
// database or another tool would) gets 403 PERMISSION_DENIED from every
// artifact endpoint, and nothing outside the roots is read or changed.
func TestArtifactOutsideRoots(t *testing.T) {
	dir := t.TempDir()
	dest, mlruns, outside := filepath.Join(dir, "mlartifacts"), filepath.Join(dir, "mlruns"), filepath.Join(dir, "outside")
	for _, d := range []string{dest, mlruns, outside} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(outside, "passwd"), []byte("root:x:0:0"), 0o644)
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "mlflow.db"), sqlite.Options{ArtifactRoot: mlruns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := server.New(st, server.Options{Artifacts: local.New(dest), ArtifactRoots: []string{dest, mlruns}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ts := &testServer{url: srv.URL, store: st, dir: dir}

	// An experiment may be stored anywhere local (MLflow allows it); the
	// server just never touches it.
	_, m := ts.post(t, "/api/2.0/mlflow/experiments/create", map[string]any{"name": "evil", "artifact_location": "file://" + outside})
	expID, _ := m["experiment_id"].(string)
	if expID == "" {
		t.Fatalf("experiments/create: %v", m)
	}
	_, m = ts.post(t, "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": expID})
	run := m["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	// A symlink inside a root that leads out is refused as well.
	os.Symlink(outside, filepath.Join(mlruns, "link"))
	_, m = ts.post(t, "/api/2.0/mlflow/experiments/create", map[string]any{"name": "linked", "artifact_location": filepath.Join(mlruns, "link")})
	_, m = ts.post(t, "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": m["experiment_id"]})
	linked := m["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	// Place a file where each run's artifacts would be, to be sure a read is refused and not merely empty.
	os.MkdirAll(filepath.Join(outside, run, "artifacts"), 0o755)
	os.MkdirAll(filepath.Join(outside, linked, "artifacts"), 0o755)
	os.Symlink(filepath.Join(outside, "passwd"), filepath.Join(outside, run, "artifacts", "passwd"))
	os.Symlink(filepath.Join(outside, "passwd"), filepath.Join(outside, linked, "artifacts", "passwd"))
	before := snapshot(t, outside)

	for _, id := range []string{run, linked} {
		for _, req := range []struct{ method, path string }{
			{"GET", "/api/2.0/mlflow/artifacts/list?run_id=" + id},
			{"GET", "/ajax-api/2.0/mlflow/artifacts/list?run_id=" + id + "&path="},
			{"GET", "/get-artifact?run_id=" + id + "&path=passwd"},
			{"GET", "/get-artifact?run_uuid=" + id + "&path=passwd"},
			{"POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid=" + id + "&path=new.txt"},
		} {
			var body []byte
			if req.method == "POST" {
				body = []byte("pwned")
			}
			status, b := ts.do(t, req.method, req.path, "", body)
			var e struct {
				Code string `json:"error_code"`
			}
			json.Unmarshal(b, &e)
			want := 403
			if id == linked {
				want = 400 // inside a root lexically: the root's os.Root refuses the link
			}
			if status != want || strings.Contains(string(b), "root:x") {
				t.Errorf("%s %s: %d %s, want %d", req.method, req.path, status, b, want)
			}
			if want == 403 && e.Code != "PERMISSION_DENIED" {
				t.Errorf("%s %s: error_code %s, want PERMISSION_DENIED", req.method, req.path, e.Code)
			}
		}
		// The UI's run page shows the refusal, not the files.
		status, b := ts.do(t, "GET", "/runs/"+id, "", nil)
		if status != 200 || strings.Contains(string(b), "root:x") || strings.Contains(string(b), ">passwd<") {
			t.Errorf("UI run page of %s: %d, shows the files outside the roots", id, status)
		}
	}
	if after := snapshot(t, outside); len(after) != len(before) {
		t.Fatalf("files outside the roots changed: %v, was %v", after, before)
	}
	// A run under a root still works.
	_, m = ts.post(t, "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": "0"})
	ok := m["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	if status, b := ts.do(t, "POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid="+ok+"&path=a.txt", "", []byte("hi")); status != 200 {
		t.Fatalf("upload under the default root: %d %s", status, b)
	}
	if status, b := ts.do(t, "GET", "/get-artifact?run_id="+ok+"&path=a.txt", "", nil); status != 200 || string(b) != "hi" {
		t.Fatalf("download under the default root: %d %s", status, b)
	}
}
