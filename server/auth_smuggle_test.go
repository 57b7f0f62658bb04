package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/auth"
	"github.com/mlrun/mlrun/store"
)

// secret is in the names and texts of the other tenant's objects.
const secret = "their-secret-value"

// twoTenants is a basic-auth server (default NO_PERMISSIONS) with two
// fixtures: the user "edit" holds EDIT on mine and nothing on theirs,
// whose run name, experiment tag and model description are secret.
func twoTenants(t testing.TB) (as *authServer, mine, theirs fixture) {
	as = newAuthServer(t, auth.NoPermissions)
	mine, theirs = as.fixture(t, 1, false), as.fixture(t, 2, false)
	ctx := context.Background()
	if err := as.auth.SetExperimentPermission(ctx, theirs.exp, "edit", auth.NoPermissions); err != nil {
		t.Fatal(err)
	}
	if err := as.auth.SetModelPermission(ctx, theirs.model, "edit", auth.NoPermissions); err != nil {
		t.Fatal(err)
	}
	name := secret
	if _, err := as.store.UpdateRun(ctx, theirs.run, store.UpdateRun{RunName: &name}); err != nil {
		t.Fatal(err)
	}
	if err := as.store.SetExperimentTag(ctx, theirs.exp, store.Tag{Key: "s", Value: secret}); err != nil {
		t.Fatal(err)
	}
	if _, err := as.store.UpdateRegisteredModel(ctx, theirs.model, secret); err != nil {
		t.Fatal(err)
	}
	return as, mine, theirs
}

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
	as, mine, theirs := twoTenants(t)
	ctx := context.Background()
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
	if len(e.Tags) != 1 { // twoTenants' secret
		t.Errorf("their experiment was changed: %v", e.Tags)
	}
	rm, _ := as.store.GetRegisteredModel(ctx, theirs.model)
	if len(rm.Tags) != 0 || rm.Description != secret {
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

// TestAuthSmugglingOnEveryRoute walks every route with the request that
// reaches the user's own experiment (as TestAuthRulesCoverEveryRoute
// builds it), adding the other experiment's ids where a permission check
// that read the request otherwise than its handler would miss them: its
// fields again in upper case, in the query of a body's request, in a
// JSON body beside a GET's query, in a body that is a JSON string. The
// other experiment's objects are unchanged after each, and nothing of
// them comes back.
func TestAuthSmugglingOnEveryRoute(t *testing.T) {
	as, mine, theirs := twoTenants(t)
	before := as.snapshot(theirs)
	routes := as.srv.Routes()
	sort.Strings(routes)
	sent := 0
	for _, key := range routes {
		if strings.Contains(key, "/users/") || key == "GET /health" || key == "UI GET /static/" {
			continue
		}
		method, mp, mb := mine.request(key, "edit")
		_, tp, tb := theirs.request(key, "edit")
		path, _, _ := strings.Cut(mp, "?")
		tq := query(tp)
		var tries []struct{ path, ct, body string }
		add := func(p, ct, body string) { tries = append(tries, struct{ path, ct, body string }{p, ct, body}) }
		mineBody, isMap := mb.(map[string]any)
		theirBody, _ := tb.(map[string]any)
		switch {
		case method == "GET":
			j, _ := json.Marshal(flat(tq))
			add(mp, "application/json", string(j)) // a body beside the query
			add(mp, "", string(j))
		case isMap:
			both := map[string]any{}
			for k, v := range mineBody {
				both[k] = v
			}
			for k, v := range theirBody {
				if fmt.Sprint(v) != fmt.Sprint(mineBody[k]) {
					both[strings.ToUpper(k)] = v
				}
			}
			j, _ := json.Marshal(both)
			add(mp, "application/json", string(j)) // the keys again in upper case
			mj, _ := json.Marshal(mineBody)
			tj, _ := json.Marshal(theirBody)
			add(path+"?"+encode(theirBody), "application/json", string(mj)) // theirs in the query
			wrapped, _ := json.Marshal(string(tj))
			add(path+"?"+encode(mineBody), "application/json", string(wrapped)) // mine in the query, theirs in a JSON string
		default:
			continue
		}
		for _, try := range tries {
			req, _ := http.NewRequest(method, as.url+try.path, strings.NewReader(try.body))
			if try.ct != "" {
				req.Header.Set("Content-Type", try.ct)
			}
			req.SetBasicAuth("edit", password("edit"))
			st, body, _ := send(t, req)
			sent++
			if strings.Contains(body, secret) {
				t.Errorf("%s %s (%s): their objects in the answer: %d %.300s", method, try.path, try.body, st, body)
			}
			if now := as.snapshot(theirs); now != before {
				t.Fatalf("%s %s (%s): changed their objects (%d %.200s):\n%s\n%s", method, try.path, try.body, st, body, before, now)
			}
		}
	}
	if sent < 150 {
		t.Fatalf("only %d requests sent", sent)
	}
}

// query is a path's query string's values.
func query(p string) url.Values {
	_, q, _ := strings.Cut(p, "?")
	v, _ := url.ParseQuery(q)
	return v
}

// flat is a query's values as a JSON message's fields.
func flat(q url.Values) map[string]any {
	out := map[string]any{}
	for k, v := range q {
		if len(v) == 1 && !strings.HasSuffix(k, "s") {
			out[k] = v[0]
		} else {
			out[k] = v
		}
	}
	return out
}

// encode is a JSON message's fields as a query string.
func encode(m map[string]any) string {
	q := url.Values{}
	for k, v := range m {
		switch v := v.(type) {
		case []string:
			q[k] = v
		case string:
			q.Set(k, v)
		default:
			q.Set(k, fmt.Sprint(v))
		}
	}
	return q.Encode()
}

// TestAuthExperimentIDForms: the store reads "02", " 2", "+2" and "2 "
// as experiment 2 (SQLite's and PostgreSQL's integer conversions); the
// permission on experiment 2 applies to them all, not the default one
// (READ, MLflow's, here) that an id written otherwise would get.
func TestAuthExperimentIDForms(t *testing.T) {
	as := newAuthServer(t, auth.Read)
	theirs := as.fixture(t, 1, false)
	ctx := context.Background()
	if err := as.auth.SetExperimentPermission(ctx, theirs.exp, "edit", auth.NoPermissions); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{theirs.exp, "0" + theirs.exp, " " + theirs.exp, "+" + theirs.exp, theirs.exp + " ", "00" + theirs.exp} {
		st, body, _ := as.call(t, "edit", "GET", "/api/2.0/mlflow/experiments/get?"+url.Values{"experiment_id": {id}}.Encode(), nil)
		if st != 403 {
			t.Errorf("experiment %q: %d %.200s, want 403", id, st, body)
		}
		st, body, _ = as.call(t, "edit", "POST", "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": id})
		if st != 403 {
			t.Errorf("a run in experiment %q: %d %.200s, want 403", id, st, body)
		}
	}
}

