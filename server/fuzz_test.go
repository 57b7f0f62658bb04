package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store/sqlite"
)

// apiCalls is every JSON endpoint of the tracking and registry API, as
// "METHOD path below /api/2.0/mlflow".
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
		`{"name": "a\u0000b"}`, `{"start_time": -9223372036854775808}`, `{"stage": "Nowhere"}`}
	for i := range apiCalls {
		for _, b := range bodies {
			f.Add(uint8(i), []byte(b), "")
		}
		f.Add(uint8(i), []byte(nil), "run_id=x&name=%zz&max_results=-5&experiment_ids=a")
	}
	dir := f.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "mlflow.db"), sqlite.Options{ArtifactRoot: filepath.Join(dir, "mlruns")})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	h := server.New(st, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})

	f.Fuzz(func(t *testing.T, which uint8, body []byte, query string) {
		method, path, _ := strings.Cut(apiCalls[int(which)%len(apiCalls)], ":")
		target := "/api/2.0/mlflow/" + path
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
