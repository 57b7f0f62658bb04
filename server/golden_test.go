package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// Golden files pin the JSON of one representative response per endpoint
// group and of each error kind, in Caddy's one-file-per-case style:
//
//	METHOD PATH
//	[request body]
//	----
//	STATUS
//	response body (re-indented; ids and clock times replaced by names)
//
// Run `go test ./server -run TestGolden -update` to rewrite them, and
// review the diff.
//
// The same files hold on SQLite and on PostgreSQL.
func TestGolden(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { golden(t, newServer(t)) })
	t.Run("postgres", func(t *testing.T) {
		s := testutil.StartPostgresServer(t, true)
		golden(t, &testServer{url: s.URL, store: s.Store, artifacts: s.Artifacts, dir: s.Dir})
	})
}

func golden(t *testing.T, ts *testServer) {
	ctx := context.Background()
	exp, err := ts.store.CreateExperiment(ctx, "golden", "", []store.Tag{{Key: "team", Value: "ml"}})
	if err != nil {
		t.Fatal(err)
	}
	gone, _ := ts.store.CreateExperiment(ctx, "gone", "", nil)
	ts.store.DeleteExperiment(ctx, gone)
	r, err := ts.store.CreateRun(ctx, store.CreateRun{ExperimentID: exp, RunName: "golden-run", UserID: "alice", StartTime: 1700000000000,
		Tags: []store.Tag{{Key: "mlflow.user", Value: "alice"}}})
	if err != nil {
		t.Fatal(err)
	}
	err = ts.store.LogBatch(ctx, r.Info.RunID,
		[]store.Metric{{Key: "rmse", Value: 0.9, Timestamp: 1700000001000, Step: 0}, {Key: "rmse", Value: 0.5, Timestamp: 1700000002000, Step: 1},
			{Key: "nan", Value: math.NaN(), Timestamp: 1700000001000}, {Key: "inf", Value: math.Inf(1), Timestamp: 1700000001000}},
		[]store.Param{{Key: "alpha", Value: "0.5"}},
		[]store.Tag{{Key: "team", Value: "ml"}})
	if err != nil {
		t.Fatal(err)
	}
	artDir := filepath.Join(ts.artifacts, exp, r.Info.RunID, "artifacts", "model")
	os.MkdirAll(artDir, 0o755)
	os.WriteFile(filepath.Join(artDir, "MLmodel"), []byte("flavors: {}\n"), 0o644)
	os.WriteFile(filepath.Join(artDir, "..", "notes.txt"), []byte("hello\n"), 0o644)
	lm, err := ts.store.CreateLoggedModel(ctx, store.LoggedModel{ExperimentID: exp, Name: "golden-model", ModelType: "sklearn", SourceRunID: r.Info.RunID,
		Params: []store.Param{{Key: "C", Value: "1.0"}}, Tags: []store.Tag{{Key: "stage", Value: "dev"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.store.LogMetric(ctx, r.Info.RunID, store.Metric{Key: "acc", Value: 0.97, Timestamp: 1700000003000, ModelID: lm.ModelID, DatasetName: "iris", DatasetDigest: "470bc25c"}); err != nil {
		t.Fatal(err)
	}
	tr, err := ts.store.StartTrace(ctx, exp, 1700000004000, []store.Tag{{Key: "mlflow.trace_schema.version", Value: "2"}, {Key: "mlflow.sourceRun", Value: r.Info.RunID}},
		[]store.Tag{{Key: "mlflow.traceName", Value: "predict"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.store.EndTrace(ctx, tr.RequestID, 1700000004250, "OK", nil, nil); err != nil {
		t.Fatal(err)
	}
	subst := map[string]string{"{{exp}}": exp, "{{gone}}": gone, "{{run}}": r.Info.RunID, "{{model}}": lm.ModelID, "{{trace}}": tr.RequestID}
	volatile := regexp.MustCompile(`"(creation_time|last_update_time|creation_timestamp|last_updated_timestamp|creation_timestamp_ms|last_updated_timestamp_ms)": \d+`)

	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			req, want, _ := strings.Cut(string(raw), "\n----\n")
			for k, v := range subst {
				req = strings.ReplaceAll(req, k, v)
			}
			line, body, _ := strings.Cut(req, "\n")
			method, path, _ := strings.Cut(line, " ")
			ct := ""
			if body = strings.TrimSpace(body); body != "" && method != "DELETE" {
				ct = "application/json"
			}
			status, resp := ts.do(t, method, path, ct, []byte(body))
			var pretty bytes.Buffer
			if json.Indent(&pretty, resp, "", "  ") != nil {
				pretty.Reset()
				pretty.Write(resp)
			}
			got := strconv.Itoa(status) + "\n" + pretty.String()
			// Experiment ids are fixed in a fresh database; the run id is not.
			got = strings.ReplaceAll(got, r.Info.RunID, "{{run}}")
			got = strings.ReplaceAll(got, lm.ModelID, "{{model}}")
			got = strings.ReplaceAll(got, tr.RequestID, "{{trace}}")
			got = volatile.ReplaceAllString(got, `"$1": "<clock>"`) + "\n"
			if *update {
				os.WriteFile(f, []byte(strings.SplitN(string(raw), "\n----\n", 2)[0]+"\n----\n"+got), 0o644)
				return
			}
			if got != want {
				t.Fatalf("%s %s\n got:\n%s\nwant:\n%s", method, path, got, want)
			}
		})
	}
}