// snapshot is everything of f that a request could change.
func (as *authServer) snapshot(f fixture) string {
	ctx := context.Background()
	var b strings.Builder
	add := func(v any, err error) { fmt.Fprintf(&b, "%v|", err); j, _ := json.Marshal(v); b.Write(j) }
	add(as.store.GetExperiment(ctx, f.exp))
	add(as.store.GetRun(ctx, f.run))
	add(as.store.GetRegisteredModel(ctx, f.model))
	add(as.store.GetModelVersion(ctx, f.model, "1"))
	add(as.store.GetLoggedModel(ctx, f.loggedModel))
	add(as.store.GetTraceInfo(ctx, f.trace))
	add(as.store.GetAssessment(ctx, f.trace, f.assessment))
	add(as.store.GetEvaluationDataset(ctx, f.dataset))
	runs, _, err := as.store.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: []string{f.exp}, MaxResults: 100})
	add(len(runs), err)
	return b.String()
}

// FuzzAuthSmuggling sends the user "edit" fuzzed requests to every route,
// ids written as {my_run}, {their_run}, {my_exp}, {their_exp},
// {my_model}, {their_model}, {their_trace}: the other tenant's objects
// never change and never come back.
func FuzzAuthSmuggling(f *testing.F) {
	for _, seed := range []struct{ route, query, body string }{
		{"POST /runs/log-parameter", "run_id={my_run}", `{"RUN_ID": "{their_run}", "key": "k", "value": "v"}`},
		{"POST /runs/set-tag", "", `{"run_id": "{my_run}", "run_uuid": "{their_run}", "key": "k", "value": "v"}`},
		{"GET /runs/get", "run_id={my_run}", `{"run_id": "{their_run}"}`},
		{"POST /experiments/set-experiment-tag", "", `"{\"experiment_id\": \"{their_exp}\", \"key\": \"k\", \"value\": \"v\"}"`},
		{"POST /registered-models/set-tag", "name={my_model}", `{"name": "{their_model}", "key": "k", "value": "v"}`},
		{"PATCH /registered-models/update", "name={my_model}", `{"name": "{my_model}", "name": null, "description": "x"}`},
		{"POST /traces/link-prompts", "request_id={their_trace}", `{"trace_id": "{their_trace}", "prompt_versions": [{"name": "p", "version": "1"}]}`},
		{"POST /runs/search", "", `{"experiment_ids": ["0{their_exp}"], "filter": "attributes.run_name != 'x'"}`},
	} {
		for _, ct := range []uint8{0, 1, 2} {
			f.Add(seed.route, seed.query, seed.body, ct)
		}
	}
	as, mine, theirs := twoTenants(f)
	ids := strings.NewReplacer("{my_run}", mine.run, "{their_run}", theirs.run, "{my_exp}", mine.exp, "{their_exp}", theirs.exp,
		"{my_model}", mine.model, "{their_model}", theirs.model, "{their_trace}", theirs.trace)
	routes := map[string]bool{}
	for _, r := range as.srv.Routes() {
		routes[r] = true
	}
	before := as.snapshot(theirs)
	f.Fuzz(func(t *testing.T, route, query, body string, ct uint8) {
		method, path, ok := strings.Cut(route, " ")
		if !ok || !routes[route] || strings.Contains(path, "{") || strings.Contains(path, "/users/") {
			return
		}
		if !strings.HasPrefix(path, "/api/") {
			path = "/api/2.0/mlflow" + path
		}
		req, err := http.NewRequest(method, as.url+path+"?"+ids.Replace(query), strings.NewReader(ids.Replace(body)))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", []string{"application/json", "", "text/plain", "Application/Json; charset=utf-8"}[ct%4])
		req.SetBasicAuth("edit", password("edit"))
		st, got, _ := send(t, req)
		if strings.Contains(got, secret) {
			t.Fatalf("%s ?%s %s: their objects in the answer: %d %.300s", route, query, body, st, got)
		}
		if now := as.snapshot(theirs); now != before {
			t.Fatalf("%s ?%s %s: changed their objects (%d %.200s)", route, query, body, st, got)
		}
	})
}

