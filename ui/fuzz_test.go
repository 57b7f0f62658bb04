package ui_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// planted is planted in every name and value a client can set (keys are
// validated: no markup gets in them); a
// page that writes it unescaped would run a client's script in another
// user's browser.
const planted = `<xss onload=alert(1)>"'`

// uiFixture is a store whose experiment, run, registered model, prompt,
// trace, logged model and evaluation dataset carry planted everywhere, served
// with its UI; ids are the objects' ids, for the pages' paths.
type uiFixture struct {
	h   http.Handler
	ids []string
}

func newUIFixture(tb testing.TB) *uiFixture {
	dir := tb.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "mlflow.db"), sqlite.Options{ArtifactRoot: filepath.Join(dir, "mlruns")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	exp, err := st.CreateExperiment(ctx, "e"+planted, "", []store.Tag{{Key: "mlflow.note.content", Value: "# d" + planted}, {Key: "t", Value: planted}})
	must(err)
	r, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp, RunName: "r" + planted, UserID: planted,
		Tags: []store.Tag{{Key: "mlflow.note.content", Value: planted}, {Key: "mlflow.source.name", Value: "javascript:alert(1)"},
			{Key: "mlflow.source.git.repoURL", Value: "javascript:alert(2)"}, {Key: "k", Value: planted}}})
	must(err)
	run := r.Info.RunID
	must(st.LogBatch(ctx, run, []store.Metric{{Key: "m", Value: 1, Timestamp: 1}, {Key: "m", Value: 2, Timestamp: 2, Step: 1}},
		[]store.Param{{Key: "p", Value: planted}}, nil))
	_, err = st.CreateRegisteredModel(ctx, "m"+planted, []store.Tag{{Key: "k", Value: planted}}, planted)
	must(err)
	_, err = st.CreateModelVersion(ctx, registry.CreateVersion{Name: "m" + planted, Source: "runs:/" + run + "/" + planted, RunID: run, Description: planted})
	must(err)
	_, err = st.CreateRegisteredModel(ctx, "p"+planted, []store.Tag{{Key: "mlflow.prompt.is_prompt", Value: "true"}}, planted)
	must(err)
	_, err = st.CreateModelVersion(ctx, registry.CreateVersion{Name: "p" + planted, Source: "dummy-source",
		Tags: []store.Tag{{Key: "mlflow.prompt.is_prompt", Value: "true"}, {Key: "mlflow.prompt.text", Value: "Hi {{x}} " + planted}}, Description: planted})
	must(err)
	_, err = st.CreateModelVersion(ctx, registry.CreateVersion{Name: "p" + planted, Source: "dummy-source",
		Tags: []store.Tag{{Key: "mlflow.prompt.is_prompt", Value: "true"}, {Key: "mlflow.prompt.text", Value: "Hello {{x}} " + planted}}})
	must(err)
	const trace = "tr-0af7651916cd43dd8448eb211c80319c"
	_, err = st.PutTrace(ctx, store.TraceInfo{RequestID: trace, ExperimentID: exp, TimestampMs: 1, ExecutionTimeMs: 5, Status: "OK",
		RequestMetadata: []store.Tag{{Key: "mlflow.sourceRun", Value: run}, {Key: "mlflow.trace.session", Value: planted}, {Key: "mlflow.trace.user", Value: planted}},
		Tags:            []store.Tag{{Key: "mlflow.traceName", Value: planted}, {Key: "k", Value: planted}}, RequestPreview: planted, ResponsePreview: planted})
	must(err)
	attr, _ := json.Marshal(map[string]any{"mlflow.spanInputs": `{"messages": [{"role": "user", "content": "` + strings.ReplaceAll(planted, `"`, `\"`) + `"}]}`,
		"mlflow.spanOutputs": `"` + strings.ReplaceAll(planted, `"`, `\"`) + `"`, "mlflow.spanType": "CHAT_MODEL", "k": planted})
	must(st.LogSpans(ctx, trace, []json.RawMessage{json.RawMessage(`{"trace_id": "CvdlGRbNQ92ESOshHIAxnA==", "span_id": "AAAAAAAAAAE=",
		"parent_span_id": null, "name": "s` + strings.ReplaceAll(planted, `"`, `\"`) + `", "start_time_unix_nano": 1000000, "end_time_unix_nano": 6000000,
		"events": [{"name": "e` + strings.ReplaceAll(planted, `"`, `\"`) + `", "time_unix_nano": 2000000, "attributes": {}}],
		"status": {"code": "STATUS_CODE_ERROR", "message": "` + strings.ReplaceAll(planted, `"`, `\"`) + `"}, "attributes": ` + string(attr) + `}`)}))
	lm, err := st.CreateLoggedModel(ctx, store.LoggedModel{ExperimentID: exp, Name: "lm" + planted, SourceRunID: run, ModelType: planted,
		Tags: []store.Tag{{Key: "k", Value: planted}}, Params: []store.Param{{Key: "p", Value: planted}}})
	must(err)
	ds, err := st.CreateEvaluationDataset(ctx, "ds"+planted, []store.Tag{{Key: "k", Value: planted}}, []string{exp})
	must(err)
	h := server.New(st, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return &uiFixture{h: h, ids: []string{exp, run, "m" + planted, "p" + planted, trace, lm.ModelID, ds.ID, "0", ""}}
}

