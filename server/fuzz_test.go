package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// apiCalls is every JSON endpoint of the tracking and registry API (and
// its webhooks' and scorers'), as "METHOD:path below /api/2.0/mlflow", or
// "METHOD:/full/path" for MLflow 3's /api/3.0 endpoints.
var apiCalls = strings.Fields(`
POST:experiments/create GET:experiments/get GET:experiments/get-by-name POST:experiments/search
GET:experiments/search GET:experiments/list POST:experiments/update POST:experiments/delete
POST:experiments/restore POST:experiments/set-experiment-tag POST:experiments/delete-experiment-tag
POST:runs/create POST:runs/update POST:runs/delete POST:runs/restore GET:runs/get POST:runs/search
POST:runs/log-metric POST:runs/log-parameter POST:runs/set-tag POST:runs/delete-tag POST:runs/log-batch
POST:runs/log-model POST:runs/log-inputs GET:metrics/get-history GET:metrics/get-history-bulk-interval
GET:artifacts/list POST:registered-models/create GET:registered-models/get POST:registered-models/rename
PATCH:registered-models/update DELETE:registered-models/delete GET:registered-models/search
POST:registered-models/get-latest-versions POST:registered-models/set-tag
DELETE:registered-models/delete-tag POST:registered-models/alias DELETE:registered-models/alias
GET:registered-models/alias POST:model-versions/create GET:model-versions/get PATCH:model-versions/update
DELETE:model-versions/delete GET:model-versions/search POST:model-versions/transition-stage
GET:model-versions/get-download-uri POST:model-versions/set-tag DELETE:model-versions/delete-tag
POST:webhooks GET:webhooks GET:webhooks/x PATCH:webhooks/x DELETE:webhooks/x POST:webhooks/x/test
POST:/api/3.0/mlflow/scorers/register GET:/api/3.0/mlflow/scorers/list GET:/api/3.0/mlflow/scorers/versions
GET:/api/3.0/mlflow/scorers/get DELETE:/api/3.0/mlflow/scorers/delete
POST:/api/3.0/mlflow/datasets/create GET:/api/3.0/mlflow/datasets/d-x DELETE:/api/3.0/mlflow/datasets/d-x
POST:/api/3.0/mlflow/datasets/search PATCH:/api/3.0/mlflow/datasets/d-x/tags DELETE:/api/3.0/mlflow/datasets/d-x/tags/k
POST:/api/3.0/mlflow/datasets/d-x/records GET:/api/3.0/mlflow/datasets/d-x/records DELETE:/api/3.0/mlflow/datasets/d-x/records
GET:/api/3.0/mlflow/datasets/d-x/experiment-ids POST:/api/3.0/mlflow/datasets/d-x/add-experiments
POST:/api/3.0/mlflow/datasets/%7Bdataset_id%7D/remove-experiments
POST:traces GET:traces PATCH:traces/tr-0af7651916cd43dd8448eb211c80319c GET:traces/tr-0af7651916cd43dd8448eb211c80319c/info
POST:traces/delete-traces POST:traces/link-to-run POST:traces/link-prompts
POST:/api/3.0/mlflow/traces GET:/api/3.0/mlflow/traces/tr-0af7651916cd43dd8448eb211c80319c POST:/api/3.0/mlflow/traces/search
GET:/api/3.0/mlflow/traces/get GET:/api/3.0/mlflow/traces/batchGet POST:/api/3.0/mlflow/traces/calculate-filter-correlation
`)

