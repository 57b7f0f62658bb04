package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store/sqlite"
)

func loggedModelServer(t *testing.T, upgraded bool) *testServer {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "mlflow.db")
	rev := sqlite.MLflow2Revision // a database at MLflow 2.17.2's schema, not upgraded
	if upgraded {
		rev = sqlite.HeadRevision
	}
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{ArtifactRoot: "mlflow-artifacts:/", Revision: rev})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(st, server.Options{Artifacts: local.New(filepath.Join(dir, "art")), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &testServer{url: srv.URL, store: st, dir: dir}
}

func TestLoggedModelsOnAnMLflow3Database(t *testing.T) {
	ts := loggedModelServer(t, true)
	base := "/api/2.0/mlflow"
	r := newRun(t, ts)
	st, m := ts.post(t, base+"/logged-models", map[string]any{"experiment_id": "0", "name": "clf", "source_run_id": r.Info.RunID,
		"model_type": "sklearn", "params": []map[string]string{{"key": "alpha", "value": "0.5"}}, "tags": []map[string]string{{"key": "k", "value": "v"}}})
	if st != 200 {
		t.Fatalf("create: %d %v", st, m)
	}
	info := m["model"].(map[string]any)["info"].(map[string]any)
	id := info["model_id"].(string)
	if info["status"] != "LOGGED_MODEL_PENDING" || info["artifact_uri"] != "mlflow-artifacts:/0/models/"+id+"/artifacts" || info["name"] != "clf" {
		t.Fatalf("created %v", info)
	}
	b, _ := jsonBody(map[string]any{"status": "LOGGED_MODEL_READY"})
	if st, out := ts.do(t, "PATCH", base+"/logged-models/"+id, "application/json", b); st != 200 || !contains(out, `"status":"LOGGED_MODEL_READY"`) {
		t.Fatalf("finalize: %d %s", st, out)
	}
	b, _ = jsonBody(map[string]any{"tags": []map[string]string{{"key": "stage", "value": "dev"}}})
	if st, out := ts.do(t, "PATCH", base+"/logged-models/"+id+"/tags", "application/json", b); st != 200 || !contains(out, `"stage"`) {
		t.Fatalf("tags: %d %s", st, out)
	}
	if st, out := ts.do(t, "DELETE", base+"/logged-models/"+id+"/tags/stage", "", nil); st != 200 {
		t.Fatalf("delete tag: %d %s", st, out)
	}
	if st, m := ts.post(t, base+"/logged-models/"+id+"/params", map[string]any{"params": []map[string]string{{"key": "l1", "value": "0.1"}}}); st != 200 {
		t.Fatalf("params: %d %v", st, m)
	}
	if st, m := ts.post(t, base+"/runs/outputs", map[string]any{"run_id": r.Info.RunID, "models": []map[string]any{{"model_id": id, "step": 3}}}); st != 200 {
		t.Fatalf("outputs: %d %v", st, m)
	}
	if st, m := ts.get(t, base+"/runs/get?run_id="+r.Info.RunID); st != 200 || !contains(mustJSON(m), `"model_outputs":[{"model_id":"`+id+`","step":3}]`) {
		t.Fatalf("run outputs: %d %v", st, m)
	}
	st, m = ts.get(t, base+"/logged-models/"+id)
	data := m["model"].(map[string]any)["data"].(map[string]any)
	if st != 200 || len(data["params"].([]any)) != 2 {
		t.Fatalf("get: %d %v", st, m)
	}
	if st, m := ts.post(t, base+"/logged-models/search", map[string]any{"experiment_ids": []string{"0"}}); st != 200 || len(m["models"].([]any)) != 1 {
		t.Fatalf("search: %d %v", st, m)
	}
	if st, out := ts.do(t, "DELETE", base+"/logged-models/"+id, "", nil); st != 200 {
		t.Fatalf("delete: %d %s", st, out)
	}
	if st, m := ts.get(t, base+"/logged-models/"+id); st != 404 || m["error_code"] != "RESOURCE_DOES_NOT_EXIST" {
		t.Fatalf("get deleted: %d %v", st, m)
	}
	if st, _ := ts.post(t, base+"/logged-models", map[string]any{"experiment_id": "424242"}); st != 404 {
		t.Fatalf("unknown experiment: %d", st)
	}
}

func TestLoggedModelsNeedMLflow3Tables(t *testing.T) {
	ts := loggedModelServer(t, false)
	st, m := ts.post(t, "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": "0"})
	if st != 501 || m["error_code"] != "NOT_IMPLEMENTED" || !contains([]byte(m["message"].(string)), "mlrun db upgrade") {
		t.Fatalf("logged model on a 2.17.2 schema: %d %v", st, m)
	}
}

func mustJSON(v any) []byte {
	b, _ := jsonBody(v)
	return b
}
