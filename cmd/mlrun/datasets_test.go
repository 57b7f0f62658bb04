package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/store"
)

// TestDatasetsCommands: `mlrun datasets` on a local database, a server
// and PostgreSQL: create a dataset linked to an experiment, merge records
// from a JSON list and from JSON Lines (same inputs merge), print them,
// list (mlflow datasets list's table and JSON), delete; mistakes are one
// line and change nothing.
func TestDatasetsCommands(t *testing.T) {
	for name, uri := range trackingURIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Setenv("MLFLOW_TRACKING_URI", uri)
			exp := newExperiment(t, uri, "genai")
			out := mustRun(t, "datasets", "create", "-n", "qa", "-x", exp, "--tag", "team=ds")
			id := regexp.MustCompile(`with id (d-[0-9a-f]+)`).FindStringSubmatch(out)
			if id == nil {
				t.Fatalf("create: %s", out)
			}
			dir := t.TempDir()
			list, lines := filepath.Join(dir, "records.json"), filepath.Join(dir, "more.jsonl")
			must(t, os.WriteFile(list, []byte(`[{"inputs": {"q": "2+2?"}, "expectations": {"a": "4"}}, {"inputs": {"q": "capital of France?"}, "outputs": "Paris"}]`), 0o644))
			must(t, os.WriteFile(lines, []byte("{\"inputs\": {\"q\": \"2+2?\"}, \"expectations\": {\"strict\": true}}\n\n{\"inputs\": {\"q\": \"new\"}}\n"), 0o644))
			if out := mustRun(t, "datasets", "merge", "-d", id[1], list); !strings.Contains(out, "2 new, 0 updated") {
				t.Errorf("merge: %s", out)
			}
			if out := mustRun(t, "datasets", "merge", "-d", id[1], lines); !strings.Contains(out, "1 new, 1 updated") {
				t.Errorf("merge of JSON Lines: %s", out)
			}
			recs := strings.Split(strings.TrimSpace(mustRun(t, "datasets", "records", "-d", id[1])), "\n")
			if len(recs) != 3 || !strings.Contains(recs[0], `"expectations":{"a":"4","strict":true}`) || !strings.Contains(recs[1], `"outputs":"Paris"`) {
				t.Errorf("records:\n%s", strings.Join(recs, "\n"))
			}

			t.Setenv("MLFLOW_EXPERIMENT_ID", exp)
			if out := mustRun(t, "datasets", "list"); !strings.Contains(out, id[1]) || !strings.Contains(out, "qa") {
				t.Errorf("list:\n%s", out)
			}
			var listed struct {
				Datasets []struct {
					DatasetID string            `json:"dataset_id"`
					Name      string            `json:"name"`
					Tags      map[string]string `json:"tags"`
				} `json:"datasets"`
				NextPageToken *string `json:"next_page_token"`
			}
			out = mustRun(t, "datasets", "list", "--output", "json", "--filter-string", "name = 'qa'", "--order-by", "last_update_time DESC")
			if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed.Datasets) != 1 || listed.Datasets[0].DatasetID != id[1] ||
				listed.Datasets[0].Tags["team"] != "ds" || listed.NextPageToken != nil {
				t.Errorf("list --output json: %v\n%s", err, out)
			}
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"datasets", "merge", "-d", id[1], filepath.Join(dir, "missing.json")}, "missing.json"},
				{[]string{"datasets", "merge", "-d", "d-nope", list}, "Could not find evaluation dataset with ID d-nope"},
				{[]string{"datasets", "create", "-x", exp}, "datasets create: give --name NAME"},
				{[]string{"datasets", "create", "-n", "x", "-x", "987654"}, "No Experiment with id=987654 exists"},
				{[]string{"datasets", "list", "--filter-string", "params.a = 'b'"}, "params"},
				{[]string{"datasets", "list", "--output", "csv"}, "--output csv: want table or json"},
				{[]string{"datasets", "records"}, "datasets records: give --dataset-id ID"},
				{[]string{"datasets", "delete", "-d", "d-nope"}, "Could not find evaluation dataset with ID d-nope"},
			} {
				out, err := mlrun(t, tc.args...)
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("mlrun %s: %v (%s), want one line with %q", strings.Join(tc.args, " "), err, out, tc.want)
				}
			}
			os.WriteFile(list, []byte(`[{"inputs": {"q": "ok"}}, {"inputs": "not an object"}]`), 0o644)
			if _, err := mlrun(t, "datasets", "merge", "-d", id[1], list); err == nil || !strings.Contains(err.Error(), "Record 1: 'inputs' must be a JSON object") {
				t.Errorf("merge of a bad record: %v", err)
			}
			if n := len(strings.Split(strings.TrimSpace(mustRun(t, "datasets", "records", "-d", id[1])), "\n")); n != 3 {
				t.Errorf("records after the refused merge: %d, want 3", n)
			}
			// add-traces: a trace's root span and expectations become a record.
			st, err := openStore(context.Background(), uri, "")
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			tr, err := st.(store.Traces).StartTrace(ctx, exp, 5, []store.Tag{{Key: "mlflow.trace.session", Value: "s-1"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			repo, err := artifactRepo(st, tr.Tags[len(tr.Tags)-1].Value)
			if err != nil {
				t.Fatal(err)
			}
			spans := `{"spans": [{"name": "child", "parent_span_id": "AAAAAAAAAAE=", "attributes": {"mlflow.spanInputs": "{\"x\": 1}"}},` +
				`{"name": "agent", "parent_span_id": null, "attributes": {"mlflow.spanInputs": "{\"q\": \"traced?\"}", "mlflow.spanOutputs": "\"yes\""}}]}`
			must(t, repo.Put(ctx, "traces.json", strings.NewReader(spans)))
			if _, err := st.(store.Assessments).CreateAssessment(ctx, store.Assessment{TraceID: tr.RequestID, Name: "answer", Type: "expectation",
				Value: `"yes"`, SourceType: "HUMAN", Valid: true}); err != nil {
				t.Fatal(err)
			}
			st.Close()
			if out := mustRun(t, "datasets", "add-traces", "-d", id[1], "--trace-ids", tr.RequestID); !strings.Contains(out, "Added 1 trace(s) to dataset "+id[1]+" (qa).") {
				t.Errorf("add-traces: %s", out)
			}
			mustRun(t, "datasets", "add-traces", "-d", id[1], "--trace-ids", tr.RequestID, "--output", "json")
			var traced []string
			for _, l := range strings.Split(mustRun(t, "datasets", "records", "-d", id[1]), "\n") {
				if strings.Contains(l, tr.RequestID) {
					traced = append(traced, l)
				}
			}
			if len(traced) != 1 || !strings.Contains(traced[0], `"inputs":{"q":"traced?"}`) || !strings.Contains(traced[0], `"outputs":"yes"`) ||
				!strings.Contains(traced[0], `"expectations":{"answer":"yes"}`) || !strings.Contains(traced[0], `"source_type":"TRACE"`) || !strings.Contains(traced[0], `"session_id":"s-1"`) {
				t.Errorf("the trace's record (added twice, merged): %v", traced)
			}
			if _, err := mlrun(t, "datasets", "add-traces", "-d", id[1], "--trace-ids", "tr-0123456789abcdef0123456789abcdef"); err == nil || !strings.Contains(err.Error(), "trace tr-0123456789abcdef0123456789abcdef") {
				t.Errorf("add-traces of an unknown trace: %v", err)
			}

			mustRun(t, "datasets", "delete", "-d", id[1])
			if out := mustRun(t, "datasets", "list"); strings.Contains(out, id[1]) {
				t.Errorf("list after delete:\n%s", out)
			}
		})
	}
}