// pages are the UI's pages, {} standing for an id.
var pages = []string{"/", "/experiments", "/experiments/{}", "/experiments/{}/datasets", "/experiments/{}/models",
	"/experiments/{}/scorers", "/experiments/{}/sessions", "/experiments/{}/traces", "/runs/{}", "/models", "/models/{}",
	"/prompts", "/prompts/{}", "/traces/{}", "/logged-models/{}", "/datasets/{}", "/compare", "/charts", "/ui-api/metrics"}

// get fetches path with query from the UI; it fails the test on a 5xx,
// and on an HTML page that holds planted unescaped or a javascript: link.
func (fx *uiFixture) get(t *testing.T, path, query string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("GET", "/", nil)
	req.URL.Path, req.URL.RawQuery = path, query
	rec := httptest.NewRecorder()
	fx.h.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code >= 500 {
		t.Fatalf("GET %s?%s: %d %.300s", path, query, rec.Code, body)
	}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		if i := strings.Index(body, "<xss"); i >= 0 {
			t.Fatalf("GET %s?%s writes a client's markup unescaped: …%s…", path, query, body[max(0, i-200):min(len(body), i+100)])
		}
		if i := strings.Index(body, `href="javascript:`); i >= 0 {
			t.Fatalf("GET %s?%s links to a client's javascript: URL: …%s…", path, query, body[max(0, i-200):min(len(body), i+100)])
		}
	}
	return rec.Code, body
}

// TestPagesEscapeClientText renders every page of every object, each
// planted with markup in every field a client sets: all of it escaped
// (html/template's contexts), no javascript: link, and every page found.
func TestPagesEscapeClientText(t *testing.T) {
	fx := newUIFixture(t)
	rendered, shown := 0, 0 // pages answered 200, pages showing planted text (escaped)
	for _, p := range pages {
		for _, id := range fx.ids {
			if !strings.Contains(p, "{}") && id != "" {
				continue
			}
			code, body := fx.get(t, strings.ReplaceAll(p, "{}", id), "")
			if code == 200 {
				rendered++
			}
			if strings.Contains(body, "&lt;xss") {
				shown++
			}
		}
	}
	for _, q := range []string{"runs=" + fx.ids[1], "runs=" + fx.ids[1] + "&keys=m", "experiments=" + fx.ids[0] + "&filter=" + url.QueryEscape("params.p = '"+planted+"'"),
		"search=" + url.QueryEscape(planted), "run=" + fx.ids[1] + "&key=m", "compare=1&versions=1,2"} {
		for _, p := range []string{"/compare", "/charts", "/experiments/" + fx.ids[0], "/experiments/" + fx.ids[0] + "/traces", "/models", "/prompts/" + url.PathEscape(fx.ids[3]), "/ui-api/metrics"} {
			fx.get(t, p, q)
		}
	}
	t.Logf("%d pages rendered, %d show planted text", rendered, shown)
	if rendered < 18 || shown < 12 {
		t.Fatalf("only %d pages rendered 200, %d showed planted text: the fixture no longer reaches them", rendered, shown)
	}
}

// FuzzPages requests the UI's pages with fuzzed ids and queries, over the
// planted store: never a 5xx, never client markup unescaped.
func FuzzPages(f *testing.F) {
	fx := newUIFixture(f)
	for i := range pages {
		for j := range fx.ids {
			f.Add(uint8(i), uint8(j), "", "filter=metrics.x+%3E+1&order_by=name")
		}
		f.Add(uint8(i), uint8(255), "%zz<x>", "search=%3Cxss%3E&page_token=!!!&max_results=-1")
	}
	f.Fuzz(func(t *testing.T, page, idx uint8, id, query string) {
		if int(idx) < len(fx.ids) {
			id = fx.ids[idx]
		}
		fx.get(t, strings.ReplaceAll(pages[int(page)%len(pages)], "{}", id), query)
	})
}
