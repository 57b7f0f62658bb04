package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/auth"
	authsqlite "github.com/mlrun/mlrun/auth/sqlite"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// authServer is a real server with basic-auth on a new SQLite database
// (upgraded to MLflow 3's tables, so logged models work) and a new auth
// database: admin/password, and one user per permission
// (manage, edit, read, none) with that row on each fixture.
type authServer struct {
	*testServer
	srv  *server.Server
	auth *authsqlite.Store
	def  auth.Permission
}

var roles = map[string]auth.Permission{"manage": auth.Manage, "edit": auth.Edit, "read": auth.Read, "none": auth.NoPermissions}

func newAuthServer(t testing.TB, def auth.Permission) *authServer {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "mlflow.db")
	testutil.NewMLflow3DB(t, path, "mlflow-artifacts:/")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{ArtifactRoot: "mlflow-artifacts:/"})
	if err != nil {
		t.Fatal(err)
	}
	as, err := authsqlite.Open(context.Background(), filepath.Join(dir, "basic_auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := as.CreateUser(ctx, "admin", "password", true); err != nil {
		t.Fatal(err)
	}
	for name := range roles {
		if _, err := as.CreateUser(ctx, name, name+"-pw", false); err != nil {
			t.Fatal(err)
		}
	}
	dest := filepath.Join(dir, "mlartifacts")
	srv := server.New(st, server.Options{Artifacts: local.New(dest), ArtifactRoots: []string{dest},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Auth: &server.AuthOptions{Store: as, DefaultPermission: def}})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); st.Close(); as.Close() })
	return &authServer{testServer: &testServer{url: hs.URL, store: st, artifacts: dest, dir: dir}, srv: srv, auth: as, def: def}
}

const csrf = "0123456789abcdef0123456789abcdef"

func password(user string) string {
	if user == "admin" {
		return "password"
	}
	return user + "-pw"
}

// call sends a request as user ("" for none) and returns status and body.
func (as *authServer) call(t *testing.T, user, method, path string, body any) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	ct := ""
	var otlpExp string
	switch b := body.(type) {
	case nil:
	case otlpBody: // an OTLP export: JSON, its experiment in the header
		rd, ct, otlpExp = strings.NewReader(`{"resourceSpans": []}`), "application/json", string(b)
	case string:
		rd, ct = strings.NewReader(b), "application/x-www-form-urlencoded"
	default:
		j, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, as.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if strings.HasPrefix(ct, "application/x-www") {
		req.AddCookie(&http.Cookie{Name: "mlrun_csrf", Value: csrf})
	}
	if otlpExp != "" {
		req.Header.Set(server.OTLPExperimentHeader, otlpExp)
	}
	if user != "" {
		req.SetBasicAuth(user, password(user))
	}
	return send(t, req)
}

// otlpBody is the experiment of an empty OTLP export to send.
type otlpBody string

// fixture is one experiment with a run, a registered model with a version
// and a logged model, each role holding its permission on both.
type fixture struct {
	exp, expName, run, model, loggedModel string
	victim                                string // a user for admins to change
	trace                                 string // a trace in exp
	assessment                            string // an assessment of the trace
	dataset                               string // an evaluation dataset linked to exp
}

