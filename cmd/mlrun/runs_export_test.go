package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// TestExperimentsCSV: `mlrun experiments csv` writes the columns and
// values of mlflow experiments csv (pandas' CSV of mlflow.search_runs):
// the run's fields, then metrics., params. and tags. columns, newest run
// first, empty where a run lacks a key, deleted runs left out; with -o
// it writes the file and says so; an unknown experiment writes nothing.
func TestExperimentsCSV(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	st, err := sqlite.Open(ctx, db, sqlite.Options{ArtifactRoot: filepath.Join(dir, "mlruns")})
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := st.CreateExperiment(ctx, "export", "", nil)
	end := int64(1733500002500)
	a, _ := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp, StartTime: 1733500000123, RunName: "a"})
	must(t, st.LogBatch(ctx, a.Info.RunID, []store.Metric{{Key: "rmse", Value: 1, Timestamp: 1}, {Key: "lr", Value: 0.00001, Timestamp: 1}, {Key: "gone", Value: math.NaN(), Timestamp: 1}},
		[]store.Param{{Key: "alpha", Value: "a,b \"quoted\""}}, []store.Tag{{Key: "team", Value: "ml"}}))
	finished := store.StatusFinished
	if _, err := st.UpdateRun(ctx, a.Info.RunID, store.UpdateRun{Status: &finished, EndTime: &end}); err != nil {
		t.Fatal(err)
	}
	b, _ := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp, StartTime: 1733500009000, RunName: "b"})
	must(t, st.LogBatch(ctx, b.Info.RunID, []store.Metric{{Key: "rmse", Value: 0.25, Timestamp: 1}}, nil, nil))
	del, _ := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp, StartTime: 1733500005000})
	must(t, st.DeleteRun(ctx, del.Info.RunID))
	st.Close()
	uri := "sqlite:///" + db

	out := mustRun(t, "experiments", "csv", "-x", exp, "--tracking-uri", uri)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, out)
	}
	header := strings.Join(rows[0], ",")
	if header != "run_id,experiment_id,status,artifact_uri,start_time,end_time,metrics.gone,metrics.lr,metrics.rmse,params.alpha,tags.mlflow.runName,tags.mlflow.user,tags.team" &&
		header != "run_id,experiment_id,status,artifact_uri,start_time,end_time,metrics.gone,metrics.lr,metrics.rmse,params.alpha,tags.mlflow.runName,tags.team" {
		t.Fatalf("header: %s", header)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if len(rows) != 3 || rows[1][0] != b.Info.RunID || rows[2][0] != a.Info.RunID {
		t.Fatalf("rows (newest first, no deleted run): %v", rows)
	}
	ra, rb := rows[2], rows[1]
	for name, c := range map[string][2]string{
		"status": {ra[col["status"]], "FINISHED"}, "start_time": {ra[col["start_time"]], "2024-12-06 15:46:40.123000+00:00"},
		"end_time": {ra[col["end_time"]], "2024-12-06 15:46:42.500000+00:00"}, "b's end_time": {rb[col["end_time"]], ""},
		"metrics.rmse": {ra[col["metrics.rmse"]], "1.0"}, "b's metrics.rmse": {rb[col["metrics.rmse"]], "0.25"},
		"metrics.lr": {ra[col["metrics.lr"]], "1e-05"}, "metrics.gone (NaN)": {ra[col["metrics.gone"]], ""},
		"params.alpha": {ra[col["params.alpha"]], `a,b "quoted"`}, "b's params.alpha": {rb[col["params.alpha"]], ""},
		"tags.team": {ra[col["tags.team"]], "ml"}, "tags.mlflow.runName": {rb[col["tags.mlflow.runName"]], "b"},
	} {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}

	file := filepath.Join(dir, "runs.csv")
	if out := mustRun(t, "experiments", "csv", "--experiment-id", exp, "-o", file, "--tracking-uri", uri); !strings.Contains(out, "has been exported as a CSV to file: "+file) {
		t.Fatalf("csv -o: %s", out)
	}
	if b, err := os.ReadFile(file); err != nil || !strings.HasPrefix(string(b), "run_id,experiment_id,") || len(strings.Split(strings.TrimSpace(string(b)), "\n")) != 3 {
		t.Fatalf("the file: %v %q", err, b)
	}
	if _, err := mlrun(t, "experiments", "csv", "-x", "999", "-o", filepath.Join(dir, "none.csv"), "--tracking-uri", uri); err == nil || !strings.Contains(err.Error(), "999") {
		t.Fatalf("an unknown experiment: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.csv")); !os.IsNotExist(err) {
		t.Fatal("a failed export wrote a file")
	}
}

// TestRunsDescribe: `mlrun runs describe` prints the run as mlflow runs
// describe does (Run.to_dictionary as JSON): info, and metrics, params and
// tags by key; a NaN metric is "NaN"; an unknown run is an error.
func TestRunsDescribe(t *testing.T) {
	ctx := context.Background()
	uri := trackingURIs(t)["sqlite"]
	st, err := openStore(ctx, uri, "")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := st.CreateRun(ctx, store.CreateRun{ExperimentID: "0", RunName: "d", StartTime: 1700000000000})
	must(t, st.LogBatch(ctx, r.Info.RunID, []store.Metric{{Key: "rmse", Value: 0.25, Timestamp: 1}, {Key: "odd", Value: math.NaN(), Timestamp: 1}},
		[]store.Param{{Key: "alpha", Value: "0.5"}}, []store.Tag{{Key: "team", Value: "ml"}}))
	st.Close()
	out := mustRun(t, "runs", "describe", "--run-id", r.Info.RunID, "--tracking-uri", uri)
	var got struct {
		Info map[string]any
		Data struct {
			Metrics map[string]any
			Params  map[string]string
			Tags    map[string]string
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if got.Info["run_id"] != r.Info.RunID || got.Info["run_uuid"] != r.Info.RunID || got.Info["run_name"] != "d" || got.Info["status"] != "RUNNING" ||
		got.Info["start_time"] != float64(1700000000000) || got.Info["end_time"] != nil || got.Info["lifecycle_stage"] != "active" {
		t.Errorf("info: %v", got.Info)
	}
	if got.Data.Metrics["rmse"] != 0.25 || got.Data.Metrics["odd"] != "NaN" || got.Data.Params["alpha"] != "0.5" || got.Data.Tags["team"] != "ml" || got.Data.Tags["mlflow.runName"] != "d" {
		t.Errorf("data: %+v", got.Data)
	}
	if _, err := mlrun(t, "runs", "describe", "--run-id", "0123456789abcdef0123456789abcdef", "--tracking-uri", uri); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("an unknown run: %v", err)
	}
}
