package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/auth"
	"github.com/mlrun/mlrun/store"
)

// TestAuthSeesWhatHandlersDo: a user with EDIT on one experiment (mine)
// and no permission on another (theirs) cannot reach theirs by naming
// mine where the permission check looks and theirs where the handler
// looks: a key in another case ("RUN_ID", which Go's JSON decoding binds
// to run_id), the query of a POST (whose handler reads only the body),
// a JSON body on a GET (whose handler reads it over the query), a body
// that is a JSON string holding the JSON (old clients), run_uuid beside
// run_id. Each is refused or acts on mine; theirs is unchanged and
// nothing of it is returned.
func TestAuthSeesWhatHandlersDo(t *testing.T) {
	as := newAuthServer(t, auth.NoPermissions)
	mine, theirs := as.fixture(t, 1, false), as.fixture(t, 2, false)
	ctx := context.Background()
	if err := as.auth.SetExperimentPermission(ctx, theirs.exp, "edit", auth.NoPermissions); err != nil {
		t.Fatal(err)
	}
	if err := as.auth.SetModelPermission(ctx, theirs.model, "edit", auth.NoPermissions); err != nil {
		t.Fatal(err)
	}
	const secret = "their-secret-value"
	secretName := secret
	if _, err := as.store.UpdateRun(ctx, theirs.run, store.UpdateRun{RunName: &secretName}); err != nil {
		t.Fatal(err)
	}
	raw := func(method, path, ct, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, as.url+path, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req.SetBasicAuth("edit", password("edit"))
		st, b, _ := send(t, req)
		return st, b
	}
	const api = "/api/2.0/mlflow"
	m, th := mine.run, theirs.run
	writes := []struct{ name, method, path, body string }{
		{"a key in upper case", "POST", api + "/runs/log-parameter", `{"run_id": "` + m + `", "RUN_ID": "` + th + `", "key": "p1", "value": "v"}`},
		{"a key in mixed case", "POST", api + "/runs/set-tag", `{"run_id": "` + m + `", "Run_Id": "` + th + `", "key": "t1", "value": "v"}`},
		{"the query of a POST", "POST", api + "/runs/log-parameter?run_id=" + m, `{"run_uuid": "` + th + `", "key": "p2", "value": "v"}`},
		{"a JSON string body", "POST", api + "/runs/log-parameter?run_id=" + m, `"{\"run_id\": \"` + th + `\", \"key\": \"p3\", \"value\": \"v\"}"`},
		{"run_uuid beside run_id", "POST", api + "/runs/log-parameter", `{"run_uuid": "` + th + `", "run_id": "` + m + `", "key": "p4", "value": "v"}`},
		{"a model name in upper case", "POST", api + "/registered-models/set-tag", `{"name": "` + mine.model + `", "NAME": "` + theirs.model + `", "key": "t2", "value": "v"}`},
		{"an experiment id in upper case", "POST", api + "/experiments/set-experiment-tag", `{"experiment_id": "` + mine.exp + `", "EXPERIMENT_ID": "` + theirs.exp + `", "key": "t3", "value": "v"}`},
		{"a PATCH's query", "PATCH", api + "/registered-models/update?name=" + mine.model, `{"NAME": "` + theirs.model + `", "description": "` + "x" + `"}`},
		{"a dotted I", "POST", api + "/experiments/set-experiment-tag", `{"experiment_id": "` + mine.exp + `", "EXPERIMENT_\u0130D": "` + theirs.exp + `", "key": "t4", "value": "v"}`},
		{"an escaped key", "POST", api + "/runs/log-parameter", `{"run_id": "` + m + `", "run\u005FID": "` + th + `", "key": "p5", "value": "v"}`},
		{"a type in upper case", "POST", api + "/runs/log-parameter?run_id=" + m, `{"run_id": "` + th + `", "key": "p6", "value": "v"}`},
		{"a key again, null", "POST", api + "/runs/log-parameter", `{"run_id": "` + th + `", "run_id": null, "run_uuid": "` + m + `", "key": "p7", "value": "v"}`},
		{"a key again, the same", "POST", api + "/runs/log-batch", `{"run_id": "` + m + `", "params": [{"key": "p8", "value": "v"}], "run_id": "` + m + `"}`},
	}
	for _, w := range writes {
		ct := "application/json"
		if w.name == "a type in upper case" {
			ct = "Application/JSON"
		}
		st, body := raw(w.method, w.path, ct, w.body)
		if strings.Contains(w.name, "again") {
			wantError(t, w.name, st, body, 400, "INVALID_PARAMETER_VALUE", "")
			if !strings.Contains(body, "appears twice") {
				t.Errorf("%s: %s", w.name, body)
			}
		}
		if strings.Contains(w.name, "case") && w.name != "a type in upper case" || w.name == "an escaped key" || w.name == "a dotted I" {
			wantError(t, w.name, st, body, 400, "INVALID_PARAMETER_VALUE", "")
			if !strings.Contains(body, "field names are case-sensitive") {
				t.Errorf("%s: %s", w.name, body)
			}
		}
	}
	r, err := as.store.GetRun(ctx, th)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Params) != 0 || len(r.Tags) != 1 { // mlflow.runName
		t.Errorf("their run was changed: params %v, tags %v", r.Params, r.Tags)
	}
	e, _ := as.store.GetExperiment(ctx, theirs.exp)
	if len(e.Tags) != 0 {
		t.Errorf("their experiment was changed: %v", e.Tags)
	}
	rm, _ := as.store.GetRegisteredModel(ctx, theirs.model)
	if len(rm.Tags) != 0 || rm.Description != "" {
		t.Errorf("their model was changed: %+v", rm)
	}
	reads := []struct{ name, method, path, ct, body string }{
		{"a GET's body, no query", "GET", api + "/runs/get", "application/json", `{"run_id": "` + th + `"}`},
		{"a nested key in upper case", "POST", "/api/3.0/mlflow/traces/search", "application/json", `{"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "` + mine.exp + `", "EXPERIMENT_ID": "` + theirs.exp + `"}}]}`},
		{"a JSON body on a GET", "GET", api + "/runs/get?run_id=" + m, "application/json", `{"run_id": "` + th + `"}`},
		{"a JSON body on a GET, no type", "GET", api + "/runs/get?run_id=" + m, "", `{"run_id": "` + th + `"}`},
		{"a key in upper case", "POST", api + "/runs/search", "application/json", `{"experiment_ids": ["` + mine.exp + `"], "EXPERIMENT_IDS": ["` + theirs.exp + `"]}`},
		{"a long s", "POST", api + "/runs/search", "application/json", `{"experiment_ids": ["` + mine.exp + `"], "experiment_id\u017f": ["` + theirs.exp + `"]}`},
	}
	for _, rd := range reads {
		if st, body := raw(rd.method, rd.path, rd.ct, rd.body); strings.Contains(body, secret) || strings.Contains(body, theirs.trace) {
			t.Errorf("%s: %s %s gave their run: %d %.200s", rd.name, rd.method, rd.path, st, body)
		}
	}
}
