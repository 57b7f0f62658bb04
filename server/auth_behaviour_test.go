package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/auth"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

func jsonOf(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not JSON: %q", s)
	}
	return m
}

func wantError(t *testing.T, what string, status int, body string, wantStatus int, code, msg string) {
	t.Helper()
	m := map[string]any{}
	json.Unmarshal([]byte(body), &m)
	if status != wantStatus || m["error_code"] != code || (msg != "" && m["message"] != msg) {
		t.Errorf("%s: %d %s, want %d %s %q", what, status, body, wantStatus, code, msg)
	}
}

// TestAuthUserEndpoints: MLflow's user and permission endpoints with
// their status codes, error codes and body format.
func TestAuthUserEndpoints(t *testing.T) {
	as := newAuthServer(t, auth.Read)
	const p = "/api/2.0/mlflow"
	st, body, hdr := as.call(t, "admin", "POST", p+"/users/create", map[string]any{"username": "zoe", "password": "zoe:pw"})
	if st != 200 || body != `{"user":{"experiment_permissions":[],"id":6,"is_admin":false,"registered_model_permissions":[],"username":"zoe"}}`+"\n" || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("users/create: %d %q", st, body)
	}
	st, body, _ = as.call(t, "admin", "POST", p+"/users/create", map[string]any{"username": "zoe", "password": "x"})
	wantError(t, "duplicate user", st, body, 400, "RESOURCE_ALREADY_EXISTS", "User (username=zoe) already exists.")
	st, body, _ = as.call(t, "admin", "POST", p+"/users/create", map[string]any{"username": "", "password": "x"})
	wantError(t, "empty username", st, body, 400, "INVALID_PARAMETER_VALUE", "Username cannot be empty.")
	// Exactly application/json, as MLflow dispatches.
	req, _ := http.NewRequest("POST", as.url+p+"/users/create", strings.NewReader(`{"username":"x","password":"y"}`))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.SetBasicAuth("admin", "password")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("users/create with a charset: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The sign-up form.
	if st, body, _ := as.call(t, "admin", "POST", p+"/users/create", "username=yan&password=pw"); st != 200 || !strings.Contains(body, "Successfully signed up user: yan") {
		t.Errorf("sign-up form: %d %s", st, body)
	}
	if st, body, _ := as.call(t, "admin", "GET", "/signup", nil); st != 200 || !strings.Contains(body, `action="/api/2.0/mlflow/users/create"`) {
		t.Errorf("GET /signup: %d %s", st, body)
	}
	// The user endpoints exist only under /api.
	if st, _, _ := as.call(t, "admin", "GET", "/ajax-api/2.0/mlflow/users/get?username=zoe", nil); st != 404 {
		t.Errorf("ajax users/get: %d, want 404", st)
	}
	// A user reads itself, not another.
	if st, body, _ := as.call(t, "read", "GET", p+"/users/get?username=read", nil); st != 200 || strings.Contains(body, "password") {
		t.Errorf("users/get self: %d %s", st, body)
	}
	if st, body, _ := as.call(t, "read", "GET", p+"/users/get?username=zoe", nil); st != 403 || body != "Permission denied" {
		t.Errorf("users/get other: %d %s", st, body)
	}
	st, body, _ = as.call(t, "admin", "GET", p+"/users/get?username=ghost", nil)
	wantError(t, "unknown user", st, body, 404, "RESOURCE_DOES_NOT_EXIST", "User with username=ghost not found")
	st, body, _ = as.call(t, "admin", "PATCH", p+"/users/update-admin", map[string]any{"username": "zoe", "is_admin": "false"})
	wantError(t, "is_admin as a string", st, body, 400, "BAD_REQUEST", "")
	if st, body, _ := as.call(t, "admin", "PATCH", p+"/users/update-admin", map[string]any{"username": "zoe", "is_admin": 1}); st != 200 || body != "{}\n" {
		t.Errorf("update-admin 1: %d %q", st, body)
	}
	st, body, _ = as.call(t, "admin", "GET", p+"/users/get", nil)
	wantError(t, "missing username", st, body, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'username'. See the API docs for more information about request parameters.")
	// Passwords: a user changes its own; the old one stops working.
	if st, _, _ := as.call(t, "read", "PATCH", p+"/users/update-password", map[string]any{"username": "read", "password": "read-pw"}); st != 200 {
		t.Errorf("update-password: %d", st)
	}

	// Permissions.
	e, _ := as.store.CreateExperiment(context.Background(), "perm-exp", "", nil)
	st, body, _ = as.call(t, "admin", "POST", p+"/experiments/permissions/create", map[string]any{"experiment_id": e, "username": "zoe", "permission": "WRITE"})
	wantError(t, "bad permission", st, body, 400, "INVALID_PARAMETER_VALUE", "Invalid permission 'WRITE'. Valid permissions are: ('READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS')")
	st, body, _ = as.call(t, "admin", "POST", p+"/experiments/permissions/create", map[string]any{"experiment_id": e, "username": "ghost", "permission": "READ"})
	wantError(t, "grant to an unknown user", st, body, 404, "RESOURCE_DOES_NOT_EXIST", "User with username=ghost not found")
	if st, body, _ := as.call(t, "admin", "POST", p+"/experiments/permissions/create", map[string]any{"experiment_id": e, "username": "zoe", "permission": "EDIT"}); st != 200 ||
		body != fmt.Sprintf(`{"experiment_permission":{"experiment_id":"%s","permission":"EDIT","user_id":6}}`+"\n", e) {
		t.Errorf("grant: %d %q", st, body)
	}
	st, body, _ = as.call(t, "admin", "POST", p+"/experiments/permissions/create", map[string]any{"experiment_id": e, "username": "zoe", "permission": "READ"})
	wantError(t, "grant twice", st, body, 400, "RESOURCE_ALREADY_EXISTS", "")
	st, body, _ = as.call(t, "admin", "GET", p+"/experiments/permissions/get?experiment_id=999&username=zoe", nil)
	wantError(t, "no row", st, body, 404, "RESOURCE_DOES_NOT_EXIST", "Experiment permission with experiment_id=999 and username=zoe not found")
	// Grants never check that the experiment or model exists.
	if st, _, _ := as.call(t, "admin", "POST", p+"/registered-models/permissions/create", map[string]any{"name": "ghost", "username": "zoe", "permission": "READ"}); st != 200 {
		t.Errorf("grant on a model that does not exist: %d", st)
	}
	st, body, _ = as.call(t, "admin", "GET", p+"/registered-models/permissions/get?name=other&username=zoe", nil)
	wantError(t, "no model row", st, body, 404, "RESOURCE_DOES_NOT_EXIST", "Registered model permission with name=other and username=zoe not found")
	if st, _, _ := as.call(t, "admin", "PATCH", p+"/experiments/permissions/update", map[string]any{"experiment_id": e, "username": "zoe", "permission": "MANAGE"}); st != 200 {
		t.Errorf("update grant: %d", st)
	}
	// A MANAGE user grants on its experiment; an EDIT user may not.
	if st, _, _ := as.call(t, "zoe", "POST", p+"/experiments/permissions/create", map[string]any{"experiment_id": e, "username": "read", "permission": "EDIT"}); st != 401 {
		t.Errorf("zoe's password was never zoe-pw: %d", st) // zoe's password is zoe:pw
	}
	as.auth.UpdatePassword(context.Background(), "zoe", "zoe-pw")
	if st, body, _ := as.call(t, "zoe", "POST", p+"/experiments/permissions/create", map[string]any{"experiment_id": e, "username": "read", "permission": "EDIT"}); st != 200 {
		t.Errorf("grant by a MANAGE user: %d %s", st, body)
	}
	if st, _, _ := as.call(t, "read", "PATCH", p+"/experiments/permissions/update", map[string]any{"experiment_id": e, "username": "read", "permission": "MANAGE"}); st != 403 {
		t.Errorf("an EDIT user raising itself: %d, want 403", st)
	}
	// Deleting a user who holds permissions removes them (MLflow: 400).
	if st, body, _ := as.call(t, "admin", "DELETE", p+"/users/delete", map[string]any{"username": "zoe"}); st != 200 || body != "{}\n" {
		t.Fatalf("delete a user with rows: %d %s", st, body)
	}
	if _, err := as.auth.GetUser(context.Background(), "zoe"); err == nil {
		t.Fatal("zoe is still there")
	}
	if st, _, _ := as.call(t, "zoe", "GET", p+"/experiments/get?experiment_id=0", nil); st != 401 {
		t.Fatalf("a deleted user still logs in: %d", st)
	}
}

// TestAuthSearchFiltering: searches return only what the user may read,
// pages are refilled from later items, never over max_results, and
// together give every readable item once.
func TestAuthSearchFiltering(t *testing.T) {
	as := newAuthServer(t, auth.Read)
	ctx := context.Background()
	const p = "/api/2.0/mlflow"
	readable := map[string]bool{"0": true}
	var exps []string
	for i := 0; i < 12; i++ {
		id, _ := as.store.CreateExperiment(ctx, fmt.Sprintf("e%02d", i), "", nil)
		exps = append(exps, id)
		if i%3 == 1 {
			as.auth.SetExperimentPermission(ctx, id, "read", auth.NoPermissions)
		} else {
			readable[id] = true
		}
		r, _ := as.store.CreateRun(ctx, store.CreateRun{ExperimentID: id})
		as.store.LogMetric(ctx, r.Info.RunID, store.Metric{Key: "m", Value: 1, Timestamp: 1})
		m := fmt.Sprintf("m%02d", i)
		as.store.CreateRegisteredModel(ctx, m, nil, "")
		as.store.CreateModelVersion(ctx, registry.CreateVersion{Name: m, Source: "mlflow-artifacts:/x"})
		if i%3 == 1 {
			as.auth.SetModelPermission(ctx, m, "read", auth.NoPermissions)
		}
	}
	for _, max := range []int{1, 2, 3, 5, 100} {
		got := map[string]bool{}
		token := ""
		for page := 0; ; page++ {
			st, body, _ := as.call(t, "read", "POST", p+"/experiments/search", map[string]any{"max_results": max, "page_token": token})
			if st != 200 {
				t.Fatalf("search: %d %s", st, body)
			}
			var out struct {
				Experiments []struct {
					ID string `json:"experiment_id"`
				} `json:"experiments"`
				Token string `json:"next_page_token"`
			}
			json.Unmarshal([]byte(body), &out)
			if len(out.Experiments) > max {
				t.Fatalf("max_results %d: page of %d", max, len(out.Experiments))
			}
			for _, e := range out.Experiments {
				if !readable[e.ID] || got[e.ID] {
					t.Fatalf("max_results %d: page %d has %s (readable %v, seen %v)", max, page, e.ID, readable[e.ID], got[e.ID])
				}
				got[e.ID] = true
			}
			if out.Token == "" {
				break
			}
			if len(out.Experiments) < max {
				t.Fatalf("max_results %d: a short page %d with a token", max, page)
			}
			token = out.Token
		}
		if len(got) != len(readable) {
			t.Fatalf("max_results %d: %d readable experiments found, want %d", max, len(got), len(readable))
		}
	}
	// The admin sees everything; GET works too.
	if st, body, _ := as.call(t, "admin", "GET", p+"/experiments/search?max_results=100", nil); st != 200 || strings.Count(body, `"experiment_id"`) != 13 {
		t.Fatalf("admin search: %d %s", st, body)
	}
	// Registered models and versions (MLflow leaves versions unfiltered).
	for _, c := range []struct{ path, key string }{{"/registered-models/search?max_results=4", "registered_models"}, {"/model-versions/search?max_results=1000", "model_versions"}} {
		st, body, _ := as.call(t, "read", "GET", p+c.path, nil)
		if st != 200 {
			t.Fatalf("%s: %d %s", c.path, st, body)
		}
		for _, bad := range []string{"m01", "m04", "m07", "m10"} {
			if strings.Contains(body, `"`+bad+`"`) {
				t.Errorf("%s shows unreadable %s: %s", c.path, bad, body)
			}
		}
	}
	// runs/search narrows experiment_ids; all unreadable → {}.
	st, body, _ := as.call(t, "read", "POST", p+"/runs/search", map[string]any{"experiment_ids": exps})
	var runs struct {
		Runs []struct {
			Info struct {
				Exp string `json:"experiment_id"`
			} `json:"info"`
		} `json:"runs"`
	}
	json.Unmarshal([]byte(body), &runs)
	if st != 200 || len(runs.Runs) != 8 {
		t.Fatalf("runs/search: %d, %d runs, want the 8 readable", st, len(runs.Runs))
	}
	for _, r := range runs.Runs {
		if !readable[r.Info.Exp] {
			t.Fatalf("runs/search returned a run of unreadable experiment %s", r.Info.Exp)
		}
	}
	if st, body, _ := as.call(t, "read", "POST", p+"/runs/search", map[string]any{"experiment_ids": []string{exps[1], exps[4]}}); st != 200 || body != "{}" {
		t.Fatalf("runs/search of unreadable experiments only: %d %s", st, body)
	}
	// Bulk metric history leaves unreadable runs out.
	q := url.Values{"metric_key": {"m"}}
	for _, e := range exps[:3] {
		rs, _, _ := as.store.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: []string{e}, MaxResults: 1})
		q.Add("run_id", rs[0].Info.RunID)
	}
	st, body, _ = as.call(t, "read", "GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk?"+q.Encode(), nil)
	if st != 200 || strings.Count(body, `"run_id"`) != 2 {
		t.Fatalf("get-history-bulk: %d %s, want the 2 readable runs", st, body)
	}
}

