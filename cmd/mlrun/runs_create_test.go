package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/runner/launch"
	"github.com/mlrun/mlrun/store"
)

// TestRunsCreateAndLinkTraces: mlflow runs create and runs link-traces
// (MLflow 3's CLI) on a local database, a server and PostgreSQL. A run
// is created ended, with its name, description, tags, parent and
// status, in an experiment given by id or by name (created if missing);
// every mistake is one line and creates no run; traces linked to a run
// are found by a search for its traces.
func TestRunsCreateAndLinkTraces(t *testing.T) {
	for name, uri := range trackingURIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Setenv("MLFLOW_TRACKING_URI", uri)
			ctx := context.Background()
			exp := newExperiment(t, uri, "recorded")

			type created struct {
				RunID        string  `json:"run_id"`
				ExperimentID string  `json:"experiment_id"`
				Status       string  `json:"status"`
				RunName      *string `json:"run_name"`
			}
			create := func(args ...string) created {
				t.Helper()
				out := mustRun(t, append([]string{"runs", "create"}, args...)...)
				// (The test's output holds stderr too: a notice that an
				// experiment was created comes first.)
				var c created
				if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &c); err != nil || c.RunID == "" {
					t.Fatalf("runs create %v printed %q: %v", args, out, err)
				}
				return c
			}
			parent := create("--experiment-id", exp, "--run-name", "baseline", "--description", "trained on the laptop",
				"-t", "env=prod", "--tags", "model=xgboost")
			if parent.ExperimentID != exp || parent.Status != "FINISHED" || parent.RunName == nil || *parent.RunName != "baseline" {
				t.Fatalf("created %+v", parent)
			}
			child := create("--experiment-name", "made-on-the-fly", "--status", "failed", "--parent-run-id", parent.RunID)
			if child.Status != "FAILED" || child.RunName != nil || child.ExperimentID == exp {
				t.Fatalf("child %+v", child)
			}

			st, err := openStore(ctx, uri, "")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			r, err := st.GetRun(ctx, parent.RunID)
			if err != nil {
				t.Fatal(err)
			}
			tags := map[string]string{}
			for _, tg := range r.Tags {
				tags[tg.Key] = tg.Value
			}
			if r.Info.Status != store.StatusFinished || r.Info.EndTime == nil || r.Info.RunName != "baseline" {
				t.Fatalf("parent run %+v", r.Info)
			}
			for k, want := range map[string]string{"env": "prod", "model": "xgboost", "mlflow.note.content": "trained on the laptop",
				"mlflow.runName": "baseline", "mlflow.source.type": "LOCAL"} {
				if tags[k] != want {
					t.Errorf("tag %s = %q, want %q (tags %v)", k, tags[k], want, tags)
				}
			}
			if tags["mlflow.user"] == "" || tags["mlflow.source.name"] == "" || tags[launch.TagRunnerPID] != strconv.Itoa(os.Getpid()) {
				t.Errorf("automatic tags missing (the runner's too, for launch.Reap): %v", tags)
			}
			e, err := st.GetExperimentByName(ctx, "made-on-the-fly")
			if err != nil || e.ID != child.ExperimentID {
				t.Fatalf("experiment by name: %v %v", e, err)
			}
			c, err := st.GetRun(ctx, child.RunID)
			if err != nil {
				t.Fatal(err)
			}
			var childTags []string
			for _, tg := range c.Tags {
				childTags = append(childTags, tg.Key+"="+tg.Value)
			}
			if c.Info.Status != store.StatusFailed || c.Info.RunName == "" || !strings.Contains(strings.Join(childTags, " "), "mlflow.parentRunId="+parent.RunID) {
				t.Fatalf("child run %+v %v", c.Info, childTags)
			}

			// Mistakes: one line each, and no run made.
			count := func() int {
				runs, _, err := st.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: []string{exp}, ViewType: store.AllViews, MaxResults: 100})
				if err != nil {
					t.Fatal(err)
				}
				return len(runs)
			}
			before := count()
			deleted := create("-x", exp)
			if err := st.DeleteRun(ctx, deleted.RunID); err != nil {
				t.Fatal(err)
			}
			before++
			for _, tc := range []struct {
				args []string
				want string
				kind error
			}{
				{[]string{}, "exactly one of --experiment-id or --experiment-name", nil},
				{[]string{"-x", exp, "--experiment-name", "recorded"}, "exactly one of", nil},
				{[]string{"-x", exp, "-t", "a=1", "-t", "a=2"}, "duplicate tag key 'a'", nil},
				{[]string{"-x", exp, "-t", "novalue"}, `"novalue": want KEY=VALUE`, nil},
				{[]string{"-x", exp, "--status", "RUNNING"}, "want FINISHED, FAILED or KILLED", nil},
				{[]string{"-x", exp, "--description", "d", "-t", "mlflow.note.content=n"}, "already set by the tag mlflow.note.content", nil},
				{[]string{"-x", exp, "--parent-run-id", "0123456789abcdef0123456789abcdef"}, "not found", store.ErrNotFound},
				{[]string{"-x", exp, "--parent-run-id", deleted.RunID}, "because it is in the deleted state", store.ErrInvalidArgument},
				{[]string{"-x", "424242"}, "424242", store.ErrNotFound},
			} {
				out, err := mlrun(t, append([]string{"runs", "create"}, tc.args...)...)
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("runs create %v: %v (want %q)\n%s", tc.args, err, tc.want, out)
				}
				if tc.kind != nil && !errors.Is(err, tc.kind) {
					t.Errorf("runs create %v: %v is not %v", tc.args, err, tc.kind)
				}
			}
			if n := count(); n != before {
				t.Fatalf("%d runs after the mistakes, want %d", n, before)
			}

			// link-traces: a trace logged outside any run is then one of
			// the run's traces.
			ts := st.(store.Traces)
			var ids []string
			for i := 0; i < 2; i++ {
				tr, err := ts.StartTrace(ctx, exp, int64(1000+i), nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, tr.RequestID)
			}
			runTraces := func() string {
				return mustRun(t, "traces", "search", "--experiment-id", exp, "--run-id", parent.RunID)
			}
			if out := runTraces(); strings.Contains(out, ids[0]) {
				t.Fatalf("trace of the run before linking:\n%s", out)
			}
			out := mustRun(t, "runs", "link-traces", "--run-id", parent.RunID, "-t", ids[0], "--trace-id", ids[1])
			if strings.TrimSpace(out) != "Successfully linked 2 trace(s) to run '"+parent.RunID+"'" {
				t.Fatalf("link-traces printed %q", out)
			}
			if out := runTraces(); !strings.Contains(out, ids[0]) || !strings.Contains(out, ids[1]) {
				t.Fatalf("linked traces not the run's:\n%s", out)
			}
			if _, err := mlrun(t, "runs", "link-traces", "--run-id", parent.RunID, "-t", "tr-00000000000000000000000000000000"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("unknown trace: %v", err)
			}
			many := []string{"runs", "link-traces", "--run-id", parent.RunID}
			for i := 0; i < 101; i++ {
				many = append(many, "-t", ids[0])
			}
			if _, err := mlrun(t, many...); !errors.Is(err, store.ErrInvalidArgument) || !strings.Contains(err.Error(), "more than 100 traces") {
				t.Fatalf("101 traces: %v", err)
			}
		})
	}
}
