package server_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os/exec"
	"strings"
	"testing"
)

// TestEvaluationDatasetsOnMLflow36Database: MLflow 3's evaluation
// dataset endpoints, called with the JSON MLflow's Python client sends
// (mlflow.genai.datasets.create_dataset, merge_records, to_df,
// set_dataset_tags, add and remove experiments) on a copy of the
// database MLflow 3.6 wrote: the answers are MLflow's messages (tags and
// records as JSON strings), the rows land in MLflow's own tables with the
// input hash Python computes (so MLflow and mlrun merge the same
// records), and bad requests get MLflow's error codes.
func TestEvaluationDatasetsOnMLflow36Database(t *testing.T) {
	srvURL, path := mlflow36Server(t)
	const api = "/api/3.0/mlflow/datasets"
	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		ct := ""
		if body != "" {
			ct = "application/json"
		}
		status, out := (&testServer{url: srvURL}).do(t, method, api+path, ct, []byte(body))
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, status, out)
		}
		return status, m
	}
	jsonString := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	status, m := call("POST", "/create", jsonString(map[string]any{"name": "iris-qa", "experiment_ids": []string{"1"},
		"tags": `{"mlflow.user": "alice", "purpose": "regression"}`}))
	d, _ := m["dataset"].(map[string]any)
	id, _ := d["dataset_id"].(string)
	if status != 200 || !strings.HasPrefix(id, "d-") || d["tags"] != `{"mlflow.user": "alice", "purpose": "regression"}` || d["created_by"] != "alice" ||
		jsonString(d["experiment_ids"]) != `["1"]` || len(d["digest"].(string)) != 8 {
		t.Fatalf("create: %d %v", status, m)
	}

	// merge_records: a JSON string of records; the second has the same
	// inputs as the first (other key order): it is merged into it.
	inputs := `{"question": "What is the iris's sépal?", "k": 3, "opts": {"b": 1.0, "a": [1, 2]}}`
	records := `[{"inputs": ` + inputs + `, "expectations": {"answer": "a leaf"}, "tags": {"mlflow.user": "bob"}, "source": {"source_type": "HUMAN", "source_data": {}}},` +
		`{"inputs": {"opts": {"a": [1, 2], "b": 1.0}, "k": 3, "question": "What is the iris's sépal?"}, "expectations": {"score": 1}}]`
	status, m = call("POST", "/"+id+"/records", jsonString(map[string]any{"records": records}))
	if status != 200 || m["inserted_count"] != 1.0 || m["updated_count"] != 1.0 {
		t.Fatalf("upsert: %d %v", status, m)
	}
	status, m = call("GET", "/"+id+"/records?max_results=10", "")
	var recs []map[string]any
	if status != 200 || json.Unmarshal([]byte(m["records"].(string)), &recs) != nil || len(recs) != 1 {
		t.Fatalf("records: %d %v", status, m)
	}
	if r := recs[0]; jsonString(r["expectations"]) != `{"answer":"a leaf","score":1}` || r["source_type"] != "HUMAN" || r["created_by"] != "bob" ||
		jsonString(r["outputs"]) != `{}` || r["dataset_id"] != id || r["created_time"] == nil {
		t.Fatalf("record: %v", r)
	}
	// The record's key is what MLflow computes: the SHA-256 of Python's
	// json.dumps(inputs, sort_keys=True).
	py, err := exec.Command("python3", "-c", "import json,hashlib,sys; print(hashlib.sha256(json.dumps(json.loads(sys.argv[1]), sort_keys=True).encode()).hexdigest())", inputs).Output()
	if err != nil {
		t.Fatalf("python3 (needed to compute MLflow's hash): %v", err)
	}
	db, err := sql.Open("sqlite3", path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var hash, profile string
	if err := db.QueryRow(`SELECT r.input_hash, d.profile FROM evaluation_dataset_records r JOIN evaluation_datasets d USING (dataset_id) WHERE d.name = 'iris-qa'`).Scan(&hash, &profile); err != nil {
		t.Fatal(err)
	}
	if hash != strings.TrimSpace(string(py)) || profile != `{"num_records": 1}` {
		t.Fatalf("input_hash %s (want Python's %s), profile %s", hash, py, profile)
	}
	sum := sha256.Sum256([]byte(`{"k": 3, "opts": {"a": [1, 2], "b": 1.0}, "question": "What is the iris's s\u00e9pal?"}`))
	if hash != hex.EncodeToString(sum[:]) {
		t.Fatalf("input_hash %s is not that of Python's sorted dump", hash)
	}

	// Tags, search, links; add-experiments as MLflow's client sends it,
	// to the endpoint's placeholder path with the id in the body.
	if status, m = call("PATCH", "/"+id+"/tags", `{"tags": "{\"purpose\": \"eval\", \"round\": 2}"}`); status != 200 {
		t.Fatalf("set tags: %d %v", status, m)
	}
	if status, m = call("DELETE", "/"+id+"/tags/mlflow.user", ""); status != 200 {
		t.Fatalf("delete tag: %d %v", status, m)
	}
	status, m = call("POST", "/search", `{"experiment_ids": ["1"], "filter_string": "tags.purpose = 'eval'"}`)
	list, _ := m["datasets"].([]any)
	if status != 200 || len(list) != 1 || list[0].(map[string]any)["tags"] != `{"purpose": "eval", "round": "2"}` {
		t.Fatalf("search: %d %v", status, m)
	}
	if status, m = call("POST", "/search", `{"experiment_ids": ["0"]}`); status != 200 || len(m) != 0 {
		t.Fatalf("search of experiment 0: %d %v, want {}", status, m)
	}
	status, m = call("POST", "/"+url.PathEscape("{dataset_id}")+"/add-experiments", jsonString(map[string]any{"dataset_id": id, "experiment_ids": []string{"0"}}))
	if d, _ := m["dataset"].(map[string]any); status != 200 || jsonString(d["experiment_ids"]) != `["1","0"]` {
		t.Fatalf("add experiments: %d %v", status, m)
	}
	if status, m = call("GET", "/"+id+"/experiment-ids", ""); status != 200 || jsonString(m["experiment_ids"]) != `["1","0"]` {
		t.Fatalf("experiment ids: %d %v", status, m)
	}

	for _, tc := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", "/create", `{"experiment_ids": ["1"]}`, 400, "INVALID_PARAMETER_VALUE"},
		{"POST", "/create", `{"name": "x", "experiment_ids": ["404"]}`, 404, "RESOURCE_DOES_NOT_EXIST"},
		{"POST", "/create", `{"name": "x", "tags": "{not json"}`, 400, "INVALID_PARAMETER_VALUE"},
		{"GET", "/d-0123456789abcdef0123456789abcdef", "", 404, "RESOURCE_DOES_NOT_EXIST"},
		{"POST", "/" + id + "/records", `{"records": "[{\"inputs\": [1]}]"}`, 400, "INVALID_PARAMETER_VALUE"},
		{"POST", "/" + id + "/records", `{"records": "{\"inputs\": {}}"}`, 400, "INVALID_PARAMETER_VALUE"},
		{"POST", "/" + id + "/records", `{}`, 400, "INVALID_PARAMETER_VALUE"},
		{"POST", "/d-nope/records", `{"records": "[{\"inputs\": {}}]"}`, 404, "RESOURCE_DOES_NOT_EXIST"},
		{"GET", "/" + id + "/records?page_token=%21%21", "", 400, "INVALID_PARAMETER_VALUE"},
		{"POST", "/search", `{"filter_string": "metrics.x > 1"}`, 400, "INVALID_PARAMETER_VALUE"},
		{"POST", "/" + id + "/add-experiments", `{"experiment_ids": ["404"]}`, 404, "RESOURCE_DOES_NOT_EXIST"},
	} {
		status, m := call(tc.method, tc.path, tc.body)
		if status != tc.status || m["error_code"] != tc.code || m["message"] == "" {
			t.Errorf("%s %s %s: %d %v, want %d %s", tc.method, tc.path, tc.body, status, m, tc.status, tc.code)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM evaluation_dataset_records`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("records after the refused upserts: %d (%v), want 1", n, err)
	}

	if status, m = call("DELETE", "/"+id, ""); status != 200 {
		t.Fatalf("delete: %d %v", status, m)
	}
	for _, q := range []string{`SELECT count(*) FROM evaluation_datasets`, `SELECT count(*) FROM evaluation_dataset_records`,
		`SELECT count(*) FROM evaluation_dataset_tags`, `SELECT count(*) FROM entity_associations WHERE source_type = 'evaluation_dataset'`} {
		if err := db.QueryRow(q).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s after delete: %d (%v)", q, n, err)
		}
	}
}