// TestAuthHolesClosed: what MLflow 2.17.2's app leaves open follows the
// rule of its neighbours in mlrun.
func TestAuthHolesClosed(t *testing.T) {
	as := newAuthServer(t, auth.Read)
	ctx := context.Background()
	const p = "/api/2.0/mlflow"
	f := as.fixture(t, 1, false)
	// "none" may not log inputs, read or write artifacts of f's run.
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", p + "/runs/log-inputs", map[string]any{"run_id": f.run, "datasets": []any{}}},
		{"GET", "/get-artifact?run_uuid=" + f.run + "&path=x", nil},
		{"GET", "/api/2.0/mlflow-artifacts/artifacts?path=" + f.exp + "/" + f.run, nil},
		{"GET", "/api/2.0/mlflow-artifacts/artifacts/" + f.exp + "/" + f.run + "/artifacts/x", nil},
		{"POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid=" + f.run + "&path=x", nil},
		{"POST", "/ajax-api/2.0/mlflow/experiments/search-datasets", map[string]any{"experiment_ids": []string{f.exp}}},
	} {
		st, body, _ := as.call(t, "none", c.method, c.path, c.body)
		if c.path == "/ajax-api/2.0/mlflow/experiments/search-datasets" {
			if st != 200 || body != "{}" {
				t.Errorf("%s %s as NO_PERMISSIONS: %d %s, want {}", c.method, c.path, st, body)
			}
			continue
		}
		if st != 403 || body != "Permission denied" {
			t.Errorf("%s %s as NO_PERMISSIONS: %d %s, want 403", c.method, c.path, st, body)
		}
	}
	// READ may download through the proxy but not upload; EDIT uploads;
	// only MANAGE deletes.
	art := "/api/2.0/mlflow-artifacts/artifacts/" + f.exp + "/" + f.run + "/artifacts/a.txt"
	for _, c := range []struct {
		user, method string
		want         int
	}{{"read", "PUT", 403}, {"edit", "PUT", 200}, {"read", "GET", 200}, {"edit", "DELETE", 403}, {"manage", "DELETE", 200}} {
		var body any
		if c.method == "PUT" {
			body = "data"
		}
		if st, b, _ := as.call(t, c.user, c.method, art, body); st != c.want {
			t.Errorf("%s %s as %s: %d %s, want %d", c.method, art, c.user, st, b, c.want)
		}
	}
	// A creator gets MANAGE; a rename moves every row; a pre-granted name
	// is upserted to MANAGE.
	as.auth.SetModelPermission(ctx, "pre", "edit", auth.Read)
	for _, name := range []string{"mine", "pre"} {
		if st, body, _ := as.call(t, "edit", "POST", p+"/registered-models/create", map[string]any{"name": name}); st != 200 {
			t.Fatalf("create %s: %d %s", name, st, body)
		}
		if mp, err := as.auth.GetModelPermission(ctx, name, "edit"); err != nil || mp.Permission != auth.Manage {
			t.Fatalf("creator of %s: %+v %v, want MANAGE", name, mp, err)
		}
	}
	as.auth.SetModelPermission(ctx, "mine", "read", auth.Edit)
	if st, body, _ := as.call(t, "edit", "POST", p+"/registered-models/rename", map[string]any{"name": "mine", "new_name": "yours"}); st != 200 {
		t.Fatalf("rename: %d %s", st, body)
	}
	if st, body, _ := as.call(t, "edit", "PATCH", p+"/registered-models/update", map[string]any{"name": "yours", "description": "d"}); st != 200 {
		t.Fatalf("the creator after a rename: %d %s, want MANAGE kept", st, body)
	}
	if mp, err := as.auth.GetModelPermission(ctx, "yours", "read"); err != nil || mp.Permission != auth.Edit {
		t.Fatalf("read's row after rename: %+v %v", mp, err)
	}
	// An admin deletes another user's model: 200, every row gone.
	if st, body, _ := as.call(t, "admin", "DELETE", p+"/registered-models/delete", map[string]any{"name": "yours"}); st != 200 || body != "{}" {
		t.Fatalf("admin deletes a model: %d %s", st, body)
	}
	for _, u := range []string{"edit", "read"} {
		if _, err := as.auth.GetModelPermission(ctx, "yours", u); err == nil {
			t.Errorf("%s's row on the deleted model is left", u)
		}
	}
	// Experiments: the creator gets MANAGE, even an admin.
	st, body, _ := as.call(t, "read", "POST", p+"/experiments/create", map[string]any{"name": "by-read"})
	e := jsonOf(t, body)["experiment_id"]
	if st != 200 {
		t.Fatalf("create: %d %s", st, body)
	}
	if ep, err := as.auth.GetExperimentPermission(ctx, e.(string), "read"); err != nil || ep.Permission != auth.Manage {
		t.Fatalf("creator's row: %+v %v", ep, err)
	}
	// Default READ: no runs in Default without a grant.
	if st, _, _ := as.call(t, "read", "POST", p+"/runs/create", map[string]any{"experiment_id": "0"}); st != 403 {
		t.Fatalf("runs/create in Default as a READ user: %d, want 403", st)
	}
	// Lookups answer before the 403: an unknown run is 404, a missing
	// locator 400, both as MLflow's JSON.
	st, body, _ = as.call(t, "none", "GET", p+"/runs/get?run_id=0123456789abcdef0123456789abcdef", nil)
	wantError(t, "unknown run", st, body, 404, "RESOURCE_DOES_NOT_EXIST", "Run with id=0123456789abcdef0123456789abcdef not found")
	st, body, _ = as.call(t, "none", "GET", p+"/runs/get", nil)
	wantError(t, "no run id", st, body, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'run_uuid'. See the API docs for more information about request parameters.")
	st, body, _ = as.call(t, "none", "GET", p+"/experiments/get-by-name?experiment_name=nope", nil)
	wantError(t, "unknown experiment name", st, body, 404, "RESOURCE_DOES_NOT_EXIST", "Could not find experiment with name nope")
	// Open paths and the unknown: /health open; anything else 401 first.
	if st, _, _ := as.call(t, "", "GET", "/health", nil); st != 200 {
		t.Errorf("/health: %d", st)
	}
	if st, _, _ := as.call(t, "", "GET", "/no/such/page", nil); st != 401 {
		t.Errorf("unknown path without credentials: %d, want 401", st)
	}
	if st, _, _ := as.call(t, "read", "GET", "/no/such/page", nil); st != 404 {
		t.Errorf("unknown path: %d, want 404", st)
	}
	if st, body, _ := as.call(t, "none", "POST", "/api/2.0/mlflow-artifacts/artifacts/1/x", map[string]any{}); st != 405 {
		t.Errorf("a verb the proxy has no route for: %d %s, want 405 (MLflow: 500)", st, body)
	}
	// The UI lists only what the user may read.
	st, body, _ = as.call(t, "none", "GET", "/experiments", nil)
	if st != 200 || strings.Contains(body, f.expName) {
		t.Errorf("UI experiments as NO_PERMISSIONS on %s: %d, listed", f.expName, st)
	}
	if st, body, _ := as.call(t, "read", "GET", "/experiments", nil); st != 200 || !strings.Contains(body, f.expName) {
		t.Errorf("UI experiments as READ: %d, %s not listed", st, f.expName)
	}
	if st, body, _ := as.call(t, "none", "GET", "/models", nil); st != 200 || strings.Contains(body, f.model) {
		t.Errorf("UI models as NO_PERMISSIONS: %d, %s listed", st, f.model)
	}
}

