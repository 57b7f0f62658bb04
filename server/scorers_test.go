package server_test

import (
	"database/sql"
	"encoding/json"
	"net/url"
	"regexp"
	"testing"
)

// TestScorersOnMLflow36Database: MLflow 3's scorer endpoints, called as
// MLflow's Python client calls them (mlflow.genai.scorers' register,
// list_scorers, get_scorer, delete_scorer), on a copy of the database
// MLflow 3.6 wrote: the answers are MLflow's messages (a Scorer's
// experiment_id a number, RegisterScorer's a string), the rows land in
// MLflow's own scorers and scorer_versions tables, and bad requests get
// MLflow's error codes.
func TestScorersOnMLflow36Database(t *testing.T) {
	srvURL, path := mlflow36Server(t)
	const api = "/api/3.0/mlflow/scorers/"
	call := func(method, ep string, q url.Values, body string) (int, string) {
		t.Helper()
		status, out := (&testServer{url: srvURL}).do(t, method, api+ep+"?"+q.Encode(), map[bool]string{true: "application/json"}[body != ""], []byte(body))
		return status, string(out)
	}
	serialized := `{"name": "relevance", "aggregations": [], "mlflow_version": "3.6.0", "serialization_version": 1, "call_source": "@scorer\ndef relevance(outputs):\n    return len(outputs) > 5\n"}`
	body, _ := json.Marshal(map[string]string{"experiment_id": "1", "name": "relevance", "serialized_scorer": serialized})
	status, got := call("POST", "register", nil, string(body))
	var reg struct {
		Version          int    `json:"version"`
		ScorerID         string `json:"scorer_id"`
		ExperimentID     string `json:"experiment_id"`
		Name             string `json:"name"`
		SerializedScorer string `json:"serialized_scorer"`
		CreationTime     int64  `json:"creation_time"`
	}
	if status != 200 || json.Unmarshal([]byte(got), &reg) != nil || reg.Version != 1 || reg.ExperimentID != "1" || reg.Name != "relevance" ||
		reg.SerializedScorer != serialized || reg.CreationTime == 0 || !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(reg.ScorerID) {
		t.Fatalf("register: %d %s", status, got)
	}
	call("POST", "register", nil, `{"experiment_id": "1", "name": "relevance", "serialized_scorer": "{\"v\": 2}"}`)

	// A Scorer message: experiment_id is an int32.
	status, got = call("GET", "list", url.Values{"experiment_id": {"1"}}, "")
	var list struct {
		Scorers []map[string]any `json:"scorers"`
	}
	if status != 200 || json.Unmarshal([]byte(got), &list) != nil || len(list.Scorers) != 1 || list.Scorers[0]["experiment_id"] != 1.0 ||
		list.Scorers[0]["scorer_version"] != 2.0 || list.Scorers[0]["serialized_scorer"] != `{"v": 2}` || list.Scorers[0]["scorer_id"] != reg.ScorerID {
		t.Fatalf("list: %d %s", status, got)
	}
	status, got = call("GET", "get", url.Values{"experiment_id": {"1"}, "name": {"relevance"}, "version": {"1"}}, "")
	quoted, _ := json.Marshal(serialized)
	if want := `"serialized_scorer":` + string(quoted); status != 200 || !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(got) {
		t.Fatalf("get version 1: %d %s", status, got)
	}
	status, got = call("GET", "versions", url.Values{"experiment_id": {"1"}, "name": {"relevance"}}, "")
	if status != 200 || !regexp.MustCompile(`"scorer_version":1,.*"scorer_version":2,`).MatchString(got) {
		t.Fatalf("versions: %d %s", status, got)
	}

	// The rows are MLflow's.
	db, err := sql.Open("sqlite3", path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM scorer_versions v JOIN scorers s USING (scorer_id) WHERE s.experiment_id = 1 AND s.scorer_name = 'relevance' AND v.creation_time > 0`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("scorer_versions rows of relevance: %d (%v), want 2", n, err)
	}

	for _, tc := range []struct {
		method, ep string
		q          url.Values
		body       string
		status     int
		code       string
	}{
		{"POST", "register", nil, `{"experiment_id": "1", "serialized_scorer": "{}"}`, 400, "INVALID_PARAMETER_VALUE"},
		{"POST", "register", nil, `{"experiment_id": "1", "name": "x"}`, 400, "INVALID_PARAMETER_VALUE"},
		{"POST", "register", nil, `{"experiment_id": "404", "name": "x", "serialized_scorer": "{}"}`, 404, "RESOURCE_DOES_NOT_EXIST"},
		{"POST", "register", nil, `{"experiment_id": "1", "name": "x", "serialized_scorer": {"not": "a string"}}`, 400, "INVALID_PARAMETER_VALUE"},
		{"GET", "list", nil, "", 400, "INVALID_PARAMETER_VALUE"},
		{"GET", "get", url.Values{"experiment_id": {"1"}, "name": {"nope"}}, "", 404, "RESOURCE_DOES_NOT_EXIST"},
		{"GET", "get", url.Values{"experiment_id": {"1"}, "name": {"relevance"}, "version": {"7"}}, "", 404, "RESOURCE_DOES_NOT_EXIST"},
		{"GET", "get", url.Values{"experiment_id": {"1"}, "name": {"relevance"}, "version": {"0"}}, "", 400, "INVALID_PARAMETER_VALUE"},
		{"GET", "get", url.Values{"experiment_id": {"1"}, "name": {"relevance"}, "version": {"two"}}, "", 400, "INVALID_PARAMETER_VALUE"},
		{"DELETE", "delete", nil, `{"experiment_id": "1", "name": "nope"}`, 404, "RESOURCE_DOES_NOT_EXIST"},
	} {
		status, got := call(tc.method, tc.ep, tc.q, tc.body)
		var e struct {
			ErrorCode string `json:"error_code"`
			Message   string `json:"message"`
		}
		if status != tc.status || json.Unmarshal([]byte(got), &e) != nil || e.ErrorCode != tc.code || e.Message == "" {
			t.Errorf("%s %s %v %s: %d %s, want %d %s", tc.method, tc.ep, tc.q, tc.body, status, got, tc.status, tc.code)
		}
	}

	// DELETE with a JSON body (MLflow's client), one version then all.
	if status, got := call("DELETE", "delete", nil, `{"experiment_id": "1", "name": "relevance", "version": 1}`); status != 200 || got != "{}" {
		t.Fatalf("delete version 1: %d %s", status, got)
	}
	if status, got := call("GET", "get", url.Values{"experiment_id": {"1"}, "name": {"relevance"}}, ""); status != 200 || !regexp.MustCompile(`"scorer_version":2`).MatchString(got) {
		t.Fatalf("get after deleting version 1: %d %s", status, got)
	}
	if status, got := call("DELETE", "delete", nil, `{"experiment_id": "1", "name": "relevance"}`); status != 200 {
		t.Fatalf("delete: %d %s", status, got)
	}
	if status, got := call("GET", "list", url.Values{"experiment_id": {"1"}}, ""); status != 200 || got != `{}` { // MLflow's JSON leaves out an empty list
		t.Fatalf("list after delete: %d %s", status, got)
	}
	if err := db.QueryRow(`SELECT count(*) FROM scorers`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("scorers rows after delete: %d (%v)", n, err)
	}
}
