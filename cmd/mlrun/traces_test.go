package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/store"
)

// TestTracesCommands: `mlrun traces` on a local database, a server and
// PostgreSQL: search (table and JSON with spans), get (info, assessments
// and the spans the client uploaded), tags, feedback and expectations
// logged, read, updated and deleted, traces deleted; mistakes are one
// line.
func TestTracesCommands(t *testing.T) {
	for name, uri := range trackingURIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Setenv("MLFLOW_TRACKING_URI", uri)
			ctx := context.Background()
			st, err := openStore(ctx, uri, "")
			if err != nil {
				t.Fatal(err)
			}
			exp, err := st.CreateExperiment(ctx, "agent", testArtifactLocation(t, uri), nil)
			if err != nil {
				t.Fatal(err)
			}
			ts := st.(store.Traces)
			start := func(ms int64, name string) *store.TraceInfo {
				tr, err := ts.StartTrace(ctx, exp, ms, nil, []store.Tag{{Key: "mlflow.traceName", Value: name}})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := ts.EndTrace(ctx, tr.RequestID, ms+250, "OK", nil, nil); err != nil {
					t.Fatal(err)
				}
				return tr
			}
			old, recent := start(1_000, "old"), start(2_000, "recent")
			uploadSpans(t, st, recent, `{"spans": [{"name": "predict", "span_id": "s1", "attributes": {"mlflow.spanType": "\"CHAIN\""}}], "request": "hi"}`)
			// A trace whose spans the tracking store keeps (MLflow 3.4+'s
			// spans table; through a server, sent by OTLP).
			expKept, err := st.CreateExperiment(ctx, "agent-kept", testArtifactLocation(t, uri), nil)
			if err != nil {
				t.Fatal(err)
			}
			kept := "tr-0af7651916cd43dd8448eb211c80319c"
			if _, err := ts.PutTrace(ctx, store.TraceInfo{RequestID: kept, ExperimentID: expKept, TimestampMs: 1, Status: "OK"}); err != nil {
				t.Fatal(err)
			}
			if err := st.(store.SpanLogger).LogSpans(ctx, kept, []json.RawMessage{json.RawMessage(`{"trace_id": "CvdlGRbNQ92ESOshHIAxnA==", "span_id": "AAAAAAAAAAE=",
				"parent_span_id": null, "name": "kept-in-store", "start_time_unix_nano": 1000000, "end_time_unix_nano": 2000000, "events": [],
				"status": {"code": "STATUS_CODE_OK", "message": ""}, "attributes": {"mlflow.spanType": "\"AGENT\""}}`)}); err != nil {
				t.Fatal(err)
			}
			st.Close()
			if out := mustRun(t, "traces", "get", "--trace-id", kept); !strings.Contains(out, `"name": "kept-in-store"`) {
				t.Fatalf("get of a trace whose spans the store keeps:\n%s", out)
			}

			t.Setenv("MLFLOW_EXPERIMENT_ID", exp)
			out := mustRun(t, "traces", "search", "--order-by", "timestamp_ms DESC")
			if i, j := strings.Index(out, recent.RequestID), strings.Index(out, old.RequestID); i < 0 || j < i || !strings.Contains(out, "OK") {
				t.Errorf("search table:\n%s", out)
			}
			var found struct {
				Traces []struct {
					Info struct {
						TraceID string `json:"trace_id"`
					} `json:"info"`
					Data json.RawMessage `json:"data"`
				} `json:"traces"`
				NextPageToken *string `json:"next_page_token"`
			}
			out = mustRun(t, "traces", "search", "--output", "json", "--filter-string", "timestamp_ms > 1500")
			if err := json.Unmarshal([]byte(out), &found); err != nil || len(found.Traces) != 1 || found.Traces[0].Info.TraceID != recent.RequestID ||
				!strings.Contains(string(found.Traces[0].Data), `"predict"`) || found.NextPageToken != nil {
				t.Fatalf("search json: %v\n%s", err, out)
			}
			if out := mustRun(t, "traces", "search", "--max-results", "1", "--order-by", "timestamp_ms DESC"); !strings.Contains(out, "Next page token:") {
				t.Errorf("a first page of 1:\n%s", out)
			}

			// --extract-fields, as mlflow traces takes it.
			out = mustRun(t, "traces", "search", "--output", "json", "--order-by", "timestamp_ms DESC", "--extract-fields", "info.trace_id,info.tags.`mlflow.traceName`")
			var picked struct {
				Traces []map[string]map[string]any `json:"traces"`
			}
			if err := json.Unmarshal([]byte(out), &picked); err != nil || len(picked.Traces) != 2 || len(picked.Traces[0]) != 1 || len(picked.Traces[0]["info"]) != 2 ||
				picked.Traces[0]["info"]["trace_id"] != recent.RequestID || fmt.Sprint(picked.Traces[0]["info"]["tags"]) != "map[mlflow.traceName:recent]" {
				t.Errorf("search --extract-fields: %v\n%s", err, out)
			}
			out = mustRun(t, "traces", "search", "--order-by", "timestamp_ms DESC", "--extract-fields", "info.trace_id,data.spans.*.name")
			var lines []string // the table, without the note (on stderr) that the old trace has no spans
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if !strings.Contains(l, "no spans") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 3 || !strings.HasPrefix(lines[0], "info.trace_id") || !strings.Contains(lines[0], "data.spans.*.name") ||
				!strings.Contains(lines[1], recent.RequestID) || !strings.Contains(lines[1], "predict") || !strings.Contains(out, "trace "+old.RequestID+": no spans") {
				t.Errorf("search table of fields:\n%s", out)
			}
			if _, err := mlrun(t, "traces", "search", "--extract-fields", "info.bogus"); err == nil || !strings.Contains(err.Error(), "no field info.bogus") || !strings.Contains(err.Error(), "info.trace_id") {
				t.Errorf("an unknown field: %v", err)
			}

			mustRun(t, "traces", "set-tag", "--trace-id", recent.RequestID, "--key", "env", "--value", "prod")
			out = mustRun(t, "traces", "log-feedback", "--trace-id", recent.RequestID, "--name", "relevance", "--value", "0.9",
				"--source-type", "LLM_JUDGE", "--source-id", "judge-1", "--rationale", "on topic")
			fb := regexp.MustCompile(`Assessment ID: (\S+)`).FindStringSubmatch(out)
			if fb == nil || !strings.Contains(out, "Logged feedback 'relevance' to trace "+recent.RequestID) {
				t.Fatalf("log-feedback: %s", out)
			}
			mustRun(t, "traces", "log-expectation", "--trace-id", recent.RequestID, "--name", "answer", "--value", "Paris")
			mustRun(t, "traces", "update-assessment", "--trace-id", recent.RequestID, "--assessment-id", fb[1], "--value", `{"score": 0.5}`, "--rationale", "revised")

			var got struct {
				Info struct {
					Tags        map[string]string `json:"tags"`
					Assessments []struct {
						Name     string `json:"assessment_name"`
						Feedback *struct {
							Value json.RawMessage `json:"value"`
						} `json:"feedback"`
						Expectation *struct {
							Value json.RawMessage `json:"value"`
						} `json:"expectation"`
						Rationale string `json:"rationale"`
						Source    struct {
							Type string `json:"source_type"`
							ID   string `json:"source_id"`
						} `json:"source"`
					} `json:"assessments"`
				} `json:"info"`
				Data struct {
					Spans []struct {
						Name string `json:"name"`
					} `json:"spans"`
				} `json:"data"`
			}
			out = mustRun(t, "traces", "get", "--trace-id", recent.RequestID)
			if err := json.Unmarshal([]byte(out), &got); err != nil || got.Info.Tags["env"] != "prod" || len(got.Info.Assessments) != 2 || len(got.Data.Spans) != 1 {
				t.Fatalf("get: %v\n%s", err, out)
			}
			f, e := got.Info.Assessments[0], got.Info.Assessments[1]
			compact := func(raw json.RawMessage) string {
				var b bytes.Buffer
				json.Compact(&b, raw)
				return b.String()
			}
			if f.Feedback == nil || compact(f.Feedback.Value) != `{"score":0.5}` || f.Rationale != "revised" || f.Source.Type != "LLM_JUDGE" || f.Source.ID != "judge-1" ||
				e.Expectation == nil || compact(e.Expectation.Value) != `"Paris"` || e.Source.Type != "HUMAN" {
				t.Errorf("assessments: %s", out)
			}
			if out := mustRun(t, "traces", "get", "--trace-id", recent.RequestID, "--extract-fields", "info.assessments.*.assessment_name"); strings.Join(strings.Fields(out), "") !=
				`{"info":{"assessments":[{"assessment_name":"relevance"},{"assessment_name":"answer"}]}}` {
				t.Errorf("get --extract-fields:\n%s", out)
			}
			if out := mustRun(t, "traces", "get-assessment", "--trace-id", recent.RequestID, "--assessment-id", fb[1]); !strings.Contains(out, `"assessment_name": "relevance"`) {
				t.Errorf("get-assessment:\n%s", out)
			}
			mustRun(t, "traces", "delete-assessment", "--trace-id", recent.RequestID, "--assessment-id", fb[1])
			mustRun(t, "traces", "delete-tag", "--trace-id", recent.RequestID, "--key", "env")

			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"traces", "get-assessment", "--trace-id", recent.RequestID, "--assessment-id", fb[1]}, "not found"},
				{[]string{"traces", "get", "--trace-id", "tr-0123456789abcdef0123456789abcdef"}, "tr-0123456789abcdef0123456789abcdef"},
				{[]string{"traces", "get"}, "traces get: give --trace-id"},
				{[]string{"traces", "log-feedback", "--trace-id", recent.RequestID, "--name", "x", "--source-type", "ROBOT"}, "--source-type ROBOT"},
				{[]string{"traces", "log-feedback", "--trace-id", recent.RequestID, "--name", "x", "--metadata", "[1]"}, "--metadata"},
				{[]string{"traces", "log-expectation", "--trace-id", recent.RequestID, "--name", "x"}, "give --value"},
				{[]string{"traces", "delete"}, "give --trace-ids or --max-timestamp-millis"},
				{[]string{"traces", "delete", "--trace-ids", old.RequestID, "--max-timestamp-millis", "5"}, "not both"},
				{[]string{"traces", "search", "--filter-string", "bogus.x = 1"}, "bogus"},
			} {
				out, err := mlrun(t, tc.args...)
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("mlrun %s: %v (%s), want one line with %q", strings.Join(tc.args, " "), err, out, tc.want)
				}
			}
			if out := mustRun(t, "traces", "delete", "--max-timestamp-millis", "1500"); !strings.Contains(out, "Deleted 1 trace(s) from experiment "+exp) {
				t.Errorf("delete by time: %s", out)
			}
			if out := mustRun(t, "traces", "delete", "--trace-ids", recent.RequestID+","+old.RequestID); !strings.Contains(out, "Deleted 1 trace(s)") {
				t.Errorf("delete by id: %s", out)
			}
			if out := mustRun(t, "traces", "search"); strings.Contains(out, "tr-") {
				t.Errorf("search after deleting all:\n%s", out)
			}
		})
	}
}