// TestAuthWebhooksAdminOnly: a webhook sends every model's events to any
// URL, so only an administrator may create, list, read, change, delete or
// test one.
func TestAuthWebhooksAdminOnly(t *testing.T) {
	as := newAuthServer(t, auth.Manage)
	const p = "/api/2.0/mlflow"
	hook := map[string]any{"name": "ci", "url": "https://hooks.example.com/x", "events": []any{map[string]any{"entity": "MODEL_VERSION", "action": "CREATED"}}}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", p + "/webhooks", hook}, {"GET", p + "/webhooks", nil}, {"GET", p + "/webhooks/x", nil},
		{"PATCH", p + "/webhooks/x", map[string]any{"name": "y"}}, {"DELETE", p + "/webhooks/x", nil}, {"POST", p + "/webhooks/x/test", map[string]any{}},
	} {
		if st, body, _ := as.call(t, "manage", c.method, c.path, c.body); st != 403 || body != "Permission denied" {
			t.Errorf("%s %s as a non-admin with MANAGE by default: %d %s, want 403", c.method, c.path, st, body)
		}
	}
	if st, body, _ := as.call(t, "admin", "POST", p+"/webhooks", hook); st != 200 || !strings.Contains(body, `"webhook_id"`) {
		t.Errorf("create as admin: %d %s", st, body)
	}
}

