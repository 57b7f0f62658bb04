package server_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
)

var linkAttr = regexp.MustCompile(`(?:href|src|action|formaction)="([^"]*)"`)

// TestStaticPrefix: under --static-prefix /mlflow the REST API (the
// artifact proxy too) and /metrics stay at the root, while /ajax-api, the
// UI and the helper routes answer only below the prefix (MLflow's
// _add_static_prefix rule); every link a UI page writes carries the prefix
// and leads to a page that answers; a form's redirect stays under it.
func TestStaticPrefix(t *testing.T) {
	const p = "/mlflow"
	srv := testutil.StartServer(t, true, func(o *server.Options) { o.StaticPrefix = p; o.Metrics = server.NewMetrics() })
	ctx := context.Background()
	exp, err := srv.Store.CreateExperiment(ctx, "prefixed", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := srv.Store.CreateRun(ctx, store.CreateRun{ExperimentID: exp, RunName: "a-run", StartTime: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Store.LogBatch(ctx, r.Info.RunID, []store.Metric{{Key: "rmse", Value: 0.5, Timestamp: 1}}, []store.Param{{Key: "alpha", Value: "0.1"}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Store.CreateRegisteredModel(ctx, "wine", nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Store.CreateModelVersion(ctx, registry.CreateVersion{Name: "wine", Source: r.Info.ArtifactURI + "/model", RunID: r.Info.RunID}); err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	call := func(method, path, body string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	// The artifact proxy is REST API: at the root.
	artPath := strings.TrimPrefix(r.Info.ArtifactURI, "mlflow-artifacts:/") + "/notes.txt"
	if code, body, _ := call("PUT", "/api/2.0/mlflow-artifacts/artifacts/"+artPath, "hello"); code != 200 {
		t.Fatalf("proxy upload at the root: %d %s", code, body)
	}
	for _, c := range []struct {
		path string
		code int
		has  string
	}{
		{"/api/2.0/mlflow/experiments/get?experiment_id=" + exp, 200, "prefixed"},
		{"/api/2.0/mlflow-artifacts/artifacts/" + artPath, 200, "hello"},
		{"/metrics", 200, "mlflow_http_request_total"},
		{p + "/api/2.0/mlflow/experiments/get?experiment_id=" + exp, 404, ""},
		{p + "/ajax-api/2.0/mlflow/experiments/get?experiment_id=" + exp, 200, "prefixed"},
		{"/ajax-api/2.0/mlflow/experiments/get?experiment_id=" + exp, 404, ""},
		{p + "/health", 200, "OK"},
		{"/health", 404, ""},
		{p + "/version", 200, server.Version},
		{"/version", 404, ""},
		{p + "/get-artifact?run_id=" + r.Info.RunID + "&path=notes.txt", 200, "hello"},
		{"/get-artifact?run_id=" + r.Info.RunID + "&path=notes.txt", 404, ""},
		{p + "/static/app.js", 200, "mlrun-base"},
		{"/static/app.js", 404, ""},
		{"/experiments", 404, ""},
		{p + "x/experiments", 404, ""},
	} {
		code, body, _ := call("GET", c.path, "")
		if code != c.code || !strings.Contains(body, c.has) {
			t.Errorf("GET %s: %d, want %d with %q:\n%.300s", c.path, code, c.code, c.has, body)
		}
	}
	// A bare / (what MLflow's client links to: http://host/#/…) and the
	// prefix itself lead to the UI.
	for from, to := range map[string]string{"/": p + "/", p: p + "/experiments", p + "/": p + "/experiments"} {
		if code, _, h := call("GET", from, ""); code != http.StatusFound || h.Get("Location") != to {
			t.Errorf("GET %s: %d to %q, want 302 to %s", from, code, h.Get("Location"), to)
		}
	}
	// Walk the UI from its start: every link carries the prefix and answers.
	seen := map[string]bool{}
	// (compare and charts are reached by the runs table's script)
	queue := []string{p + "/experiments", p + "/compare?runs=" + r.Info.RunID, p + "/charts?runs=" + r.Info.RunID + "&key=rmse"}
	for len(queue) > 0 && len(seen) < 200 {
		page := queue[0]
		queue = queue[1:]
		if seen[page] {
			continue
		}
		seen[page] = true
		code, body, _ := call("GET", page, "")
		if code != 200 {
			t.Errorf("GET %s (a link of the UI): %d", page, code)
			continue
		}
		if !strings.Contains(page, "/static/") && !strings.Contains(page, "get-artifact") && !strings.Contains(body, `<meta name="mlrun-base" content="`+p+`">`) {
			t.Errorf("%s does not tell its script the prefix", page)
		}
		for _, m := range linkAttr.FindAllStringSubmatch(body, -1) {
			link := html.UnescapeString(m[1])
			if link == "" || strings.HasPrefix(link, "?") || strings.HasPrefix(link, "#") {
				continue
			}
			if !strings.HasPrefix(link, p+"/") {
				t.Errorf("%s links to %q, outside %s", page, link, p)
				continue
			}
			if strings.Contains(m[0], "action=") {
				continue // a form target: POST only
			}
			queue = append(queue, link)
		}
	}
	if len(seen) < 8 {
		t.Fatalf("the walk saw only %d pages: %v", len(seen), seen)
	}
	// A form posts below the prefix and is sent back below it.
	req, _ := http.NewRequest("POST", srv.URL+p+"/experiments/create", strings.NewReader(url.Values{"name": {"from-form"}, "csrf": {strings.Repeat("a", 32)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "mlrun_csrf", Value: strings.Repeat("a", 32)})
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, p+"/experiments/") {
		t.Fatalf("form redirect: %d to %q, want 303 below %s", resp.StatusCode, loc, p)
	}
}