// TestAuthTraceIDsOfAnother: a trace started in the user's own experiment
// under the id of another's trace, or spans exported into it, do not
// reach the other trace.
func TestAuthTraceIDsOfAnother(t *testing.T) {
	as, mine, theirs := twoTenants(t)
	before := as.snapshot(theirs)
	loc := map[string]any{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": map[string]any{"experiment_id": mine.exp}}
	st, body, _ := as.call(t, "edit", "POST", "/api/3.0/mlflow/traces", map[string]any{"trace": map[string]any{"trace_info": map[string]any{
		"trace_id": theirs.trace, "trace_location": loc, "request_time": "2026-01-01T00:00:00Z", "execution_duration": "0.250s", "state": "OK",
		"tags": map[string]string{"k": "v"}, "trace_metadata": map[string]string{"m": "v"}}}})
	if now := as.snapshot(theirs); now != before {
		t.Fatalf("StartTraceV3 with their trace's id changed it: %d %s", st, body)
	}
	wantError(t, "StartTraceV3 with their trace's id", st, body, 400, "INVALID_PARAMETER_VALUE", "Trace "+theirs.trace+" belongs to experiment "+theirs.exp+", not "+mine.exp+".")
	if strings.Contains(body, secret) {
		t.Fatalf("StartTraceV3 with their trace's id: %s", body)
	}
}

// TestAuthObjectsOfAnotherThroughMine: the user's own trace, run or
// dataset in the path or the checked field does not open another's
// objects named beside it: their assessment under my trace's path,
// their traces linked to my run.
func TestAuthObjectsOfAnotherThroughMine(t *testing.T) {
	as, mine, theirs := twoTenants(t)
	before := as.snapshot(theirs)
	a := "/api/3.0/mlflow/traces/" + mine.trace + "/assessments/" + theirs.assessment
	for _, c := range []struct {
		method string
		body   any
	}{
		{"GET", nil},
		{"PATCH", map[string]any{"assessment": map[string]any{"rationale": "mine now"}, "update_mask": "rationale"}},
		{"DELETE", nil},
	} {
		st, body, _ := as.call(t, "edit", c.method, a, c.body)
		if st == 200 {
			t.Errorf("%s their assessment under my trace: %d %.300s", c.method, st, body)
		}
	}
	st, body, _ := as.call(t, "edit", "POST", "/api/2.0/mlflow/traces/link-to-run", map[string]any{"run_id": mine.run, "trace_ids": []string{theirs.trace}})
	if st == 200 {
		t.Errorf("their trace linked to my run: %d %s", st, body)
	}
	if now := as.snapshot(theirs); now != before {
		t.Fatalf("their objects changed:\n%s\n%s", before, now)
	}
	st, body, _ = as.call(t, "edit", "GET", "/api/2.0/mlflow/traces?"+url.Values{"experiment_ids": {mine.exp}, "filter": {"trace.run_id = '" + mine.run + "'"}}.Encode(), nil)
	if strings.Contains(body, theirs.trace) {
		t.Errorf("their trace found through my run: %d %.300s", st, body)
	}
}

// TestAuthWritesThroughMyRunOrModel: metrics logged in my run for their
// logged model, and a version of my model made from their run or logged
// model (whose files get-artifact would then serve), are refused.
func TestAuthWritesThroughMyRunOrModel(t *testing.T) {
	as, mine, theirs := twoTenants(t)
	before := as.snapshot(theirs)
	st, body, _ := as.call(t, "edit", "POST", "/api/2.0/mlflow/runs/log-batch", map[string]any{"run_id": mine.run,
		"metrics": []map[string]any{{"key": "m", "value": 1, "timestamp": 1, "step": 0, "model_id": theirs.loggedModel}}})
	if st != 403 {
		t.Errorf("metrics of my run into their logged model: %d %s", st, body)
	}
	st, body, _ = as.call(t, "edit", "POST", "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": mine.run,
		"key": "m", "value": 1, "timestamp": 1, "model_id": theirs.loggedModel})
	if st != 403 {
		t.Errorf("a metric of my run into their logged model: %d %s", st, body)
	}
	if st, body, _ := as.call(t, "edit", "POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": mine.exp, "name": "m", "source_run_id": theirs.run}); st != 403 {
		t.Errorf("a logged model of mine from their run: %d %s", st, body)
	}
	for _, path := range []string{"/api/2.0/mlflow/runs/outputs", "/api/2.0/mlflow/runs/log-inputs"} {
		st, body, _ := as.call(t, "edit", "POST", path, map[string]any{"run_id": mine.run, "models": []map[string]any{{"model_id": theirs.loggedModel, "step": 1}}})
		if st != 403 {
			t.Errorf("%s: their logged model listed by my run: %d %s", path, st, body)
		}
	}
	for _, src := range []map[string]any{
		{"source": "runs:/" + theirs.run + "/model"},
		{"source": "mlflow-artifacts:/" + theirs.exp + "/" + theirs.run + "/artifacts/model", "run_id": theirs.run},
		{"source": "models:/" + theirs.loggedModel, "model_id": theirs.loggedModel},
		{"source": "models:/" + theirs.model + "/1"},
	} {
		req := map[string]any{"name": mine.model}
		for k, v := range src {
			req[k] = v
		}
		st, body, _ := as.call(t, "edit", "POST", "/api/2.0/mlflow/model-versions/create", req)
		if st != 403 {
			t.Errorf("a version of my model from their %v: %d %s", src, st, body)
		}
	}
	if now := as.snapshot(theirs); now != before {
		t.Fatalf("their objects changed:\n%s\n%s", before, now)
	}
	// The same from my own run and logged model is let through.
	st, body, _ = as.call(t, "edit", "POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": mine.exp, "name": "mine", "source_run_id": mine.run})
	if st != 200 {
		t.Fatalf("a logged model of mine from my run: %d %s", st, body)
	}
	lm, err := as.store.GetLoggedModel(context.Background(), jsonOf(t, body)["model"].(map[string]any)["info"].(map[string]any)["model_id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []map[string]any{
		{"name": mine.model, "source": "runs:/" + mine.run + "/model", "run_id": mine.run},
		{"name": mine.model, "source": "models:/" + lm.ModelID, "model_id": lm.ModelID},
		{"name": mine.model, "source": "mlflow-artifacts:/" + mine.exp + "/" + mine.run + "/artifacts/model"},
	} {
		if st, body, _ := as.call(t, "edit", "POST", "/api/2.0/mlflow/model-versions/create", req); st != 200 {
			t.Errorf("a version of my model from my %v: %d %s", req, st, body)
		}
	}
	if st, body, _ := as.call(t, "edit", "POST", "/api/2.0/mlflow/runs/log-batch", map[string]any{"run_id": mine.run,
		"metrics": []map[string]any{{"key": "m", "value": 1, "timestamp": 1, "step": 0, "model_id": lm.ModelID}}}); st != 200 {
		t.Errorf("metrics of my run into my logged model: %d %s", st, body)
	}
}