func (as *authServer) fixture(t testing.TB, n int, withVictim bool) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{expName: fmt.Sprintf("exp-%d", n), model: fmt.Sprintf("model-%d", n)}
	var err error
	if f.exp, err = as.store.CreateExperiment(ctx, f.expName, "", nil); err != nil {
		t.Fatal(err)
	}
	r, err := as.store.CreateRun(ctx, store.CreateRun{ExperimentID: f.exp})
	if err != nil {
		t.Fatal(err)
	}
	f.run = r.Info.RunID
	if _, err := as.store.CreateRegisteredModel(ctx, f.model, nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := as.store.CreateModelVersion(ctx, registry.CreateVersion{Name: f.model, Source: "mlflow-artifacts:/x/model"}); err != nil {
		t.Fatal(err)
	}
	lm, err := as.store.CreateLoggedModel(ctx, store.LoggedModel{ExperimentID: f.exp, Name: "lm"})
	if err != nil {
		t.Fatal(err)
	}
	f.loggedModel = lm.ModelID
	tr, err := as.store.StartTrace(ctx, f.exp, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.trace = tr.RequestID
	asm, err := as.store.CreateAssessment(ctx, store.Assessment{TraceID: tr.RequestID, Name: "ok", Type: "feedback", Value: "true", SourceType: "HUMAN", Valid: true})
	if err != nil {
		t.Fatal(err)
	}
	f.assessment = asm.ID
	d, err := as.store.CreateEvaluationDataset(ctx, "eval", nil, []string{f.exp})
	if err != nil {
		t.Fatal(err)
	}
	f.dataset = d.ID
	f.victim = fmt.Sprintf("victim-%d", n)
	if withVictim {
		if _, err := as.auth.CreateUser(ctx, f.victim, "x", false); err != nil {
			t.Fatal(err)
		}
	}
	for name, p := range roles {
		if err := as.auth.SetExperimentPermission(ctx, f.exp, name, p); err != nil {
			t.Fatal(err)
		}
		if err := as.auth.SetModelPermission(ctx, f.model, name, p); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// request builds a request for a route key that locates f, as user.
func (f fixture) request(key, user string) (method, path string, body any) {
	method, pattern, _ := strings.Cut(strings.TrimPrefix(key, "UI "), " ")
	repl := strings.NewReplacer("{id}", f.loggedModel, "{key}", "k", "{path...}", f.exp+"/"+f.run+"/artifacts/f.txt", "{$}", "", "{request_id}", f.trace)
	if strings.HasPrefix(key, "UI ") {
		switch {
		case strings.HasPrefix(pattern, "/runs/"):
			repl = strings.NewReplacer("{id}", f.run)
		case strings.HasPrefix(pattern, "/traces/"):
			repl = strings.NewReplacer("{id}", f.trace)
		case strings.HasPrefix(pattern, "/models/"), strings.HasPrefix(pattern, "/prompts/"):
			repl = strings.NewReplacer("{name}", url.PathEscape(f.model))
		case strings.HasPrefix(pattern, "/datasets/"):
			repl = strings.NewReplacer("{dataset_id}", f.dataset)
		case strings.HasPrefix(pattern, "/logged-models/"):
			repl = strings.NewReplacer("{id}", f.loggedModel)
		default:
			repl = strings.NewReplacer("{id}", f.exp, "{action}", "delete", "{$}", "")
		}
	}
	if strings.HasPrefix(pattern, "/api/2.0/mlflow-artifacts/mpu/") {
		repl = strings.NewReplacer("{path...}", "create/"+f.exp+"/"+f.run+"/artifacts/f.txt")
	}
	path = repl.Replace(pattern)
	if path == "/v1/traces" {
		return method, path, otlpBody(f.exp)
	}
	if !strings.HasPrefix(key, "UI ") && !strings.Contains(path, "/3.0/mlflow/") && !strings.HasPrefix(path, "/api/2.0/mlflow-artifacts") && path != "/get-artifact" && path != "/model-versions/get-artifact" && path != "/health" && path != "/version" && path != "/signup" {
		path = "/api/2.0/mlflow" + path
		if path == "/api/2.0/mlflow/upload-artifact" || path == "/api/2.0/mlflow/metrics/get-history-bulk" || path == "/api/2.0/mlflow/experiments/search-datasets" || path == "/api/2.0/mlflow/get-trace-artifact" {
			path = "/ajax-api/2.0/mlflow" + strings.TrimPrefix(path, "/api/2.0/mlflow")
		}
	}
	params := map[string]any{"experiment_id": f.exp, "experiment_name": f.expName, "run_id": f.run, "run_uuid": f.run,
		"name": f.model, "new_name": f.model + "-renamed", "username": user, "version": "1", "key": "k", "value": "v",
		"permission": "READ", "path": f.exp + "/" + f.run + "/artifacts", "metric_key": "m", "max_results": 10,
		"experiment_ids": []string{f.exp}, "run_ids": []string{f.run}, "runs": f.run, "password": password(user), "alias": "a", "request_id": f.trace,
		"trace_id": f.trace, "prompt_versions": []map[string]string{{"name": "p", "version": "1"}}}
	switch {
	case strings.Contains(key, "/users/delete"), strings.Contains(key, "/users/update-admin"):
		params["username"], params["is_admin"] = f.victim, false
	case strings.Contains(key, "/users/create"):
		params["username"] = f.victim + "-new-" + user
	}
	if strings.Contains(pattern, "/3.0/mlflow/") {
		path = strings.NewReplacer("{trace_id}", f.trace, "{assessment_id}", f.assessment, "{dataset_id}", f.dataset, "{key}", "k").Replace(pattern)
		loc := map[string]any{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": map[string]any{"experiment_id": f.exp}}
		switch {
		case strings.Contains(path, "/datasets/"):
			if method == "GET" {
				return method, path + "?" + url.Values{"experiment_ids": {f.exp}}.Encode(), nil
			}
			return method, path, map[string]any{"name": "d", "experiment_ids": []string{f.exp}, "tags": `{"a": "b"}`,
				"records": `[{"inputs": {"q": 1}}]`, "dataset_record_ids": []string{"dr-x"}}
		case strings.Contains(path, "/scorers/"):
			if method == "GET" {
				return method, path + "?" + url.Values{"experiment_id": {f.exp}, "name": {"s"}}.Encode(), nil
			}
			return method, path, map[string]any{"experiment_id": f.exp, "name": "s", "serialized_scorer": `{"name": "s"}`}
		case strings.HasSuffix(path, "/traces/get"):
			return method, path + "?" + url.Values{"trace_id": {f.trace}, "allow_partial": {"true"}}.Encode(), nil
		case strings.HasSuffix(path, "/traces/batchGet"):
			return method, path + "?" + url.Values{"trace_ids": {f.trace, "tr-unknown"}}.Encode(), nil
		case method == "GET":
			return method, path, nil
		case strings.HasSuffix(path, "/traces"):
			return method, path, map[string]any{"trace": map[string]any{"trace_info": map[string]any{"trace_id": "tr-" + f.trace, "trace_location": loc,
				"request_time": "2026-01-01T00:00:00Z", "execution_duration": "0.250s", "state": "OK"}}}
		case strings.HasSuffix(path, "/search"):
			return method, path, map[string]any{"locations": []any{loc}}
		case strings.Contains(path, "/assessments"):
			return method, path, map[string]any{"assessment": map[string]any{"assessment_name": "ok", "source": map[string]any{"source_type": "HUMAN"},
				"feedback": map[string]any{"value": true}, "rationale": "r"}, "update_mask": "rationale"}
		}
		return method, path, params
	}
	if strings.HasPrefix(key, "UI POST") {
		return method, path, "csrf=" + csrf + "&run=" + f.run + "&name=n"
	}
	if strings.HasSuffix(path, "/upload-artifact") { // the raw file; the run in the query
		return method, path + "?" + url.Values{"run_uuid": {f.run}, "path": {"f.txt"}}.Encode(), "file content"
	}
	if method == "GET" || method == "HEAD" {
		q := url.Values{}
		for k, v := range params {
			switch v := v.(type) {
			case []string:
				q[k] = v
			default:
				q.Set(k, fmt.Sprint(v))
			}
		}
		q.Add("run_id", f.run) // get-history-bulk repeats run_id
		return method, path + "?" + q.Encode(), nil
	}
	if method == "PUT" {
		return method, path, map[string]any{}
	}
	return method, path, params
}

// TestAuthRulesCoverEveryRoute walks every route the server registers:
// each has a rule, and for each role (anonymous, admin, MANAGE, EDIT,
// READ, NO_PERMISSIONS) the rule is what the server enforces: 401 without
// credentials, 403 "Permission denied" exactly where the role's
// permission falls short, and never 401 or 403 where it suffices. A new
// route without a rule fails here.
func TestAuthRulesCoverEveryRoute(t *testing.T) {
	as := newAuthServer(t, auth.Read)
	routes := as.srv.Routes()
	sort.Strings(routes)
	seen := map[string]bool{}
	for i, key := range routes {
		if seen[key] {
			continue
		}
		seen[key] = true
		rl := server.RuleOf(key)
		if key == "GET /health" {
			continue // open, as MLflow's
		}
		if !rl.Found {
			t.Errorf("route %s has no permission rule in authRules", key)
			continue
		}
		for j, user := range []string{"", "none", "read", "edit", "manage", "admin"} {
			f := as.fixture(t, i*10+j, strings.Contains(key, "/users/")) // fresh: an allowed rename or delete changes it
			method, path, body := f.request(key, user)
			status, got, hdr := as.call(t, user, method, path, body)
			switch {
			case user == "":
				if key == "UI GET /static/" {
					continue
				}
				if status != 401 || hdr.Get("WWW-Authenticate") != `Basic realm="mlflow"` || !strings.HasPrefix(got, "You are not authenticated.") {
					t.Errorf("%s %s anonymous: %d %q, want MLflow's 401", method, path, status, got)
				}
				continue
			case user == "admin":
				if status == 401 || status == 403 {
					t.Errorf("%s %s as admin: %d %s", method, path, status, got)
				}
				continue
			}
			p := roles[user]
			allowed := map[string]bool{"authenticated": true, "admin": false, "self": true, "read": p.CanRead(), "update": p.CanUpdate(),
				"delete": p.CanDelete(), "manage": p.CanManage(), "": true}[rl.Need]
			if allowed && (status == 401 || status == 403) {
				t.Errorf("%s %s as %s (rule %s): %d %s, want it let through", method, path, user, rl.Need, status, got)
			}
			if !allowed && (status != 403 || got != "Permission denied") {
				t.Errorf("%s %s as %s (rule %s): %d %q, want 403 Permission denied", method, path, user, rl.Need, status, got)
			}
		}
	}
	if len(seen) < 90 {
		t.Fatalf("only %d routes walked", len(seen))
	}
}