// TestAuthEvaluationDatasets: a dataset inherits from every experiment it
// is linked to: a user who may read one of its experiments but not
// another neither sees it in a search (paged or not) nor reads it; EDIT
// on each is needed to merge records, and linking it to an experiment
// needs EDIT there too; one linked to no experiment follows the default
// permission.
func TestAuthEvaluationDatasets(t *testing.T) {
	as := newAuthServer(t, auth.Read)
	ctx := context.Background()
	const p = "/api/3.0/mlflow/datasets"
	open, _ := as.store.CreateExperiment(ctx, "open", "", nil)
	closed, _ := as.store.CreateExperiment(ctx, "closed", "", nil)
	mine, _ := as.store.CreateExperiment(ctx, "mine", "", nil)
	as.auth.SetExperimentPermission(ctx, closed, "read", auth.NoPermissions)
	as.auth.SetExperimentPermission(ctx, mine, "read", auth.Edit)
	visible := map[string]bool{}
	var both, editable string
	for i := range 6 {
		exps := []string{open}
		if i%2 == 1 {
			exps = append(exps, closed)
		}
		d, err := as.store.CreateEvaluationDataset(ctx, fmt.Sprintf("d%d", i), nil, exps)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			both = d.ID
		} else {
			visible[d.ID] = true
		}
	}
	orphan, _ := as.store.CreateEvaluationDataset(ctx, "orphan", nil, nil)
	visible[orphan.ID] = true
	d, _ := as.store.CreateEvaluationDataset(ctx, "editable", nil, []string{mine})
	editable = d.ID
	visible[editable] = true

	for _, max := range []int{1, 2, 100} {
		got := map[string]bool{}
		token := ""
		for {
			st, body, _ := as.call(t, "read", "POST", p+"/search", map[string]any{"max_results": max, "page_token": token})
			var out struct {
				Datasets []struct {
					ID string `json:"dataset_id"`
				} `json:"datasets"`
				Token string `json:"next_page_token"`
			}
			if st != 200 || json.Unmarshal([]byte(body), &out) != nil || len(out.Datasets) > max {
				t.Fatalf("search (max %d): %d %s", max, st, body)
			}
			for _, d := range out.Datasets {
				if !visible[d.ID] || got[d.ID] {
					t.Fatalf("search (max %d) shows %s (visible %v, seen %v)", max, d.ID, visible[d.ID], got[d.ID])
				}
				got[d.ID] = true
			}
			if token = out.Token; token == "" {
				break
			}
		}
		if len(got) != len(visible) {
			t.Fatalf("search (max %d): %d datasets seen, want %d", max, len(got), len(visible))
		}
	}
	for _, tc := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", p + "/" + both, nil, 403},
		{"GET", p + "/" + both + "/records", nil, 403},
		{"GET", p + "/" + orphan.ID, nil, 200},
		{"POST", p + "/" + orphan.ID + "/records", map[string]any{"records": `[{"inputs": {"q": 1}}]`}, 403},
		{"POST", p + "/" + editable + "/records", map[string]any{"records": `[{"inputs": {"q": 1}}]`}, 200},
		{"POST", p + "/" + editable + "/add-experiments", map[string]any{"experiment_ids": []string{open}}, 403},
		{"DELETE", p + "/" + editable, nil, 403},
		{"POST", p + "/create", map[string]any{"name": "x", "experiment_ids": []string{open}}, 403},
		{"POST", p + "/create", map[string]any{"name": "x", "experiment_ids": []string{mine}}, 200},
	} {
		st, body, _ := as.call(t, "read", tc.method, tc.path, tc.body)
		if st != tc.want {
			t.Errorf("%s %s as read: %d %s, want %d", tc.method, tc.path, st, body, tc.want)
		}
	}
	if st, body, _ := as.call(t, "admin", "GET", p+"/"+both, nil); st != 200 {
		t.Errorf("admin reading %s: %d %s", both, st, body)
	}
}