// TestAuthDeletesScopedToMine: a user who may delete in their own
// experiment deletes only its traces, whatever ids the request names.
func TestAuthDeletesScopedToMine(t *testing.T) {
	as, mine, theirs := twoTenants(t)
	ctx := context.Background()
	if err := as.auth.SetExperimentPermission(ctx, theirs.exp, "manage", auth.NoPermissions); err != nil {
		t.Fatal(err)
	}
	before := as.snapshot(theirs)
	for _, path := range []string{"/api/2.0/mlflow/traces/delete-traces", "/api/3.0/mlflow/traces/delete-traces"} {
		st, body, _ := as.call(t, "manage", "POST", path, map[string]any{"experiment_id": mine.exp, "request_ids": []string{theirs.trace}, "max_timestamp_millis": 1 << 50})
		if now := as.snapshot(theirs); now != before {
			t.Fatalf("%s deleted their trace: %d %s", path, st, body)
		}
	}
}

// TestAuthUploadOfJSON: the UI's upload takes its run from the query
// whatever the file's type; a JSON file's fields are not parameters.
func TestAuthUploadOfJSON(t *testing.T) {
	as, mine, theirs := twoTenants(t)
	up := func(run, body string) (int, string) {
		req, _ := http.NewRequest("POST", as.url+"/ajax-api/2.0/mlflow/upload-artifact?"+url.Values{"run_uuid": {run}, "path": {"f.json"}}.Encode(), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth("edit", password("edit"))
		st, b, _ := send(t, req)
		return st, b
	}
	if st, body := up(mine.run, `{"run_id": "`+theirs.run+`"}`); st != 200 {
		t.Errorf("a JSON file into my run: %d %s", st, body)
	}
	if st, body := up(theirs.run, `{"run_id": "`+mine.run+`"}`); st != 403 {
		t.Errorf("a JSON file into their run: %d %s", st, body)
	}
}

// TestAuthArtifactPathForms: the proxy's path names its experiment by its
// leading digits; written another way (a "./" first, an escaped '/', the
// listing's path parameter) it still gets that experiment's permission,
// under a default that would let everything else through.
func TestAuthArtifactPathForms(t *testing.T) {
	as := newAuthServer(t, auth.Read)
	theirs := as.fixture(t, 1, false)
	if err := as.auth.SetExperimentPermission(context.Background(), theirs.exp, "edit", auth.NoPermissions); err != nil {
		t.Fatal(err)
	}
	const content = "their-artifact-content"
	file := theirs.exp + "/" + theirs.run + "/artifacts/a.txt"
	if st, body, _ := as.call(t, "admin", "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+file, content); st != 200 {
		t.Fatalf("upload: %d %s", st, body)
	}
	for _, p := range []string{
		"/api/2.0/mlflow-artifacts/artifacts/" + file,
		"/api/2.0/mlflow-artifacts/artifacts/./" + file,
		"/api/2.0/mlflow-artifacts/artifacts/%2E/" + file,
		"/api/2.0/mlflow-artifacts/artifacts/" + theirs.exp + "%2F" + theirs.run + "/artifacts/a.txt",
		"/api/2.0/mlflow-artifacts/artifacts//" + file,
		"/api/2.0/mlflow-artifacts/artifacts/x/../" + file,
		"/api/2.0/mlflow-artifacts/artifacts/x/%2E%2E/" + file,
		"/api/2.0/mlflow-artifacts/artifacts?path=./" + theirs.exp + "/" + theirs.run + "/artifacts",
		"/api/2.0/mlflow-artifacts/artifacts?path=/" + theirs.exp + "/" + theirs.run + "/artifacts",
		"/api/2.0/mlflow-artifacts/artifacts?path=x/../" + theirs.exp + "/" + theirs.run + "/artifacts",
	} {
		req, _ := http.NewRequest("GET", as.url+p, nil)
		req.SetBasicAuth("edit", password("edit"))
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), content) || strings.Contains(string(b), `"path":"a.txt"`) {
			t.Errorf("GET %s: %d %.200s", p, resp.StatusCode, b)
		}
	}
}