// TestTracesSearchModelIDAndClickForms: traces search --model-id (the
// traces whose mlflow.modelId metadata names the model, as MLflow's
// search_traces(model_id=…); not with --filter-string), click's
// --no-include-spans, and --verbose listing every field of a trace when
// --extract-fields names one it lacks.
func TestTracesSearchModelIDAndClickForms(t *testing.T) {
	for name, uri := range trackingURIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Setenv("MLFLOW_TRACKING_URI", uri)
			ctx := context.Background()
			st, err := openStore(ctx, uri, "")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			exp, err := st.CreateExperiment(ctx, "by-model", testArtifactLocation(t, uri), nil)
			if err != nil {
				t.Fatal(err)
			}
			ts := st.(store.Traces)
			ofModel, err := ts.StartTrace(ctx, exp, 1_000, []store.Tag{{Key: "mlflow.modelId", Value: "m-0123"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			other, err := ts.StartTrace(ctx, exp, 2_000, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			uploadSpans(t, st, ofModel, `{"spans": [{"name": "predict", "span_id": "s1", "attributes": {"mlflow.spanType": "\"CHAIN\""}}]}`)

			out := mustRun(t, "traces", "search", "-x", exp, "--model-id", "m-0123")
			if !strings.Contains(out, ofModel.RequestID) || strings.Contains(out, other.RequestID) {
				t.Fatalf("search --model-id:\n%s", out)
			}
			if _, err := mlrun(t, "traces", "search", "-x", exp, "--model-id", "m-0123", "--filter-string", "status = 'OK'"); !errors.Is(err, store.ErrInvalidArgument) {
				t.Fatalf("--model-id with --filter-string: %v", err)
			}
			// Any value of a metadata key (the UI's sessions page reads so).
			if out := mustRun(t, "traces", "search", "-x", exp, "--filter-string", "metadata.`mlflow.modelId` LIKE '%'"); !strings.Contains(out, ofModel.RequestID) || strings.Contains(out, other.RequestID) {
				t.Fatalf("search on any value of a metadata key:\n%s", out)
			}

			withSpans := mustRun(t, "traces", "search", "-x", exp, "--model-id", "m-0123", "--output", "json")
			without := mustRun(t, "traces", "search", "-x", exp, "--model-id", "m-0123", "--output", "json", "--no-include-spans")
			if !strings.Contains(withSpans, `"predict"`) || strings.Contains(without, `"predict"`) || !strings.Contains(without, ofModel.RequestID) {
				t.Fatalf("--no-include-spans:\n%s\nagainst\n%s", without, withSpans)
			}

			deep := "data.spans.*.attributes.`mlflow.spanType`"
			_, err = mlrun(t, "traces", "get", "--trace-id", ofModel.RequestID, "--extract-fields", "info.bogus")
			if err == nil || !strings.Contains(err.Error(), "no field info.bogus") || strings.Contains(err.Error(), deep) || !strings.Contains(err.Error(), "--verbose lists every field") {
				t.Fatalf("an unknown field: %v", err)
			}
			_, err = mlrun(t, "traces", "get", "--trace-id", ofModel.RequestID, "--extract-fields", "info.bogus", "--verbose")
			if err == nil || !strings.Contains(err.Error(), deep) {
				t.Fatalf("an unknown field, --verbose: %v", err)
			}
		})
	}
}

// uploadSpans writes a trace's spans where MLflow's client uploads them:
// traces.json at the trace's artifact location.
func uploadSpans(t *testing.T, st store.Store, tr *store.TraceInfo, spans string) {
	t.Helper()
	var loc string
	for _, tg := range tr.Tags {
		if tg.Key == store.TagTraceArtifactLocation {
			loc = tg.Value
		}
	}
	repo, err := artifactRepo(st, loc)
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Put(context.Background(), "traces.json", strings.NewReader(spans)); err != nil {
		t.Fatal(err)
	}
}