// FuzzAPI sends arbitrary bodies and query strings to every endpoint of a
// real server over a SQLite file: whatever comes in, the answer is never a
// server error (5xx other than 501) and every error is MLflow's JSON
// {"error_code", "message"}. The seeds run in every go test.
func FuzzAPI(f *testing.F) {
	bodies := []string{``, `{`, `[]`, `null`, `"x"`, `{}`, `{"name": 5}`, `{"run_id": ["a"]}`,
		`{"experiment_id": {}}`, `{"experiment_ids": "0"}`, `{"max_results": -1}`, `{"max_results": 1e300}`,
		`{"max_results": "ten"}`, `{"page_token": "!!!"}`, `{"filter": "metrics.x >"}`, `{"order_by": [1]}`,
		`{"run_id": "0123456789abcdef0123456789abcdef", "key": "m", "value": "NaN", "timestamp": 1}`,
		`{"run_id": "x", "metrics": [{"key": "", "value": 1, "timestamp": "t"}]}`, `{"name": "m", "version": "v"}`,
		`{"name": "m", "version": 99999999999999999999}`, `{"name": "` + strings.Repeat("n", 600) + `"}`,
		`{"name": "a\u0000b"}`, `{"start_time": -9223372036854775808}`, `{"stage": "Nowhere"}`,
		`{"name": "n", "url": "https://hooks.example.com/x", "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}], "secret": "s"}`,
		`{"name": "n", "url": "https://hooks.example.com/x", "events": [{"entity": 99, "action": -1}], "status": 7}`,
		`{"events": [{"entity": {}, "action": []}], "event": {"entity": null}}`,
		`{"experiment_id": "0", "name": "s", "serialized_scorer": "{}"}`, `{"experiment_id": "0", "name": "s", "version": -1}`,
		`{"experiment_id": 0, "name": "s", "serialized_scorer": 7, "version": "1"}`,
		`{"name": "d", "experiment_ids": ["0"], "tags": "{\"a\": 1, \"b\": null}"}`, `{"tags": "[1]"}`, `{"tags": "{"}`,
		`{"records": "[{\"inputs\": {\"q\": 1.5e300}, \"outputs\": [1], \"expectations\": {\"e\": {}}, \"source\": {\"source_type\": \"TRACE\"}}]"}`,
		`{"records": "[{\"inputs\": \"x\"}, null, 7]"}`, `{"records": "not json"}`, `{"dataset_id": "d-x", "experiment_ids": ["0", "nope"]}`,
		`{"filter_string": "tags.a = 'b' AND created_time > 'x'", "order_by": ["name DESC", "bogus"]}`,
		`{"experiment_ids": ["0"], "filter_string1": "span.type RLIKE '('", "filter_string2": "feedback.x = 'y'", "base_filter": "trace.text LIKE '%a%'"}`, `{"page_token": "bm90IGEgdG9rZW4="}`}
	for i := range apiCalls {
		for _, b := range bodies {
			f.Add(uint8(i), []byte(b), "")
		}
		f.Add(uint8(i), []byte(nil), "run_id=x&name=%zz&max_results=-5&experiment_ids=a")
		f.Add(uint8(i), []byte(nil), "experiment_id=0&name=s&version=0")
		f.Add(uint8(i), []byte(nil), "trace_id=tr-0af7651916cd43dd8448eb211c80319c&allow_partial=1")
		f.Add(uint8(i), []byte(nil), "trace_ids=tr-0af7651916cd43dd8448eb211c80319c&trace_ids=&trace_ids=%00")
	}
	dir := f.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "mlflow.db"), sqlite.Options{ArtifactRoot: filepath.Join(dir, "mlruns")})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	// A trace with a span in the tracking store, for the trace endpoints
	// to convert.
	if _, err := st.PutTrace(context.Background(), store.TraceInfo{RequestID: "tr-0af7651916cd43dd8448eb211c80319c", ExperimentID: "0", TimestampMs: 1, Status: "OK"}); err != nil {
		f.Fatal(err)
	}
	if err := st.LogSpans(context.Background(), "tr-0af7651916cd43dd8448eb211c80319c", []json.RawMessage{json.RawMessage(`{"trace_id": "CvdlGRbNQ92ESOshHIAxnA==",
		"span_id": "AAAAAAAAAAE=", "parent_span_id": null, "name": "root", "start_time_unix_nano": 1, "end_time_unix_nano": 2, "events": [],
		"status": {"code": "STATUS_CODE_OK", "message": ""}, "attributes": {"mlflow.spanInputs": "{\"q\": [1, 2.5, null, true]}", "plain": "not json", "n": 7}}`)}); err != nil {
		f.Fatal(err)
	}
	h := server.New(st, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})

	f.Fuzz(func(t *testing.T, which uint8, body []byte, query string) {
		method, path, _ := strings.Cut(apiCalls[int(which)%len(apiCalls)], ":")
		target := "/api/2.0/mlflow/" + path
		if strings.HasPrefix(path, "/") {
			target = path
		}
		req := httptest.NewRequest(method, target, bytes.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
			t.Fatalf("%s %s?%s body %q: %d %s", method, target, query, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e struct {
				ErrorCode string `json:"error_code"`
				Message   string `json:"message"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.ErrorCode == "" || e.Message == "" {
				t.Fatalf("%s %s body %q: %d with %q, not an MLflow error", method, target, body, rec.Code, rec.Body)
			}
		}
	})
}

// FuzzArtifactPaths sends any request path, through Go's own HTTP request
// parser, to the artifact proxy and the run-scoped and logged-model
// artifact endpoints of a real server whose artifact root has symlinks
// pointing out of it: nothing outside the root is ever created, changed,
// deleted or read, and the answer is never a 5xx.
func FuzzArtifactPaths(f *testing.F) {
	for _, p := range []string{"/a/b.txt", "/../outside/secret", "/%2e%2e/outside/secret", "/a%2f..%2f..%2foutside%2fsecret",
		"/%252e%252e/outside/secret", "/..%5coutside%5csecret", "//etc/passwd", "/link/secret", "/link/new", "/filelink",
		"/a%00b", "/./../x", "/a/b/../../../x", "?path=..", "?path=link", "/%c0%ae%c0%ae/outside", "/..;/outside/secret"} {
		for _, m := range []uint8{0, 1, 2, 3, 7, 11, 15} {
			f.Add(m, p)
		}
	}
	dir := f.TempDir()
	root, outside := filepath.Join(dir, "art"), filepath.Join(dir, "outside")
	for _, d := range []string{root, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	secret := filepath.Join(outside, "secret")
	// Its content is a token no path or message holds: an answer that
	// carries it read the file outside the root.
	const token = "TOPSECRET-9f2c41"
	if err := os.WriteFile(secret, []byte(token), 0o644); err != nil {
		f.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "mlflow.db"), sqlite.Options{ArtifactRoot: "mlflow-artifacts:/"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	run, err := st.CreateRun(context.Background(), store.CreateRun{})
	if err != nil {
		f.Fatal(err)
	}
	model, err := st.CreateLoggedModel(context.Background(), store.LoggedModel{ExperimentID: "0", Name: "m"})
	if err != nil {
		f.Fatal(err)
	}
	h := server.New(st, server.Options{Artifacts: local.New(root), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	outsideNames := func() string {
		var names []string
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if n := e.Name(); n != "art" && !strings.HasPrefix(n, "mlflow.db") {
				names = append(names, n)
			}
		}
		b, _ := os.ReadFile(secret)
		others, _ := os.ReadDir(outside)
		return fmt.Sprint(names, string(b), len(others))
	}
	want := outsideNames()

	f.Fuzz(func(t *testing.T, which uint8, path string) {
		// Links out of the root, put back if an earlier input removed them.
		os.Symlink(outside, filepath.Join(root, "link"))
		os.Symlink(secret, filepath.Join(root, "filelink"))
		method := []string{"GET", "PUT", "DELETE", "GET"}[which%4]
		target := "/api/2.0/mlflow-artifacts/artifacts" + path
		if which%4 == 3 { // the run-scoped and logged-model download and listing
			rel := strings.TrimLeft(path, "/?")
			switch which % 16 {
			case 3:
				target = "/get-artifact?run_id=" + run.Info.RunID + "&path=" + rel
			case 7:
				target = "/api/2.0/mlflow/artifacts/list?run_id=" + run.Info.RunID + "&path=" + rel
			case 11:
				target = "/ajax-api/2.0/mlflow/logged-models/" + model.ModelID + "/artifacts/files?artifact_file_path=" + rel
			default:
				target = "/api/2.0/mlflow/logged-models/" + model.ModelID + "/artifacts/directories?artifact_directory_path=" + rel
			}
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(method + " " + target + " HTTP/1.1\r\nHost: mlrun\r\nContent-Length: 5\r\n\r\npwned")))
		if err != nil {
			return // not a request an HTTP server would accept
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: %d %s", method, target, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), token) {
			t.Fatalf("%s %q (%d) read the file outside the artifact root", method, target, rec.Code)
		}
		if got := outsideNames(); got != want {
			t.Fatalf("%s %q (%d) changed what is outside the artifact root: %s, was %s", method, target, rec.Code, got, want)
		}
	})
}

// FuzzArtifactLocations varies an experiment's artifact_location and an
// artifact path together: each input creates an experiment at that
// location (if the server takes it), a run in it, and sends one of the
// run-scoped artifact requests (list, download, UI upload, UI run page)
// with the path. Whatever the pair, no file outside the server's roots is
// read (the secret never appears in a response) or changed, and nothing
// answers 5xx.
func FuzzArtifactLocations(f *testing.F) {
	dir := f.TempDir()
	dest, mlruns, outside := filepath.Join(dir, "art"), filepath.Join(dir, "mlruns"), filepath.Join(dir, "outside")
	for _, d := range []string{dest, mlruns, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	const marker = "TOP-SECRET-7f3a"
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte(marker), 0o644); err != nil {
		f.Fatal(err)
	}
	os.Symlink(outside, filepath.Join(mlruns, "link"))
	os.Symlink(outside, filepath.Join(dest, "link"))
	for _, loc := range []string{"file://" + outside + "#", "file://" + outside, outside, "file://" + mlruns + "/link", mlruns + "/x/../../outside",
		"mlflow-artifacts:/link", "mlflow-artifacts:/../outside", "http://h/api/2.0/mlflow-artifacts/artifacts/link", "http://h/;..%2F..%2Foutside",
		"file://" + mlruns + "/%2e%2e/outside", "file://" + mlruns + "/%252e%252e/outside", mlruns, "mlflow-artifacts:/", "./outside", "s3://b/x"} {
		for _, p := range []string{"secret", "../secret", "../../../outside/secret", "link/secret", "%2e%2e/secret", "new.txt", "", "../../../../outside/new"} {
			for _, which := range []uint8{0, 1, 2, 3} {
				f.Add(loc, p, which)
			}
		}
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "mlflow.db"), sqlite.Options{ArtifactRoot: mlruns})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	h := server.New(st, server.Options{Artifacts: local.New(dest), ArtifactRoots: []string{dest, mlruns}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	outsideState := func() string {
		var b strings.Builder
		filepath.WalkDir(outside, func(p string, d os.DirEntry, err error) error {
			if err == nil {
				c, _ := os.ReadFile(p)
				fmt.Fprintf(&b, "%s %v %s\n", p, d.IsDir(), c)
			}
			return nil
		})
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			fmt.Fprintln(&b, e.Name())
		}
		return b.String()
	}
	want := outsideState()
	n := 0
	serve := func(method, target string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "http://mlrun/", bytes.NewReader(body))
		u, err := req.URL.Parse(target)
		if err != nil {
			return nil
		}
		req.URL, req.RequestURI = u, target
		if method == "POST" && strings.Contains(target, "/mlflow/") && !strings.Contains(target, "upload-artifact") {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	f.Fuzz(func(t *testing.T, loc, p string, which uint8) {
		n++
		body, _ := json.Marshal(map[string]string{"name": fmt.Sprintf("e%d", n), "artifact_location": loc})
		rec := serve("POST", "/api/2.0/mlflow/experiments/create", body)
		if rec == nil {
			return
		}
		if rec.Code >= 500 {
			t.Fatalf("experiments/create %q: %d %s", loc, rec.Code, rec.Body)
		}
		var created struct {
			ID string `json:"experiment_id"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &created) != nil || created.ID == "" {
			return // refused
		}
		body, _ = json.Marshal(map[string]string{"experiment_id": created.ID})
		rec = serve("POST", "/api/2.0/mlflow/runs/create", body)
		var run struct {
			Run struct {
				Info struct {
					ID string `json:"run_id"`
				} `json:"info"`
			} `json:"run"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &run); err != nil || run.Run.Info.ID == "" {
			t.Fatalf("runs/create in %q: %d %s", loc, rec.Code, rec.Body)
		}
		id, q := run.Run.Info.ID, "&path="+url.QueryEscape(p)
		var method, target string
		switch which % 4 {
		case 0:
			method, target = "GET", "/api/2.0/mlflow/artifacts/list?run_id="+id+q
		case 1:
			method, target = "GET", "/get-artifact?run_id="+id+q
		case 2:
			method, target = "POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid="+id+q
		case 3:
			method, target = "GET", "/runs/"+id+"?path="+url.QueryEscape(p)+"&file="+url.QueryEscape(p)
		}
		rec = serve(method, target, []byte("pwned"))
		if rec == nil {
			return
		}
		if rec.Code >= 500 && rec.Code != 501 {
			t.Fatalf("%s %s (location %q): %d %s", method, target, loc, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), marker) {
			t.Fatalf("%s %s (location %q) read a file outside the roots: %s", method, target, loc, rec.Body)
		}
		if got := outsideState(); got != want {
			t.Fatalf("%s %s (location %q) changed what is outside the roots:\n%s\nwas\n%s", method, target, loc, got, want)
		}
	})
}