// TestAuthUIPagesShowNothingOfAnother: my objects may name another's (a
// parent run, a trace's source run, a version's run) in tags a client
// sets; the UI's pages of mine show nothing of theirs.
func TestAuthUIPagesShowNothingOfAnother(t *testing.T) {
	as, mine, theirs := twoTenants(t)
	call := func(method, path string, body any) string {
		t.Helper()
		st, b, _ := as.call(t, "edit", method, path, body)
		if st != 200 {
			t.Fatalf("%s %s: %d %s", method, path, st, b)
		}
		return b
	}
	call("POST", "/api/2.0/mlflow/runs/set-tag", map[string]any{"run_id": mine.run, "key": "mlflow.parentRunId", "value": theirs.run})
	call("PATCH", "/api/2.0/mlflow/traces/"+mine.trace+"/tags", map[string]any{"key": "mlflow.sourceRun", "value": theirs.run})
	call("POST", "/api/2.0/mlflow/model-versions/set-tag", map[string]any{"name": mine.model, "version": "1", "key": "mlflow.source.run_id", "value": theirs.run})
	for _, p := range []string{"/runs/" + mine.run, "/traces/" + mine.trace, "/models/" + url.PathEscape(mine.model), "/experiments/" + mine.exp,
		"/experiments/" + mine.exp + "/traces", "/logged-models/" + mine.loggedModel, "/experiments", "/models", "/compare?runs=" + mine.run} {
		st, body, _ := as.call(t, "edit", "GET", p, nil)
		if strings.Contains(body, secret) {
			i := strings.Index(body, secret)
			t.Errorf("GET %s (%d) shows their objects: …%s…", p, st, body[max(0, i-200):min(len(body), i+50)])
		}
	}
}
