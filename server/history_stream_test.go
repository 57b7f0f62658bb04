package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// TestMetricHistoryStreamed: a whole history (more points than one
// 32 KiB write holds, NaN and ±Inf among them, a key with a slash) is
// streamed with exactly the bytes of the MetricsResponse the store's
// points make; an empty history is {}; an unknown run is MLflow's
// RESOURCE_DOES_NOT_EXIST with 404, before anything is streamed.
func TestMetricHistoryStreamed(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	run, err := srv.store.CreateRun(ctx, store.CreateRun{})
	if err != nil {
		t.Fatal(err)
	}
	const key = "val/loss: a"
	ms := make([]store.Metric, 1000)
	for batch := 0; batch < 5; batch++ {
		for j := range ms {
			i := batch*1000 + j
			v := 1 / float64(i+1)
			switch i % 97 {
			case 1:
				v = math.NaN()
			case 2:
				v = math.Inf(1)
			case 3:
				v = math.Inf(-1)
			}
			ms[j] = store.Metric{Key: key, Value: v, Timestamp: int64(i), Step: int64(i)}
		}
		if err := srv.store.LogBatch(ctx, run.Info.RunID, ms, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	get := func(run, key string) (int, string) {
		code, b := srv.do(t, "GET", "/api/2.0/mlflow/metrics/get-history?run_id="+run+"&metric_key="+url.QueryEscape(key), "", nil)
		return code, string(b)
	}
	points, _, err := srv.store.GetMetricHistory(ctx, run.Info.RunID, key, 0, "")
	if err != nil || len(points) != 5000 {
		t.Fatalf("%d points, %v", len(points), err)
	}
	want, _ := json.Marshal(wire.MetricsResponse{Metrics: wire.FromMetrics(points)})
	if len(want) < 3*32<<10 {
		t.Fatalf("the history is %d bytes: too short to take several writes", len(want))
	}
	if code, body := get(run.Info.RunID, key); code != 200 || body != string(want) {
		t.Fatalf("streamed history (%d, %d bytes) differs from the MetricsResponse (%d bytes)", code, len(body), len(want))
	}
	if code, body := get(run.Info.RunID, "absent"); code != 200 || body != "{}" {
		t.Fatalf("empty history: %d %s", code, body)
	}
	code, body := get("0123456789abcdef0123456789abcdef", key)
	if code != 404 || !strings.Contains(body, `"error_code":"RESOURCE_DOES_NOT_EXIST"`) {
		t.Fatalf("unknown run: %d %s", code, body)
	}
}

// TestSearchRunsStreamed: a runs/search page is streamed with exactly the
// bytes of the SearchRunsResponse the store's page makes: a page of more
// runs than the store loads at a time (250) and longer than one 32 KiB
// write, with its next_page_token (runs with params, metrics, NaN among
// them, tags, some with a dataset input); the last page, without one; an
// empty result is {}; a bad filter is MLflow's INVALID_PARAMETER_VALUE
// with 400, before anything is streamed.
func TestSearchRunsStreamed(t *testing.T) {
	// SQLite loads a page's data 250 runs at a time, PostgreSQL at once.
	t.Run("sqlite", func(t *testing.T) { testSearchRunsStreamed(t, newServer(t)) })
	t.Run("postgres", func(t *testing.T) {
		s := testutil.StartPostgresServer(t, false)
		testSearchRunsStreamed(t, &testServer{url: s.URL, store: s.Store})
	})
}

func testSearchRunsStreamed(t *testing.T, srv *testServer) {
	ctx := context.Background()
	exp, err := srv.store.CreateExperiment(ctx, "streamed", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		run, err := srv.store.CreateRun(ctx, store.CreateRun{ExperimentID: exp, StartTime: int64(1000 + i)})
		if err != nil {
			t.Fatal(err)
		}
		err = srv.store.LogBatch(ctx, run.Info.RunID,
			[]store.Metric{{Key: "loss", Value: 1 / float64(i+1), Timestamp: 1, Step: int64(i)}, {Key: "nan", Value: math.NaN(), Timestamp: 1}},
			[]store.Param{{Key: "lr", Value: fmt.Sprint(i)}, {Key: "note", Value: `"quoted" <html> & é`}},
			[]store.Tag{{Key: "t", Value: fmt.Sprint(i % 7)}})
		if err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			err = srv.store.LogInputs(ctx, run.Info.RunID, []store.DatasetInput{{Dataset: store.Dataset{Name: "d", Digest: fmt.Sprint(i), SourceType: "local", Source: "{}"}}})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	search := func(body string) (int, string) {
		code, b := srv.do(t, "POST", "/api/2.0/mlflow/runs/search", "application/json", []byte(body))
		return code, string(b)
	}
	want := func(q store.SearchRuns) string {
		runs, next, err := srv.store.SearchRuns(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		resp := wire.SearchRunsResponse{NextPageToken: next}
		for _, r := range runs {
			resp.Runs = append(resp.Runs, wire.FromRun(r))
		}
		b, _ := json.Marshal(resp)
		return string(b)
	}
	first := want(store.SearchRuns{ExperimentIDs: []string{exp}, MaxResults: 260, OrderBy: []string{"metrics.loss DESC"}})
	if len(first) < 2*32<<10 || !strings.Contains(first, `"next_page_token":"`) || strings.Count(first, `"run_uuid"`) != 260 {
		t.Fatalf("the first page is %d bytes, %d runs: not the page this test needs", len(first), strings.Count(first, `"run_uuid"`))
	}
	code, body := search(`{"experiment_ids":["` + exp + `"],"max_results":260,"order_by":["metrics.loss DESC"]}`)
	if code != 200 || body != first {
		t.Fatalf("streamed page (%d, %d bytes) differs from the SearchRunsResponse (%d bytes): %.300s", code, len(body), len(first), body)
	}
	var page wire.SearchRunsResponse
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	last := want(store.SearchRuns{ExperimentIDs: []string{exp}, MaxResults: 260, OrderBy: []string{"metrics.loss DESC"}, PageToken: page.NextPageToken})
	code, body = search(`{"experiment_ids":["` + exp + `"],"max_results":260,"order_by":["metrics.loss DESC"],"page_token":"` + page.NextPageToken + `"}`)
	if code != 200 || body != last || strings.Count(body, `"run_uuid"`) != 40 || strings.Contains(body, "next_page_token") {
		t.Fatalf("last page: %d %d bytes, want %d bytes", code, len(body), len(last))
	}
	if code, body := search(`{"experiment_ids":["` + exp + `"],"filter":"params.lr = 'none'"}`); code != 200 || body != "{}" {
		t.Fatalf("empty result: %d %s", code, body)
	}
	code, body = search(`{"experiment_ids":["` + exp + `"],"filter":"params.lr =="}`)
	if code != 400 || !strings.Contains(body, `"error_code":"INVALID_PARAMETER_VALUE"`) {
		t.Fatalf("bad filter: %d %s", code, body)
	}
	// runs/get (written by wire.AppendRun too) is RunResponse's JSON, byte
	// for byte, for a run with every part: NaN, HTML characters, inputs.
	for _, r := range page.Runs[:3] {
		run, err := srv.store.GetRun(ctx, r.Info.RunID)
		if err != nil {
			t.Fatal(err)
		}
		wantRun, _ := json.Marshal(wire.RunResponse{Run: wire.FromRun(run)})
		code, got := srv.do(t, "GET", "/api/2.0/mlflow/runs/get?run_id="+run.Info.RunID, "", nil)
		if code != 200 || string(got) != string(wantRun) {
			t.Fatalf("runs/get: %d\n got %s\nwant %s", code, got, wantRun)
		}
	}
	var withInputs string
	for _, r := range page.Runs {
		if r.Inputs != nil && len(r.Inputs.DatasetInputs) > 0 {
			withInputs = r.Info.RunID
		}
	}
	run, err := srv.store.GetRun(ctx, withInputs)
	if err != nil {
		t.Fatal(err)
	}
	wantRun, _ := json.Marshal(wire.RunResponse{Run: wire.FromRun(run)})
	if code, got := srv.do(t, "GET", "/api/2.0/mlflow/runs/get?run_id="+withInputs, "", nil); code != 200 || string(got) != string(wantRun) || !strings.Contains(string(got), `"dataset_inputs"`) {
		t.Fatalf("runs/get of a run with inputs: %d\n got %s\nwant %s", code, got, wantRun)
	}
}
