package storetest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlrun/mlrun/store"
)

// Opener returns a fresh, empty store for one test; it registers its own
// cleanup with t.
type Opener func(t *testing.T) store.Store

// Run runs the whole suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"ExperimentLifecycle", testExperimentLifecycle},
		{"ExperimentErrors", testExperimentErrors},
		{"ExperimentTags", testExperimentTags},
		{"SearchExperiments", testSearchExperiments},
		{"CreateAndGetRun", testCreateAndGetRun},
		{"RunIDsSortByCreation", testRunIDsSortByCreation},
		{"RunNameRules", testRunNameRules},
		{"UpdateRun", testUpdateRun},
		{"DeleteRestoreRun", testDeleteRestoreRun},
		{"Params", testParams},
		{"MetricsHistoryAndLatest", testMetrics},
		{"MetricHistoryPaging", testMetricHistoryPaging},
		{"Tags", testTags},
		{"LogBatchAtomic", testLogBatchAtomic},
		{"RunDataInKeyOrder", testRunDataInKeyOrder},
		{"LogBatchLimits", testLogBatchLimits},
		{"Validation", testValidation},
		{"LogInputs", testLogInputs},
		{"SearchRunsFilter", testSearchRunsFilter},
		{"SearchRunsOrder", testSearchRunsOrder},
		{"SearchRunsPagingWhileAdding", testSearchRunsPaging},
		{"SearchRunsErrors", testSearchRunsErrors},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentLogModel", testConcurrentLogModel},
		{"LoggedModelSearchAndMetrics", testLoggedModelSearch},
		{"Traces", testTraces},
		{"LinkPromptsToTrace", testLinkPrompts},
		{"Scorers", testScorers},
		{"EvaluationDatasets", testEvaluationDatasets},
		{"Assessments", testAssessments},
		{"ConcurrentGenAIWrites", testConcurrentGenAIWrites},
		{"TraceSpans", testTraceSpans},
		{"TraceSearchMLflow3", testTraceSearch3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

func ctx() context.Context { return context.Background() }

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("got error %v, want kind %v", err, kind)
	}
}

func newExp(t *testing.T, s store.Store, name string) string {
	t.Helper()
	id, err := s.CreateExperiment(ctx(), name, "", nil)
	ok(t, err)
	return id
}

func newRun(t *testing.T, s store.Store, exp string, tags ...store.Tag) *store.Run {
	t.Helper()
	r, err := s.CreateRun(ctx(), store.CreateRun{ExperimentID: exp, UserID: "tester", Tags: tags})
	ok(t, err)
	return r
}

func testExperimentLifecycle(t *testing.T, s store.Store) {
	def := must[*store.Experiment](t)(s.GetExperiment(ctx(), "0"))
	if def.Name != "Default" || def.LifecycleStage != store.LifecycleActive {
		t.Fatalf("default experiment = %+v", def)
	}
	id, err := s.CreateExperiment(ctx(), "exp-a", "", []store.Tag{{Key: "team", Value: "ml"}})
	ok(t, err)
	e := must[*store.Experiment](t)(s.GetExperiment(ctx(), id))
	if e.Name != "exp-a" || e.ArtifactLocation == "" || e.CreationTime == 0 || len(e.Tags) != 1 || e.Tags[0] != (store.Tag{Key: "team", Value: "ml"}) {
		t.Fatalf("experiment = %+v", e)
	}
	byName := must[*store.Experiment](t)(s.GetExperimentByName(ctx(), "exp-a"))
	if byName.ID != id {
		t.Fatalf("by name: id %s, want %s", byName.ID, id)
	}
	ok(t, s.RenameExperiment(ctx(), id, "exp-b"))
	if e := must[*store.Experiment](t)(s.GetExperiment(ctx(), id)); e.Name != "exp-b" {
		t.Fatalf("renamed name = %q", e.Name)
	}
	r := newRun(t, s, id)
	ok(t, s.DeleteExperiment(ctx(), id))
	e = must[*store.Experiment](t)(s.GetExperiment(ctx(), id))
	if e.LifecycleStage != store.LifecycleDeleted {
		t.Fatalf("after delete: %s", e.LifecycleStage)
	}
	if got := must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID)); got.Info.LifecycleStage != store.LifecycleDeleted {
		t.Fatalf("run of deleted experiment is %s", got.Info.LifecycleStage)
	}
	// A deleted experiment still holds its name, and cannot be renamed.
	_, err = s.CreateExperiment(ctx(), "exp-b", "", nil)
	wantKind(t, err, store.ErrAlreadyExists)
	wantKind(t, s.RenameExperiment(ctx(), id, "exp-c"), store.ErrInvalidState)
	wantKind(t, s.DeleteExperiment(ctx(), id), store.ErrNotFound)
	ok(t, s.RestoreExperiment(ctx(), id))
	wantKind(t, s.RestoreExperiment(ctx(), id), store.ErrNotFound)
	if got := must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID)); got.Info.LifecycleStage != store.LifecycleActive {
		t.Fatalf("run after restore is %s", got.Info.LifecycleStage)
	}
}

func testExperimentErrors(t *testing.T, s store.Store) {
	_, err := s.GetExperiment(ctx(), "987654")
	wantKind(t, err, store.ErrNotFound)
	_, err = s.GetExperimentByName(ctx(), "no-such")
	wantKind(t, err, store.ErrNotFound)
	_, err = s.CreateExperiment(ctx(), "", "", nil)
	wantKind(t, err, store.ErrInvalidArgument)
	newExp(t, s, "dup")
	_, err = s.CreateExperiment(ctx(), "dup", "", nil)
	wantKind(t, err, store.ErrAlreadyExists)
	other := newExp(t, s, "other")
	wantKind(t, s.RenameExperiment(ctx(), other, "dup"), store.ErrAlreadyExists)
	wantKind(t, s.RenameExperiment(ctx(), "987654", "x"), store.ErrNotFound)
	wantKind(t, s.DeleteExperiment(ctx(), "987654"), store.ErrNotFound)
}

func testExperimentTags(t *testing.T, s store.Store) {
	id := newExp(t, s, "tagged")
	ok(t, s.SetExperimentTag(ctx(), id, store.Tag{Key: "k", Value: "v1"}))
	ok(t, s.SetExperimentTag(ctx(), id, store.Tag{Key: "k", Value: "v2"}))
	e := must[*store.Experiment](t)(s.GetExperiment(ctx(), id))
	if len(e.Tags) != 1 || e.Tags[0].Value != "v2" {
		t.Fatalf("tags = %+v", e.Tags)
	}
	ok(t, s.DeleteExperimentTag(ctx(), id, "k"))
	wantKind(t, s.DeleteExperimentTag(ctx(), id, "k"), store.ErrNotFound)
	wantKind(t, s.SetExperimentTag(ctx(), "987654", store.Tag{Key: "k", Value: "v"}), store.ErrNotFound)
	wantKind(t, s.SetExperimentTag(ctx(), id, store.Tag{Key: "../bad", Value: "v"}), store.ErrInvalidArgument)
}

func testSearchExperiments(t *testing.T, s store.Store) {
	for i, n := range []string{"test-a", "test-b", "prod-c"} {
		id := newExp(t, s, n)
		ok(t, s.SetExperimentTag(ctx(), id, store.Tag{Key: "idx", Value: fmt.Sprint(i)}))
		time.Sleep(2 * time.Millisecond)
	}
	names := func(q store.SearchExperiments) []string {
		t.Helper()
		es, _, err := s.SearchExperiments(ctx(), q)
		ok(t, err)
		var out []string
		for _, e := range es {
			out = append(out, e.Name)
		}
		return out
	}
	if got := names(store.SearchExperiments{Filter: "name LIKE 'test-%'", OrderBy: []string{"name ASC"}}); !slices.Equal(got, []string{"test-a", "test-b"}) {
		t.Fatalf("LIKE: %v", got)
	}
	if got := names(store.SearchExperiments{Filter: "tags.idx = '2'"}); !slices.Equal(got, []string{"prod-c"}) {
		t.Fatalf("tag filter: %v", got)
	}
	if got := names(store.SearchExperiments{Filter: "name ILIKE 'TEST-B'"}); !slices.Equal(got, []string{"test-b"}) {
		t.Fatalf("ILIKE: %v", got)
	}
	// Default order: newest first.
	if got := names(store.SearchExperiments{}); len(got) != 4 || got[0] != "prod-c" || got[3] != "Default" {
		t.Fatalf("default order: %v", got)
	}
	// Paging returns each experiment once.
	var all []string
	tok := ""
	for {
		es, next, err := s.SearchExperiments(ctx(), store.SearchExperiments{MaxResults: 3, PageToken: tok, OrderBy: []string{"name"}})
		ok(t, err)
		for _, e := range es {
			all = append(all, e.Name)
		}
		if next == "" {
			break
		}
		tok = next
	}
	if !slices.Equal(all, []string{"Default", "prod-c", "test-a", "test-b"}) {
		t.Fatalf("paged: %v", all)
	}
	ok(t, s.DeleteExperiment(ctx(), must[*store.Experiment](t)(s.GetExperimentByName(ctx(), "prod-c")).ID))
	if got := names(store.SearchExperiments{ViewType: store.DeletedOnly}); !slices.Equal(got, []string{"prod-c"}) {
		t.Fatalf("deleted only: %v", got)
	}
	if got := names(store.SearchExperiments{ViewType: store.AllViews}); len(got) != 4 {
		t.Fatalf("all: %v", got)
	}
	for _, bad := range []string{"name = test", "foo.name = 'x'", "bogus = 'x'", "name = 'a' OR name = 'b'"} {
		_, _, err := s.SearchExperiments(ctx(), store.SearchExperiments{Filter: bad})
		wantKind(t, err, store.ErrInvalidArgument)
	}
	_, _, err := s.SearchExperiments(ctx(), store.SearchExperiments{PageToken: "%%garbage"})
	wantKind(t, err, store.ErrInvalidArgument)
}

func testCreateAndGetRun(t *testing.T, s store.Store) {
	exp := newExp(t, s, "runs")
	r, err := s.CreateRun(ctx(), store.CreateRun{ExperimentID: exp, UserID: "alice", RunName: "first", StartTime: 1700000000000,
		Tags: []store.Tag{{Key: "mlflow.user", Value: "alice"}, {Key: "b", Value: "1"}, {Key: "A", Value: "2"}, {Key: "b", Value: "3"}}})
	ok(t, err)
	if len(r.Info.RunID) != 32 || r.Info.Status != store.StatusRunning || r.Info.RunName != "first" ||
		r.Info.StartTime != 1700000000000 || r.Info.EndTime != nil || r.Info.ExperimentID != exp ||
		r.Info.UserID != "alice" || r.Info.LifecycleStage != store.LifecycleActive {
		t.Fatalf("created run = %+v", r.Info)
	}
	if want := "/" + r.Info.RunID + "/artifacts"; len(r.Info.ArtifactURI) < len(want) || r.Info.ArtifactURI[len(r.Info.ArtifactURI)-len(want):] != want {
		t.Fatalf("artifact uri %q does not end in %q", r.Info.ArtifactURI, want)
	}
	if v, _ := r.Tag("mlflow.runName"); v != "first" {
		t.Fatalf("mlflow.runName tag = %q", v)
	}
	got := must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID))
	if got.Info != r.Info {
		t.Fatalf("get = %+v, want %+v", got.Info, r.Info)
	}
	// CreateRun answers with the run as GetRun reads it back.
	if !reflect.DeepEqual(got.Tags, r.Tags) || len(r.Tags) != 4 || len(got.Params)+len(got.Metrics)+len(r.Params)+len(r.Metrics) != 0 {
		t.Fatalf("get: tags %v, want %v as created", got.Tags, r.Tags)
	}
	_, err = s.GetRun(ctx(), "0123456789abcdef0123456789abcdef")
	wantKind(t, err, store.ErrNotFound)
	_, err = s.CreateRun(ctx(), store.CreateRun{ExperimentID: "987654"})
	wantKind(t, err, store.ErrNotFound)
	// Default experiment when none is given.
	d := must[*store.Run](t)(s.CreateRun(ctx(), store.CreateRun{}))
	if d.Info.ExperimentID != "0" || d.Info.RunName == "" || d.Info.StartTime == 0 {
		t.Fatalf("default run = %+v", d.Info)
	}
	// A deleted experiment takes no new runs.
	ok(t, s.DeleteExperiment(ctx(), exp))
	_, err = s.CreateRun(ctx(), store.CreateRun{ExperimentID: exp})
	wantKind(t, err, store.ErrInvalidArgument)
}

// testRunIDsSortByCreation: run ids are MLflow's 32 lowercase hex digits,
// and a run made later has a greater id (mlrun's ids are time-ordered,
// so that the runs being written share index pages).
func testRunIDsSortByCreation(t *testing.T, s store.Store) {
	exp := newExp(t, s, "ids")
	prev := ""
	for i := 0; i < 50; i++ {
		id := newRun(t, s, exp).Info.RunID
		if !runID.MatchString(id) {
			t.Fatalf("run id %q is not 32 lowercase hex digits", id)
		}
		if id <= prev {
			t.Fatalf("run %d has id %s, not after %s, the run made before it", i, id, prev)
		}
		prev = id
	}
}

var runID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func testRunNameRules(t *testing.T, s store.Store) {
	r := must[*store.Run](t)(s.CreateRun(ctx(), store.CreateRun{Tags: []store.Tag{{Key: "mlflow.runName", Value: "from-tag"}}}))
	if r.Info.RunName != "from-tag" {
		t.Fatalf("name from tag = %q", r.Info.RunName)
	}
	_, err := s.CreateRun(ctx(), store.CreateRun{RunName: "a", Tags: []store.Tag{{Key: "mlflow.runName", Value: "b"}}})
	wantKind(t, err, store.ErrInvalidArgument)
	ok(t, s.SetTag(ctx(), r.Info.RunID, store.Tag{Key: "mlflow.runName", Value: "renamed"}))
	if got := must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID)); got.Info.RunName != "renamed" {
		t.Fatalf("after tag rename: %q", got.Info.RunName)
	}
}

func testUpdateRun(t *testing.T, s store.Store) {
	r := newRun(t, s, "0")
	st, end, name := store.StatusFinished, int64(1700000009999), "done"
	info := must[*store.RunInfo](t)(s.UpdateRun(ctx(), r.Info.RunID, store.UpdateRun{Status: &st, EndTime: &end, RunName: &name}))
	if info.Status != st || info.EndTime == nil || *info.EndTime != end || info.RunName != name {
		t.Fatalf("updated = %+v", info)
	}
	got := must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID))
	if v, _ := got.Tag("mlflow.runName"); v != "done" || got.Info.Status != st {
		t.Fatalf("after update: %+v tag %q", got.Info, v)
	}
	bad := store.RunStatus("BOGUS")
	_, err := s.UpdateRun(ctx(), r.Info.RunID, store.UpdateRun{Status: &bad})
	wantKind(t, err, store.ErrInvalidArgument)
	_, err = s.UpdateRun(ctx(), "0123456789abcdef0123456789abcdef", store.UpdateRun{Status: &st})
	wantKind(t, err, store.ErrNotFound)
}

func testDeleteRestoreRun(t *testing.T, s store.Store) {
	r := newRun(t, s, "0")
	ok(t, s.DeleteRun(ctx(), r.Info.RunID))
	got := must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID))
	if got.Info.LifecycleStage != store.LifecycleDeleted {
		t.Fatalf("deleted run stage %s", got.Info.LifecycleStage)
	}
	wantKind(t, s.LogParam(ctx(), r.Info.RunID, store.Param{Key: "a", Value: "1"}), store.ErrInvalidArgument)
	runs, _, err := s.SearchRuns(ctx(), store.SearchRuns{ExperimentIDs: []string{"0"}})
	ok(t, err)
	if len(runs) != 0 {
		t.Fatalf("active search found a deleted run")
	}
	runs, _, err = s.SearchRuns(ctx(), store.SearchRuns{ExperimentIDs: []string{"0"}, ViewType: store.DeletedOnly})
	ok(t, err)
	if len(runs) != 1 {
		t.Fatalf("deleted-only search found %d runs", len(runs))
	}
	ok(t, s.RestoreRun(ctx(), r.Info.RunID))
	if got := must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID)); got.Info.LifecycleStage != store.LifecycleActive {
		t.Fatalf("restored run stage %s", got.Info.LifecycleStage)
	}
	wantKind(t, s.DeleteRun(ctx(), "0123456789abcdef0123456789abcdef"), store.ErrNotFound)
	wantKind(t, s.RestoreRun(ctx(), "0123456789abcdef0123456789abcdef"), store.ErrNotFound)
}

func testParams(t *testing.T, s store.Store) {
	r := newRun(t, s, "0")
	ok(t, s.LogParam(ctx(), r.Info.RunID, store.Param{Key: "alpha", Value: "0.5"}))
	ok(t, s.LogParam(ctx(), r.Info.RunID, store.Param{Key: "alpha", Value: "0.5"}))
	err := s.LogParam(ctx(), r.Info.RunID, store.Param{Key: "alpha", Value: "0.6"})
	wantKind(t, err, store.ErrInvalidArgument)
	ok(t, s.LogParam(ctx(), r.Info.RunID, store.Param{Key: "empty", Value: ""}))
	got := must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID))
	if !slices.Equal(got.Params, []store.Param{{Key: "alpha", Value: "0.5"}, {Key: "empty", Value: ""}}) {
		t.Fatalf("params = %+v", got.Params)
	}
	long := make([]byte, 7000)
	for i := range long {
		long[i] = 'x'
	}
	ok(t, s.LogParam(ctx(), r.Info.RunID, store.Param{Key: "long", Value: string(long)}))
	got = must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID))
	for _, p := range got.Params {
		if p.Key == "long" && len(p.Value) != 6000 {
			t.Fatalf("long param kept %d chars, want 6000", len(p.Value))
		}
	}
	wantKind(t, s.LogParam(ctx(), "0123456789abcdef0123456789abcdef", store.Param{Key: "a", Value: "1"}), store.ErrNotFound)

	// A batch that changes one param fails whole: none of its new params
	// are kept. One that logs a param again with its value is fine.
	b := newRun(t, s, "0")
	ok(t, s.LogParam(ctx(), b.Info.RunID, store.Param{Key: "lr", Value: "0.1"}))
	ok(t, s.LogParam(ctx(), b.Info.RunID, store.Param{Key: "depth", Value: "3"}))
	err = s.LogBatch(ctx(), b.Info.RunID, nil, []store.Param{{Key: "new1", Value: "a"}, {Key: "lr", Value: "0.1"}, {Key: "depth", Value: "4"}, {Key: "new2", Value: "b"}}, nil)
	wantKind(t, err, store.ErrInvalidArgument)
	if !strings.Contains(err.Error(), "key='depth'") || !strings.Contains(err.Error(), "value='3'") {
		t.Fatalf("error %q does not name the changed param and its value", err)
	}
	if got := must[*store.Run](t)(s.GetRun(ctx(), b.Info.RunID)).Params; !slices.Equal(got, []store.Param{{Key: "depth", Value: "3"}, {Key: "lr", Value: "0.1"}}) {
		t.Fatalf("after the refused batch, params = %+v", got)
	}
	ok(t, s.LogBatch(ctx(), b.Info.RunID, nil, []store.Param{{Key: "new1", Value: "a"}, {Key: "lr", Value: "0.1"}}, nil))
	if got := must[*store.Run](t)(s.GetRun(ctx(), b.Info.RunID)).Params; len(got) != 3 {
		t.Fatalf("after the accepted batch, params = %+v", got)
	}
}

func testMetrics(t *testing.T, s store.Store) {
	r := newRun(t, s, "0")
	id := r.Info.RunID
	pts := []store.Metric{
		{Key: "loss", Value: 1.0, Timestamp: 100, Step: 0},
		{Key: "loss", Value: 0.5, Timestamp: 200, Step: 1},
		{Key: "loss", Value: 0.7, Timestamp: 50, Step: 2}, // highest step wins though older
		{Key: "loss", Value: 0.9, Timestamp: 300, Step: 1},
		{Key: "nan", Value: math.NaN(), Timestamp: 1},
		{Key: "pinf", Value: math.Inf(1), Timestamp: 1},
		{Key: "ninf", Value: math.Inf(-1), Timestamp: 1},
	}
	for _, m := range pts {
		ok(t, s.LogMetric(ctx(), id, m))
	}
	ok(t, s.LogMetric(ctx(), id, pts[0])) // exact duplicate: ignored
	hist, _, err := s.GetMetricHistory(ctx(), id, "loss", 0, "")
	ok(t, err)
	want := []store.Metric{pts[2], pts[0], pts[1], pts[3]} // by timestamp
	if !slices.Equal(hist, want) {
		t.Fatalf("history = %+v\nwant %+v", hist, want)
	}
	got := must[*store.Run](t)(s.GetRun(ctx(), id))
	latest := map[string]store.Metric{}
	for _, m := range got.Metrics {
		latest[m.Key] = m
	}
	if latest["loss"] != pts[2] {
		t.Fatalf("latest loss = %+v, want %+v", latest["loss"], pts[2])
	}
	if !math.IsNaN(latest["nan"].Value) || !math.IsInf(latest["pinf"].Value, 1) || !math.IsInf(latest["ninf"].Value, -1) {
		t.Fatalf("special values: %+v", got.Metrics)
	}
	// Ties on step go to the later timestamp, then to the larger value.
	for _, m := range []store.Metric{{Key: "tie", Value: 1, Timestamp: 10, Step: 5}, {Key: "tie", Value: 0.5, Timestamp: 20, Step: 5},
		{Key: "tie", Value: 0.4, Timestamp: 20, Step: 5}, {Key: "tie", Value: 0.6, Timestamp: 20, Step: 5}, {Key: "tie", Value: 9, Timestamp: 15, Step: 5}} {
		ok(t, s.LogMetric(ctx(), id, m))
	}
	for _, m := range must[*store.Run](t)(s.GetRun(ctx(), id)).Metrics {
		if m.Key == "tie" && (m.Value != 0.6 || m.Timestamp != 20) {
			t.Fatalf("latest tie = %+v, want 0.6 at timestamp 20", m)
		}
	}
	h, _, err := s.GetMetricHistory(ctx(), id, "nan", 0, "")
	ok(t, err)
	if len(h) != 1 || !math.IsNaN(h[0].Value) {
		t.Fatalf("nan history = %+v", h)
	}
	for key, sign := range map[string]int{"pinf": 1, "ninf": -1} {
		h, _, err = s.GetMetricHistory(ctx(), id, key, 0, "")
		ok(t, err)
		if len(h) != 1 || !math.IsInf(h[0].Value, sign) || h[0].Timestamp != 1 {
			t.Fatalf("%s history = %+v", key, h)
		}
	}
	h, _, err = s.GetMetricHistory(ctx(), id, "never", 0, "")
	ok(t, err)
	if len(h) != 0 {
		t.Fatalf("unlogged key history = %+v", h)
	}
	_, _, err = s.GetMetricHistory(ctx(), "0123456789abcdef0123456789abcdef", "loss", 0, "")
	wantKind(t, err, store.ErrNotFound)
	wantKind(t, s.LogMetric(ctx(), id, store.Metric{Key: "bad//key", Value: 1, Timestamp: 1}), store.ErrInvalidArgument)
}

func testMetricHistoryPaging(t *testing.T, s store.Store) {
	r := newRun(t, s, "0")
	var ms []store.Metric
	for i := 0; i < 25; i++ {
		ms = append(ms, store.Metric{Key: "m", Value: float64(i), Timestamp: int64(1000 + i), Step: int64(i)})
	}
	ok(t, s.LogBatch(ctx(), r.Info.RunID, ms, nil, nil))
	var all []store.Metric
	tok := ""
	pages := 0
	for {
		page, next, err := s.GetMetricHistory(ctx(), r.Info.RunID, "m", 10, tok)
		ok(t, err)
		all = append(all, page...)
		pages++
		if next == "" {
			break
		}
		tok = next
	}
	if pages != 3 || !slices.Equal(all, ms) {
		t.Fatalf("paged history: %d pages, %d points", pages, len(all))
	}
}

func testTags(t *testing.T, s store.Store) {
	r := newRun(t, s, "0")
	ok(t, s.SetTag(ctx(), r.Info.RunID, store.Tag{Key: "k", Value: "v1"}))
	ok(t, s.SetTag(ctx(), r.Info.RunID, store.Tag{Key: "k", Value: "v2"}))
	got := must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID))
	if v, _ := got.Tag("k"); v != "v2" {
		t.Fatalf("tag k = %q", v)
	}
	ok(t, s.DeleteTag(ctx(), r.Info.RunID, "k"))
	got = must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID))
	if _, has := got.Tag("k"); has {
		t.Fatal("tag k still set after delete")
	}
	wantKind(t, s.DeleteTag(ctx(), r.Info.RunID, "k"), store.ErrNotFound)
}

// testRunDataInKeyOrder: a run's metrics, params and tags come in
// bytewise key order (whatever the database's collation), from GetRun and
// from SearchRuns.
func testRunDataInKeyOrder(t *testing.T, s store.Store) {
	exp := newExp(t, s, "key-order")
	r := newRun(t, s, exp)
	keys := []string{"b", "B", "a", "_z", "A1", "é", "a.b", "a_b"}
	want := []string{"A1", "B", "_z", "a", "a.b", "a_b", "b", "é"}
	var ms []store.Metric
	var ps []store.Param
	var ts []store.Tag
	for i, k := range keys {
		ms = append(ms, store.Metric{Key: k, Value: float64(i), Timestamp: 1})
		ps = append(ps, store.Param{Key: k, Value: "v"})
		ts = append(ts, store.Tag{Key: k, Value: "v"})
	}
	ok(t, s.LogBatch(ctx(), r.Info.RunID, ms, ps, ts))
	runs, _, err := s.SearchRuns(ctx(), store.SearchRuns{ExperimentIDs: []string{exp}})
	ok(t, err)
	if len(runs) != 1 {
		t.Fatalf("%d runs", len(runs))
	}
	for _, got := range []*store.Run{must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID)), runs[0]} {
		var mk, pk, tk []string
		for _, m := range got.Metrics {
			mk = append(mk, m.Key)
		}
		for _, p := range got.Params {
			pk = append(pk, p.Key)
		}
		for _, tag := range got.Tags {
			if slices.Contains(keys, tag.Key) {
				tk = append(tk, tag.Key)
			}
		}
		if !slices.Equal(mk, want) || !slices.Equal(pk, want) || !slices.Equal(tk, want) {
			t.Fatalf("keys: metrics %q, params %q, tags %q; want %q", mk, pk, tk, want)
		}
		if !slices.IsSortedFunc(got.Tags, func(a, b store.Tag) int { return strings.Compare(a.Key, b.Key) }) {
			t.Fatalf("tags out of order: %+v", got.Tags)
		}
	}
}

func testLogBatchAtomic(t *testing.T, s store.Store) {
	r := newRun(t, s, "0")
	id := r.Info.RunID
	ok(t, s.LogParam(ctx(), id, store.Param{Key: "p", Value: "1"}))
	// The changed param fails the whole batch: no metric, no tag lands.
	err := s.LogBatch(ctx(), id,
		[]store.Metric{{Key: "m", Value: 1, Timestamp: 1}},
		[]store.Param{{Key: "q", Value: "x"}, {Key: "p", Value: "2"}},
		[]store.Tag{{Key: "t", Value: "v"}})
	wantKind(t, err, store.ErrInvalidArgument)
	got := must[*store.Run](t)(s.GetRun(ctx(), id))
	if len(got.Metrics) != 0 || len(got.Params) != 1 {
		t.Fatalf("a failed batch wrote: metrics %v params %v", got.Metrics, got.Params)
	}
	if _, has := got.Tag("t"); has {
		t.Fatal("a failed batch wrote a tag")
	}
	// Duplicate param keys in one request are refused.
	err = s.LogBatch(ctx(), id, nil, []store.Param{{Key: "d", Value: "1"}, {Key: "d", Value: "1"}}, nil)
	wantKind(t, err, store.ErrInvalidArgument)
	// Tags: a later duplicate in one batch wins.
	ok(t, s.LogBatch(ctx(), id, nil, nil, []store.Tag{{Key: "t", Value: "a"}, {Key: "t", Value: "b"}}))
	got = must[*store.Run](t)(s.GetRun(ctx(), id))
	if v, _ := got.Tag("t"); v != "b" {
		t.Fatalf("duplicate tag in batch: %q, want b", v)
	}
}

func testLogBatchLimits(t *testing.T, s store.Store) {
	r := newRun(t, s, "0")
	ms := make([]store.Metric, 1001)
	for i := range ms {
		ms[i] = store.Metric{Key: "m", Value: float64(i), Timestamp: int64(i)}
	}
	wantKind(t, s.LogBatch(ctx(), r.Info.RunID, ms, nil, nil), store.ErrInvalidArgument)
	ok(t, s.LogBatch(ctx(), r.Info.RunID, ms[:1000], nil, nil))
	ps := make([]store.Param, 101)
	for i := range ps {
		ps[i] = store.Param{Key: fmt.Sprint("p", i), Value: "v"}
	}
	wantKind(t, s.LogBatch(ctx(), r.Info.RunID, nil, ps, nil), store.ErrInvalidArgument)
	ts := make([]store.Tag, 101)
	for i := range ts {
		ts[i] = store.Tag{Key: fmt.Sprint("t", i), Value: "v"}
	}
	wantKind(t, s.LogBatch(ctx(), r.Info.RunID, nil, nil, ts), store.ErrInvalidArgument)
	wantKind(t, s.LogBatch(ctx(), r.Info.RunID, ms[:950], ps[:60], nil), store.ErrInvalidArgument)
}

func testValidation(t *testing.T, s store.Store) {
	r := newRun(t, s, "0")
	for _, key := range []string{"", "a//b", "./a", "a/", "/abs", "../up", "semi;colon", string(make([]byte, 251))} {
		wantKind(t, s.LogParam(ctx(), r.Info.RunID, store.Param{Key: key, Value: "v"}), store.ErrInvalidArgument)
	}
	for _, key := range []string{"ok", "with space", "a/b", "x-y.z", "c:d"} {
		ok(t, s.LogParam(ctx(), r.Info.RunID, store.Param{Key: key, Value: "v"}))
	}
	wantKind(t, s.LogMetric(ctx(), r.Info.RunID, store.Metric{Key: "m", Value: 1, Timestamp: -1}), store.ErrInvalidArgument)
	// MLflow's path_not_unique: '.' is not a name (MLflow answers 400).
	wantKind(t, s.LogMetric(ctx(), r.Info.RunID, store.Metric{Key: ".", Value: 1, Timestamp: 1}), store.ErrInvalidArgument)
	wantKind(t, s.LogParam(ctx(), r.Info.RunID, store.Param{Key: ".", Value: "v"}), store.ErrInvalidArgument)
}

func testLogInputs(t *testing.T, s store.Store) {
	exp := newExp(t, s, "inputs")
	r := newRun(t, s, exp)
	in := store.DatasetInput{
		Tags:    []store.Tag{{Key: "mlflow.data.context", Value: "training"}},
		Dataset: store.Dataset{Name: "iris", Digest: "abc123", SourceType: "local", Source: `{"uri": "/data/iris.csv"}`, Schema: `{"x": 1}`},
	}
	ok(t, s.LogInputs(ctx(), r.Info.RunID, []store.DatasetInput{in}))
	ok(t, s.LogInputs(ctx(), r.Info.RunID, []store.DatasetInput{in})) // linked once
	got := must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID))
	if len(got.Inputs) != 1 || got.Inputs[0].Dataset != in.Dataset || !slices.Equal(got.Inputs[0].Tags, in.Tags) {
		t.Fatalf("inputs = %+v", got.Inputs)
	}
	r2 := newRun(t, s, exp)
	runs, _, err := s.SearchRuns(ctx(), store.SearchRuns{ExperimentIDs: []string{exp}, Filter: "datasets.name = 'iris' AND datasets.context = 'training'"})
	ok(t, err)
	if len(runs) != 1 || runs[0].Info.RunID != r.Info.RunID {
		t.Fatalf("dataset filter found %d runs (r2=%s)", len(runs), r2.Info.RunID)
	}
	bad := in
	bad.Dataset.Digest = ""
	wantKind(t, s.LogInputs(ctx(), r.Info.RunID, []store.DatasetInput{bad}), store.ErrInvalidArgument)
}

// seedRuns makes runs with known params, metrics and tags for search tests.
func seedRuns(t *testing.T, s store.Store) (exp string, ids map[string]string) {
	exp = newExp(t, s, "search")
	ids = map[string]string{}
	type spec struct {
		name  string
		start int64
		alpha string
		rmse  *float64
		team  string
	}
	f := func(v float64) *float64 { return &v }
	for _, sp := range []spec{
		{"r1", 1000, "0.1", f(0.9), "a"},
		{"r2", 2000, "0.5", f(0.5), "b"},
		{"r3", 3000, "1.0", f(0.7), "a"},
		{"r4", 4000, "", nil, ""},
		{"R5-upper", 5000, "0.50", f(math.NaN()), "B"},
	} {
		r := must[*store.Run](t)(s.CreateRun(ctx(), store.CreateRun{ExperimentID: exp, RunName: sp.name, StartTime: sp.start, UserID: "u"}))
		var ms []store.Metric
		var ps []store.Param
		var ts []store.Tag
		if sp.rmse != nil {
			ms = append(ms, store.Metric{Key: "rmse", Value: *sp.rmse, Timestamp: sp.start})
		}
		if sp.alpha != "" {
			ps = append(ps, store.Param{Key: "alpha", Value: sp.alpha}, store.Param{Key: "learning rate", Value: sp.alpha})
		}
		if sp.team != "" {
			ts = append(ts, store.Tag{Key: "team", Value: sp.team}, store.Tag{Key: "mlflow.source.git.commit", Value: "c-" + sp.name})
		}
		ok(t, s.LogBatch(ctx(), r.Info.RunID, ms, ps, ts))
		ids[sp.name] = r.Info.RunID
	}
	fin := store.StatusFinished
	_, err := s.UpdateRun(ctx(), ids["r2"], store.UpdateRun{Status: &fin})
	ok(t, err)
	return exp, ids
}

func runNames(t *testing.T, s store.Store, q store.SearchRuns) []string {
	t.Helper()
	runs, _, err := s.SearchRuns(ctx(), q)
	if err != nil {
		t.Fatalf("search %q %v: %v", q.Filter, q.OrderBy, err)
	}
	var out []string
	for _, r := range runs {
		out = append(out, r.Info.RunName)
	}
	return out
}

func sorted(ss []string) []string {
	out := slices.Clone(ss)
	sort.Strings(out)
	return out
}

func testSearchRunsFilter(t *testing.T, s store.Store) {
	exp, ids := seedRuns(t, s)
	cases := []struct {
		filter string
		want   []string
	}{
		{"", []string{"R5-upper", "r1", "r2", "r3", "r4"}},
		// R5-upper's rmse is NaN, compared as 0 as MLflow's SQL does.
		{"metrics.rmse < 0.8", []string{"R5-upper", "r2", "r3"}},
		{"metrics.rmse <= 0.7", []string{"R5-upper", "r2", "r3"}},
		{"metrics.rmse > 0.7", []string{"r1"}},
		{"metrics.rmse >= 0.7", []string{"r1", "r3"}},
		{"metrics.rmse = 0.5", []string{"r2"}},
		{"metrics.rmse != 0.5", []string{"R5-upper", "r1", "r3"}},
		{"metric.rmse < 1e1", []string{"R5-upper", "r1", "r2", "r3"}},
		{"params.alpha = '0.5'", []string{"r2"}},
		{"params.alpha != '0.5'", []string{"R5-upper", "r1", "r3"}},
		{"params.alpha LIKE '0.5%'", []string{"R5-upper", "r2"}},
		{"params.alpha ILIKE '1.%'", []string{"r3"}},
		{"params.\"learning rate\" = '1.0'", []string{"r3"}},
		{"params.`learning rate` LIKE '0.%'", []string{"R5-upper", "r1", "r2"}},
		{"param.alpha = \"0.1\"", []string{"r1"}},
		{"tags.team = 'a'", []string{"r1", "r3"}},
		{"tags.team = 'b'", []string{"r2"}},
		{"tags.team ILIKE 'b'", []string{"R5-upper", "r2"}},
		{"tags.team LIKE 'B'", []string{"R5-upper"}},
		{"tags.`mlflow.source.git.commit` = 'c-r3'", []string{"r3"}},
		{"tags.mlflow.source.git.commit = 'c-r1'", []string{"r1"}},
		{"attributes.status = 'FINISHED'", []string{"r2"}},
		{"status != 'FINISHED'", []string{"R5-upper", "r1", "r3", "r4"}},
		{"attributes.run_name = 'r4'", []string{"r4"}},
		{"run_name LIKE 'r%'", []string{"r1", "r2", "r3", "r4"}},
		{"run_name ILIKE 'r%'", []string{"R5-upper", "r1", "r2", "r3", "r4"}},
		{"`Run name` = 'r1'", []string{"r1"}},
		{"attributes.start_time > 3000", []string{"R5-upper", "r4"}},
		{"start_time >= 3000 and start_time < 5000", []string{"r3", "r4"}},
		{"created = 2000", []string{"r2"}},
		{"attributes.start_time <= 2000", []string{"r1", "r2"}},
		{"attributes.start_time != 2000", []string{"R5-upper", "r1", "r3", "r4"}},
		{"tags.team != 'a'", []string{"R5-upper", "r2"}},
		{"attributes.user_id != 'u'", nil},
		{"attributes.artifact_uri LIKE '%/artifacts'", []string{"R5-upper", "r1", "r2", "r3", "r4"}},
		{"attributes.user_id = 'u' AND params.alpha = '1.0'", []string{"r3"}},
		{"metrics.rmse < 1 and params.alpha = '0.5' and tags.team = 'b'", []string{"r2"}},
		{"attributes.run_id IN ('" + ids["r1"] + "', '" + ids["r3"] + "')", []string{"r1", "r3"}},
		{"run_id NOT IN ('" + ids["r1"] + "')", []string{"R5-upper", "r2", "r3", "r4"}},
		{"attributes.run_id = '" + ids["r4"] + "'", []string{"r4"}},
		{"metrics.missing > 0", nil},
		{"params.missing != 'x'", nil},
		{"attributes.end_time > 0", nil},
	}
	for _, tc := range cases {
		got := sorted(runNames(t, s, store.SearchRuns{ExperimentIDs: []string{exp}, Filter: tc.filter}))
		if !slices.Equal(got, tc.want) {
			t.Errorf("filter %q: got %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func testSearchRunsOrder(t *testing.T, s store.Store) {
	exp, _ := seedRuns(t, s)
	q := func(order ...string) []string {
		return runNames(t, s, store.SearchRuns{ExperimentIDs: []string{exp}, OrderBy: order})
	}
	cases := []struct {
		order []string
		want  []string
	}{
		{nil, []string{"R5-upper", "r4", "r3", "r2", "r1"}},
		{[]string{"start_time ASC"}, []string{"r1", "r2", "r3", "r4", "R5-upper"}},
		{[]string{"metrics.rmse"}, []string{"r2", "r3", "r1", "R5-upper", "r4"}},      // NaN and missing last
		{[]string{"metrics.rmse DESC"}, []string{"r1", "r3", "r2", "R5-upper", "r4"}}, // still last
		{[]string{"params.alpha desc"}, []string{"r3", "R5-upper", "r2", "r1", "r4"}},
		{[]string{"params.`learning rate` ASC"}, []string{"r1", "r2", "R5-upper", "r3", "r4"}},
		{[]string{"tags.team", "start_time"}, []string{"R5-upper", "r1", "r3", "r2", "r4"}},
		{[]string{"attributes.run_name DESC"}, []string{"r4", "r3", "r2", "r1", "R5-upper"}},
		{[]string{"status", "run_name"}, []string{"r2", "R5-upper", "r1", "r3", "r4"}},
		{[]string{"end_time"}, []string{"R5-upper", "r4", "r3", "r2", "r1"}},
	}
	for _, tc := range cases {
		if got := q(tc.order...); !slices.Equal(got, tc.want) {
			t.Errorf("order %v: got %v, want %v", tc.order, got, tc.want)
		}
	}
	// The same orders, one run a page, give the same sequence.
	for _, tc := range cases {
		var got []string
		tok := ""
		for i := 0; i < 20; i++ {
			runs, next, err := s.SearchRuns(ctx(), store.SearchRuns{ExperimentIDs: []string{exp}, OrderBy: tc.order, MaxResults: 1, PageToken: tok})
			ok(t, err)
			for _, r := range runs {
				got = append(got, r.Info.RunName)
			}
			if next == "" {
				break
			}
			tok = next
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("paged order %v: got %v, want %v", tc.order, got, tc.want)
		}
	}
}

func testSearchRunsPaging(t *testing.T, s store.Store) {
	exp := newExp(t, s, "paging")
	want := map[string]bool{}
	for i := 0; i < 40; i++ {
		r := must[*store.Run](t)(s.CreateRun(ctx(), store.CreateRun{ExperimentID: exp, StartTime: int64(1000 + i%7)}))
		// Some runs lack the metric (or the param) or have NaN: ordered by
		// it, they come last, in pages of their own and pages shared with
		// the others.
		switch v := float64(i % 5); i % 6 {
		case 0:
		case 1:
			ok(t, s.LogMetric(ctx(), r.Info.RunID, store.Metric{Key: "m", Value: math.NaN(), Timestamp: 1}))
		default:
			ok(t, s.LogMetric(ctx(), r.Info.RunID, store.Metric{Key: "m", Value: v, Timestamp: 1}))
		}
		if i%4 != 0 {
			ok(t, s.LogParam(ctx(), r.Info.RunID, store.Param{Key: "p", Value: fmt.Sprint(i % 3)}))
		}
		want[r.Info.RunID] = true
	}
	for _, order := range [][]string{nil, {"metrics.m DESC"}, {"metrics.m ASC", "start_time ASC"}, {"start_time ASC"}, {"params.p DESC"}, {"params.p", "start_time ASC"}} {
		seen := map[string]int{}
		tok := ""
		for page := 0; ; page++ {
			runs, next, err := s.SearchRuns(ctx(), store.SearchRuns{ExperimentIDs: []string{exp}, MaxResults: 7, PageToken: tok, OrderBy: order})
			ok(t, err)
			for _, r := range runs {
				seen[r.Info.RunID]++
			}
			// Runs added between pages, before and after the cursor.
			for _, st := range []int64{999, 2000} {
				nr := must[*store.Run](t)(s.CreateRun(ctx(), store.CreateRun{ExperimentID: exp, StartTime: st}))
				ok(t, s.LogMetric(ctx(), nr.Info.RunID, store.Metric{Key: "m", Value: float64(page), Timestamp: 1}))
				ok(t, s.LogParam(ctx(), nr.Info.RunID, store.Param{Key: "p", Value: fmt.Sprint(page % 3)}))
			}
			if next == "" {
				break
			}
			tok = next
		}
		for id := range want {
			if seen[id] != 1 {
				t.Fatalf("order %v: run %s returned %d times", order, id, seen[id])
			}
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("order %v: run %s returned %d times", order, id, n)
			}
		}
	}
}

func testSearchRunsErrors(t *testing.T, s store.Store) {
	for _, f := range []string{
		"metrics.rmse < 'x'",
		"params.alpha = 0.5",
		"bogus.alpha = '1'",
		"attributes.bogus = '1'",
		"params.alpha = '1' OR params.alpha = '2'",
		"params.alpha > '1'",
		"metrics.rmse LIKE '1'",
		"params.alpha IN ('1')",
		"run_id IN '1'",
		"params.alpha = '1'; DROP TABLE runs",
		"params.alpha = 'unterminated",
		"metrics.rmse <> 1",
		"lifecycle_stage = 'active'",
	} {
		_, _, err := s.SearchRuns(ctx(), store.SearchRuns{ExperimentIDs: []string{"0"}, Filter: f})
		if !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("filter %q: got %v, want invalid argument", f, err)
		}
	}
	for _, o := range [][]string{{"metrics.rmse SIDEWAYS"}, {"bogus.x"}, {"start_time", "start_time DESC"}, {"attributes.bogus"}} {
		_, _, err := s.SearchRuns(ctx(), store.SearchRuns{ExperimentIDs: []string{"0"}, OrderBy: o})
		if !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("order_by %q: got %v, want invalid argument", o, err)
		}
	}
	for _, q := range []store.SearchRuns{
		{ExperimentIDs: []string{"0"}, PageToken: "not base64!"},
		{ExperimentIDs: []string{"0"}, MaxResults: 50001},
		{ExperimentIDs: []string{"0"}, MaxResults: -1},
	} {
		_, _, err := s.SearchRuns(ctx(), q)
		wantKind(t, err, store.ErrInvalidArgument)
	}
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	r := newRun(t, s, "0")
	const writers, batches = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				ms := make([]store.Metric, 10)
				for i := range ms {
					ms[i] = store.Metric{Key: fmt.Sprint("w", w), Value: float64(b*10 + i), Timestamp: int64(b*10 + i), Step: int64(b*10 + i)}
				}
				if err := s.LogBatch(ctx(), r.Info.RunID, ms, nil, []store.Tag{{Key: fmt.Sprint("t", w), Value: fmt.Sprint(b)}}); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for w := 0; w < writers; w++ {
		h, _, err := s.GetMetricHistory(ctx(), r.Info.RunID, fmt.Sprint("w", w), 0, "")
		ok(t, err)
		if len(h) != batches*10 {
			t.Fatalf("writer %d: %d points, want %d", w, len(h), batches*10)
		}
	}
}

// testConcurrentLogModel: 40 concurrent log-model calls on one run keep
// all 40 entries of mlflow.log-model.history (a read-then-write outside
// one transaction kept 29); a malformed model is ErrInvalidArgument and
// changes nothing.
func testConcurrentLogModel(t *testing.T, s store.Store) {
	r := newRun(t, s, "0")
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.LogModel(ctx(), r.Info.RunID, fmt.Sprintf(`{"run_id":%q,"artifact_path":"m%d","flavors":{},"utc_time_created":"2026-01-01 00:00:00.000000"}`, r.Info.RunID, i))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		ok(t, err)
	}
	wantKind(t, s.LogModel(ctx(), r.Info.RunID, `[1, 2]`), store.ErrInvalidArgument)
	got := must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID))
	v, _ := got.Tag(store.TagModelHistory)
	var hist []map[string]any
	if err := json.Unmarshal([]byte(v), &hist); err != nil {
		t.Fatalf("history %q: %v", v, err)
	}
	seen := map[any]bool{}
	for _, m := range hist {
		seen[m["artifact_path"]] = true
	}
	if len(hist) != n || len(seen) != n {
		t.Fatalf("history keeps %d entries (%d distinct), want %d", len(hist), len(seen), n)
	}
}

// testLoggedModelSearch: metrics logged with a model id come back with
// the model; logged-model search takes MLflow's filter (attributes,
// metrics, params, tags), datasets and order_by, and pages.
func testLoggedModelSearch(t *testing.T, s store.Store) {
	lm, isLM := s.(store.LoggedModels)
	if !isLM {
		t.Fatal("the store does not keep logged models")
	}
	exp := newExp(t, s, "lm-search")
	r := newRun(t, s, exp)
	mk := func(name, typ string, params []store.Param, tags []store.Tag) *store.LoggedModel {
		time.Sleep(3 * time.Millisecond) // distinct creation times: the default order is newest first
		m, err := lm.CreateLoggedModel(ctx(), store.LoggedModel{ExperimentID: exp, Name: name, ModelType: typ, SourceRunID: r.Info.RunID, Params: params, Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// MLflow's rule for names: they are a segment of runs:/<run_id>/<name>.
	for _, bad := range []string{"a/b", "m:1", "v1.2"} {
		_, err := lm.CreateLoggedModel(ctx(), store.LoggedModel{ExperimentID: exp, Name: bad})
		wantKind(t, err, store.ErrInvalidArgument)
		if want := "Invalid model name ('" + bad + "') provided. Model name must be a non-empty string and cannot contain the following characters: ('/', ':', '.')"; !strings.Contains(err.Error(), want) {
			t.Fatalf("name %q: %v, want %q", bad, err, want)
		}
	}
	a := mk("alpha", "sklearn", []store.Param{{Key: "p", Value: "1"}}, []store.Tag{{Key: "t", Value: "x"}})
	b := mk("beta", "xgboost", []store.Param{{Key: "p", Value: "2"}}, nil)
	mk("gamma", "onnx", nil, []store.Tag{{Key: "t", Value: "y"}})
	must[*store.LoggedModel](t)(lm.FinalizeLoggedModel(ctx(), a.ModelID, "LOGGED_MODEL_READY"))
	ok(t, s.LogBatch(ctx(), r.Info.RunID, []store.Metric{
		{Key: "acc", Value: 0.7, Timestamp: 1, ModelID: a.ModelID, DatasetName: "iris", DatasetDigest: "d1"},
		{Key: "acc", Value: 0.9, Timestamp: 2, ModelID: a.ModelID, DatasetName: "iris", DatasetDigest: "d1"},
		{Key: "loss", Value: 1, Timestamp: 1},
	}, nil, nil))
	ok(t, s.LogMetric(ctx(), r.Info.RunID, store.Metric{Key: "acc", Value: 0.8, Timestamp: 3, ModelID: b.ModelID}))
	got := must[*store.LoggedModel](t)(lm.GetLoggedModel(ctx(), a.ModelID))
	if len(got.Metrics) != 2 || got.Metrics[1].Value != 0.9 || got.Metrics[1].RunID != r.Info.RunID || got.Metrics[1].DatasetName != "iris" || got.Metrics[1].ModelID != a.ModelID {
		t.Fatalf("metrics of the model: %+v", got.Metrics)
	}
	// The run keeps its own history as well.
	h, _, err := s.GetMetricHistory(ctx(), r.Info.RunID, "acc", 0, "")
	if err != nil || len(h) != 3 {
		t.Fatalf("the run's acc history: %v %v", h, err)
	}
	names := func(q store.SearchLoggedModels) []string {
		t.Helper()
		q.ExperimentIDs = []string{exp}
		ms, _, err := lm.SearchLoggedModels(ctx(), q)
		if err != nil {
			t.Fatalf("search %+v: %v", q, err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	for filter, want := range map[string]string{
		"":                                        "gamma,beta,alpha",
		"name = 'alpha'":                          "alpha",
		"attributes.name LIKE '%a'":               "gamma,beta,alpha",
		"name ILIKE 'BET%'":                       "beta",
		"metrics.acc > 0.85":                      "alpha",
		"metrics.acc >= 0.8":                      "beta,alpha",
		"params.p = '2'":                          "beta",
		"tags.t = 'y'":                            "gamma",
		"status = 'READY'":                        "alpha",
		"status = 'LOGGED_MODEL_PENDING'":         "gamma,beta",
		"model_type IN ('sklearn', 'xgboost')":    "beta,alpha",
		"creation_timestamp > 0 AND tags.t = 'x'": "alpha",
		"source_run_id = '" + r.Info.RunID + "'":  "gamma,beta,alpha",
	} {
		if got := strings.Join(names(store.SearchLoggedModels{Filter: filter}), ","); got != want {
			t.Errorf("filter %q: %s, want %s", filter, got, want)
		}
	}
	for _, bad := range []string{"foo = 'x'", "metrics.acc = 'x'", "status = 'GONE'"} {
		_, _, err := lm.SearchLoggedModels(ctx(), store.SearchLoggedModels{ExperimentIDs: []string{exp}, Filter: bad})
		wantKind(t, err, store.ErrInvalidArgument)
	}
	if got := strings.Join(names(store.SearchLoggedModels{Filter: "metrics.acc > 0", Datasets: []store.DatasetRef{{Name: "iris"}}}), ","); got != "alpha" {
		t.Errorf("metrics on dataset iris: %s", got)
	}
	if got := strings.Join(names(store.SearchLoggedModels{OrderBy: []store.LoggedModelOrder{{Field: "metrics.acc", Ascending: true}}}), ","); got != "beta,alpha,gamma" {
		t.Errorf("order by metrics.acc: %s", got)
	}
	if got := strings.Join(names(store.SearchLoggedModels{OrderBy: []store.LoggedModelOrder{{Field: "name", Ascending: false}}}), ","); got != "gamma,beta,alpha" {
		t.Errorf("order by name desc: %s", got)
	}
	_, _, err = lm.SearchLoggedModels(ctx(), store.SearchLoggedModels{ExperimentIDs: []string{exp}, OrderBy: []store.LoggedModelOrder{{Field: "bogus"}}})
	wantKind(t, err, store.ErrInvalidArgument)
	ms, tok, err := lm.SearchLoggedModels(ctx(), store.SearchLoggedModels{ExperimentIDs: []string{exp}, MaxResults: 2, OrderBy: []store.LoggedModelOrder{{Field: "name", Ascending: true}}})
	if err != nil || len(ms) != 2 || tok == "" || ms[0].Name != "alpha" {
		t.Fatalf("first page: %v %q %v", ms, tok, err)
	}
	ms, tok, err = lm.SearchLoggedModels(ctx(), store.SearchLoggedModels{ExperimentIDs: []string{exp}, MaxResults: 2, PageToken: tok, OrderBy: []store.LoggedModelOrder{{Field: "name", Ascending: true}}})
	if err != nil || len(ms) != 1 || tok != "" || ms[0].Name != "gamma" {
		t.Fatalf("second page: %v %q %v", ms, tok, err)
	}
	// A run's model inputs (once each) and outputs.
	ok(t, lm.LogModelInputs(ctx(), r.Info.RunID, []string{a.ModelID, a.ModelID, b.ModelID}))
	ok(t, lm.LogOutputs(ctx(), r.Info.RunID, []store.ModelOutput{{ModelID: b.ModelID, Step: 3}}))
	wantKind(t, lm.LogModelInputs(ctx(), r.Info.RunID, []string{"m-nope"}), store.ErrNotFound)
	run := must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID))
	if len(run.ModelInputs) != 2 || len(run.Outputs) != 1 || run.Outputs[0] != (store.ModelOutput{ModelID: b.ModelID, Step: 3}) {
		t.Fatalf("run inputs %v outputs %v", run.ModelInputs, run.Outputs)
	}
}

// testTraces: MLflow 2.x's trace records: start, end, tags and metadata
// upserted, search with its grammar, order and offset pages, deletes.
func testTraces(t *testing.T, s store.Store) {
	ts, isTraces := s.(store.Traces)
	if !isTraces {
		t.Fatal("the store does not keep traces")
	}
	exp := newExp(t, s, "traces")
	start := func(ms int64, name, run string) *store.TraceInfo {
		md := []store.Tag{{Key: "mlflow.trace_schema.version", Value: "2"}}
		if run != "" {
			md = append(md, store.Tag{Key: "mlflow.sourceRun", Value: run})
		}
		tr, err := ts.StartTrace(ctx(), exp, ms, md, []store.Tag{{Key: "mlflow.traceName", Value: name}})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	a := start(1000, "chain", "r1")
	if a.Status != "IN_PROGRESS" || len(a.RequestID) != 32 || a.Tags[len(a.Tags)-1].Key != store.TagTraceArtifactLocation ||
		!strings.HasSuffix(a.Tags[len(a.Tags)-1].Value, "/traces/"+a.RequestID+"/artifacts") {
		t.Fatalf("started %+v", a)
	}
	b := start(2000, "tool", "r2")
	c := start(3000, "chain", "")
	ended := must[*store.TraceInfo](t)(ts.EndTrace(ctx(), a.RequestID, 1250, "OK", []store.Tag{{Key: "mlflow.traceInputs", Value: `{"x": 1}`}}, []store.Tag{{Key: "team", Value: "ml"}}))
	if ended.Status != "OK" || ended.ExecutionTimeMs != 250 || len(ended.RequestMetadata) != 3 {
		t.Fatalf("ended %+v", ended)
	}
	must[*store.TraceInfo](t)(ts.EndTrace(ctx(), b.RequestID, 2100, "2", nil, nil)) // a status by number
	ok(t, ts.SetTraceTag(ctx(), c.RequestID, "mlflow.traceSpans", "[]"))
	ok(t, ts.SetTraceTag(ctx(), c.RequestID, "team", "ops"))
	ok(t, ts.DeleteTraceTag(ctx(), c.RequestID, "mlflow.traceSpans"))
	wantKind(t, ts.DeleteTraceTag(ctx(), c.RequestID, "mlflow.traceSpans"), store.ErrNotFound)
	wantKind(t, ts.SetTraceTag(ctx(), "0123456789abcdef0123456789abcdef", "k", "v"), store.ErrNotFound)
	_, err := ts.GetTraceInfo(ctx(), "0123456789abcdef0123456789abcdef")
	wantKind(t, err, store.ErrNotFound)
	if got := must[*store.TraceInfo](t)(ts.GetTraceInfo(ctx(), b.RequestID)); got.Status != "ERROR" {
		t.Fatalf("status 2 = %s", got.Status)
	}
	ids := func(q store.SearchTraces) []string {
		t.Helper()
		q.ExperimentIDs = []string{exp}
		out, _, err := ts.SearchTraces(ctx(), q)
		if err != nil {
			t.Fatalf("search %+v: %v", q, err)
		}
		var names []string
		for _, tr := range out {
			switch tr.RequestID {
			case a.RequestID:
				names = append(names, "a")
			case b.RequestID:
				names = append(names, "b")
			case c.RequestID:
				names = append(names, "c")
			}
		}
		return names
	}
	for filter, want := range map[string]string{
		"":                                   "c,b,a",
		"name = 'chain'":                     "c,a",
		"status = 'OK'":                      "a",
		"status IN ('OK', 'ERROR')":          "b,a",
		"timestamp_ms > 1500":                "c,b",
		"execution_time_ms = 250":            "a",
		"tags.team = 'ml'":                   "a",
		"tags.team != 'ml'":                  "c",
		"run_id = 'r2'":                      "b",
		"run_id != 'r2'":                     "a",
		"metadata.mlflow.sourceRun != 'r1'":  "b",
		"request_id = '" + b.RequestID + "'": "b",
	} {
		if got := strings.Join(ids(store.SearchTraces{Filter: filter}), ","); got != want {
			t.Errorf("filter %q: %s, want %s", filter, got, want)
		}
	}
	for _, bad := range []string{"tags.team > 'm'", "name IN ('chain')", "nope = 'x'", "timestamp_ms = 'x'", "status = 'OK' OR status = 'ERROR'"} {
		_, _, err := ts.SearchTraces(ctx(), store.SearchTraces{ExperimentIDs: []string{exp}, Filter: bad})
		wantKind(t, err, store.ErrInvalidArgument)
	}
	if got := strings.Join(ids(store.SearchTraces{OrderBy: []string{"timestamp_ms ASC"}}), ","); got != "a,b,c" {
		t.Errorf("order by timestamp_ms ASC: %s", got)
	}
	if got := strings.Join(ids(store.SearchTraces{OrderBy: []string{"tag.team DESC"}}), ","); got != "c,a,b" {
		t.Errorf("order by tag.team DESC (untagged last): %s", got)
	}
	page, tok, err := ts.SearchTraces(ctx(), store.SearchTraces{ExperimentIDs: []string{exp}, MaxResults: 2})
	if err != nil || len(page) != 2 || tok == "" {
		t.Fatalf("page 1: %d %q %v", len(page), tok, err)
	}
	page, tok, err = ts.SearchTraces(ctx(), store.SearchTraces{ExperimentIDs: []string{exp}, MaxResults: 2, PageToken: tok})
	if err != nil || len(page) != 1 || tok != "" {
		t.Fatalf("page 2: %d %q %v", len(page), tok, err)
	}
	_, _, err = ts.SearchTraces(ctx(), store.SearchTraces{ExperimentIDs: []string{exp}, MaxResults: 501})
	wantKind(t, err, store.ErrInvalidArgument)
	// Deletes.
	for _, bad := range []store.DeleteTraces{{ExperimentID: exp}, {ExperimentID: exp, MaxTimestampMs: ptr(int64(1)), RequestIDs: []string{a.RequestID}},
		{ExperimentID: exp, MaxTraces: ptr(int64(1)), RequestIDs: []string{a.RequestID}}, {ExperimentID: exp, MaxTimestampMs: ptr(int64(1)), MaxTraces: ptr(int64(0))}} {
		_, err := ts.DeleteTraces(ctx(), bad)
		wantKind(t, err, store.ErrInvalidArgument)
	}
	if n := must[int](t)(ts.DeleteTraces(ctx(), store.DeleteTraces{ExperimentID: exp, MaxTimestampMs: ptr(int64(2500)), MaxTraces: ptr(int64(1))})); n != 1 {
		t.Fatalf("deleted %d by time, want the oldest one", n)
	}
	if n := must[int](t)(ts.DeleteTraces(ctx(), store.DeleteTraces{ExperimentID: exp, RequestIDs: []string{b.RequestID, a.RequestID, "unknown"}})); n != 1 {
		t.Fatalf("deleted %d by id, want 1 (a was gone)", n)
	}
	if got := strings.Join(ids(store.SearchTraces{}), ","); got != "c" {
		t.Fatalf("after deletes: %s", got)
	}
	// MLflow 3: the whole trace under the client's id, upserted.
	v3 := store.TraceInfo{RequestID: "tr-0123456789abcdef0123456789abcdef", ExperimentID: exp, TimestampMs: 5000, ExecutionTimeMs: 1250, Status: "IN_PROGRESS",
		ClientRequestID: "req-1", RequestPreview: `{"q": 1}`, RequestMetadata: []store.Tag{{Key: "mlflow.trace_schema.version", Value: "3"}},
		Tags: []store.Tag{{Key: "mlflow.traceName", Value: "agent"}, {Key: store.TagTraceArtifactLocation, Value: "/etc"}}}
	got := must[*store.TraceInfo](t)(ts.PutTrace(ctx(), v3))
	loc := ""
	for _, tg := range got.Tags {
		if tg.Key == store.TagTraceArtifactLocation {
			loc = tg.Value
		}
	}
	if got.RequestID != v3.RequestID || got.ExecutionTimeMs != 1250 || got.ClientRequestID != "req-1" || got.RequestPreview != `{"q": 1}` ||
		!strings.HasSuffix(loc, "/traces/"+v3.RequestID+"/artifacts") {
		t.Fatalf("put trace: %+v", got)
	}
	v3.Status, v3.ResponsePreview = "OK", "done"
	got = must[*store.TraceInfo](t)(ts.PutTrace(ctx(), v3))
	// Its two tags (a tracking server may add spansLocation: MLflow 3.4+'s
	// and mlrun's tag a trace started with MLflow 3's API).
	if got.Status != "OK" || got.ResponsePreview != "done" || len(slices.DeleteFunc(slices.Clone(got.Tags), func(tg store.Tag) bool { return tg.Key == store.TagTraceSpansLocation })) != 2 {
		t.Fatalf("put trace again: %+v", got)
	}
	if got := strings.Join(ids(store.SearchTraces{Filter: "name = 'agent'"}), ","); got != "" { // not a, b or c
		t.Fatalf("search by name: %s", got)
	}
	out, _, err := ts.SearchTraces(ctx(), store.SearchTraces{ExperimentIDs: []string{exp}, Filter: "name = 'agent'"})
	if err != nil || len(out) != 1 || out[0].RequestID != v3.RequestID {
		t.Fatalf("search for the v3 trace: %v %v", out, err)
	}
	_, err = ts.PutTrace(ctx(), store.TraceInfo{RequestID: "tr-x", ExperimentID: "424242"})
	wantKind(t, err, store.ErrNotFound)
	// Traces linked to a run are found by run_id.
	run := newRun(t, s, exp)
	ok(t, ts.LinkTracesToRun(ctx(), []string{c.RequestID, v3.RequestID}, run.Info.RunID))
	ok(t, ts.LinkTracesToRun(ctx(), []string{c.RequestID}, run.Info.RunID)) // once
	linked, _, err := ts.SearchTraces(ctx(), store.SearchTraces{ExperimentIDs: []string{exp}, Filter: "run_id = '" + run.Info.RunID + "'"})
	if err != nil || len(linked) != 2 {
		t.Fatalf("traces linked to the run: %v %v", linked, err)
	}
	wantKind(t, ts.LinkTracesToRun(ctx(), []string{c.RequestID}, "0123456789abcdef0123456789abcdef"), store.ErrNotFound)
	wantKind(t, ts.LinkTracesToRun(ctx(), []string{"tr-none"}, run.Info.RunID), store.ErrNotFound)
	wantKind(t, ts.LinkTracesToRun(ctx(), make([]string, 101), run.Info.RunID), store.ErrInvalidArgument)
}

func ptr[T any](v T) *T { return &v }

// testScorers: MLflow 3's registered scorers, versioned per (experiment,
// name): register, list the latest of each, list and get versions,
// delete one version or all, and the errors of each.
func testScorers(t *testing.T, s store.Store) {
	sc, isScorers := s.(store.Scorers)
	if !isScorers {
		t.Fatal("the store does not keep scorers")
	}
	exp := newExp(t, s, "scorers")
	reg := func(name, serialized string) *store.Scorer {
		t.Helper()
		v, err := sc.RegisterScorer(ctx(), exp, name, serialized)
		ok(t, err)
		return v
	}
	rel1 := reg("relevance", `{"name": "relevance", "v": 1}`)
	rel2 := reg("relevance", `{"name": "relevance", "v": 2, "note": "naïve ✓"}`)
	safe := reg("safety", `{"name": "safety"}`)
	if rel1.Version != 1 || rel2.Version != 2 || safe.Version != 1 || rel1.ID == "" || rel1.ID != rel2.ID || rel1.ID == safe.ID ||
		rel2.ExperimentID != exp || rel2.Name != "relevance" || rel2.CreationTime < rel1.CreationTime || rel1.CreationTime <= 0 {
		t.Fatalf("registered %+v, %+v, %+v", rel1, rel2, safe)
	}
	versions := func(list []*store.Scorer, err error) string {
		t.Helper()
		ok(t, err)
		var out []string
		for _, v := range list {
			out = append(out, fmt.Sprintf("%s@%d:%s", v.Name, v.Version, v.SerializedScorer))
		}
		return strings.Join(out, " ")
	}
	if got, want := versions(sc.ListScorers(ctx(), exp)), `relevance@2:{"name": "relevance", "v": 2, "note": "naïve ✓"} safety@1:{"name": "safety"}`; got != want {
		t.Errorf("ListScorers = %s, want %s", got, want)
	}
	if got, want := versions(sc.ListScorerVersions(ctx(), exp, "relevance")), `relevance@1:{"name": "relevance", "v": 1} relevance@2:{"name": "relevance", "v": 2, "note": "naïve ✓"}`; got != want {
		t.Errorf("ListScorerVersions = %s, want %s", got, want)
	}
	latest := must[*store.Scorer](t)(sc.GetScorer(ctx(), exp, "relevance", 0))
	first := must[*store.Scorer](t)(sc.GetScorer(ctx(), exp, "relevance", 1))
	if latest.Version != 2 || latest.ID != rel1.ID || latest.CreationTime != rel2.CreationTime || first.SerializedScorer != rel1.SerializedScorer {
		t.Errorf("GetScorer: latest %+v, version 1 %+v", latest, first)
	}
	_, err := sc.GetScorer(ctx(), exp, "relevance", 9)
	wantKind(t, err, store.ErrNotFound)
	_, err = sc.GetScorer(ctx(), exp, "nope", 0)
	wantKind(t, err, store.ErrNotFound)
	_, err = sc.ListScorers(ctx(), "987654")
	wantKind(t, err, store.ErrNotFound)
	_, err = sc.RegisterScorer(ctx(), "987654", "x", "{}")
	wantKind(t, err, store.ErrNotFound)
	_, err = sc.ListScorerVersions(ctx(), exp, "nope")
	wantKind(t, err, store.ErrNotFound)

	// Deleting a version keeps the others; the next version still counts
	// on from the highest left.
	ok(t, sc.DeleteScorer(ctx(), exp, "relevance", 1))
	wantKind(t, sc.DeleteScorer(ctx(), exp, "relevance", 1), store.ErrNotFound)
	if got := reg("relevance", `{"v": 3}`); got.Version != 3 || got.ID != rel1.ID {
		t.Errorf("registered after deleting version 1: %+v", got)
	}
	if got, want := versions(sc.ListScorerVersions(ctx(), exp, "relevance")), `relevance@2:{"name": "relevance", "v": 2, "note": "naïve ✓"} relevance@3:{"v": 3}`; got != want {
		t.Errorf("after deleting version 1, versions = %s, want %s", got, want)
	}
	// Deleting the scorer deletes every version; registering the name
	// again starts over at 1 under a new id.
	ok(t, sc.DeleteScorer(ctx(), exp, "relevance", 0))
	wantKind(t, sc.DeleteScorer(ctx(), exp, "relevance", 0), store.ErrNotFound)
	if got, want := versions(sc.ListScorers(ctx(), exp)), `safety@1:{"name": "safety"}`; got != want {
		t.Errorf("after deleting relevance, ListScorers = %s, want %s", got, want)
	}
	if again := reg("relevance", "{}"); again.Version != 1 || again.ID == rel1.ID {
		t.Errorf("registered again after delete: %+v", again)
	}
	// Another experiment's scorer of the same name is another scorer.
	other := newExp(t, s, "scorers-other")
	if o := must[*store.Scorer](t)(sc.RegisterScorer(ctx(), other, "safety", "{}")); o.Version != 1 || o.ID == safe.ID {
		t.Errorf("same name in another experiment: %+v", o)
	}
	_, err = sc.RegisterScorer(ctx(), exp, "", "{}")
	wantKind(t, err, store.ErrInvalidArgument)
	// A deleted experiment's scorers can be neither registered nor read.
	ok(t, s.DeleteExperiment(ctx(), exp))
	_, err = sc.RegisterScorer(ctx(), exp, "safety", "{}")
	wantKind(t, err, store.ErrInvalidArgument)
	_, err = sc.ListScorers(ctx(), exp)
	wantKind(t, err, store.ErrInvalidArgument)
}

// testEvaluationDatasets: MLflow 3's GenAI evaluation datasets: create
// linked to experiments, upsert records (deduplicated by their inputs,
// merged), page through them, search, tags, links, record deletion and
// deletion, each mistake with its kind of error and nothing half-done.
func testEvaluationDatasets(t *testing.T, s store.Store) {
	ds, isDS := s.(store.EvaluationDatasets)
	if !isDS {
		t.Fatal("the store does not keep evaluation datasets")
	}
	exp1, exp2 := newExp(t, s, "eval-1"), newExp(t, s, "eval-2")
	qa := must[*store.EvaluationDataset](t)(ds.CreateEvaluationDataset(ctx(), "qa", []store.Tag{{Key: "team", Value: "ds"}, {Key: "mlflow.user", Value: "alice"}}, []string{exp1}))
	if !strings.HasPrefix(qa.ID, "d-") || qa.Name != "qa" || len(qa.Digest) != 8 || qa.CreatedBy != "alice" || qa.CreatedTime == 0 ||
		fmt.Sprint(qa.Tags) != "[{mlflow.user alice} {team ds}]" || fmt.Sprint(qa.ExperimentIDs) != "["+exp1+"]" || qa.Schema != "" || qa.Profile != "" {
		t.Fatalf("created %+v", qa)
	}
	_, err := ds.CreateEvaluationDataset(ctx(), "x", nil, []string{"987654"})
	wantKind(t, err, store.ErrNotFound)
	_, err = ds.CreateEvaluationDataset(ctx(), "", nil, nil)
	wantKind(t, err, store.ErrInvalidArgument)

	raw := func(ss ...string) []json.RawMessage {
		out := make([]json.RawMessage, len(ss))
		for i, v := range ss {
			out[i] = json.RawMessage(v)
		}
		return out
	}
	ins, upd, err := ds.UpsertDatasetRecords(ctx(), qa.ID, raw(
		`{"inputs": {"q": "a", "n": 1}, "expectations": {"answer": "A"}, "tags": {"mlflow.user": "bob"}}`,
		`{"inputs": {"q": "b"}, "outputs": "text", "source": {"source_type": "TRACE", "source_data": {"trace_id": "tr-1"}}}`,
		`{"inputs": {"n": 1, "q": "a"}, "expectations": {"score": 0.5}, "outputs": {"reply": "A!"}}`))
	if err != nil || ins != 2 || upd != 1 {
		t.Fatalf("upsert: %d inserted, %d updated, %v; want 2, 1", ins, upd, err)
	}
	recs, next := must2[[]*store.DatasetRecord, string](t)(ds.DatasetRecords(ctx(), qa.ID, 0, ""))
	if len(recs) != 2 || next != "" {
		t.Fatalf("records: %d, token %q", len(recs), next)
	}
	byQ := map[string]*store.DatasetRecord{}
	for _, r := range recs {
		var in struct{ Q string }
		json.Unmarshal([]byte(r.Inputs), &in)
		byQ[in.Q] = r
	}
	a, b := byQ["a"], byQ["b"]
	if a == nil || b == nil || !strings.HasPrefix(a.ID, "dr-") || a.Expectations != `{"answer":"A","score":0.5}` || a.Outputs != `{"reply":"A!"}` ||
		a.Tags != `{"mlflow.user":"bob"}` || a.CreatedBy != "bob" || a.Inputs != `{"q":"a","n":1}` {
		t.Fatalf("record a: %+v", a)
	}
	if b.Outputs != `"text"` || b.SourceType != "TRACE" || b.SourceID != "tr-1" || b.Source != `{"source_type":"TRACE","source_data":{"trace_id":"tr-1"}}` || b.Tags != "{}" || b.Expectations != "" {
		t.Fatalf("record b: %+v", b)
	}
	got := must[*store.EvaluationDataset](t)(ds.GetEvaluationDataset(ctx(), qa.ID))
	if got.Profile != `{"num_records": 2}` || got.Digest == qa.Digest || got.LastUpdatedBy != "bob" || got.LastUpdateTime < qa.LastUpdateTime ||
		got.Schema != `{"inputs":{"q":"string","n":"integer"},"outputs":"string","expectations":{"answer":"string","score":"float"},"version":"1.0"}` {
		t.Fatalf("dataset after upsert: %+v", got)
	}
	// A bad record fails the whole upsert; nothing of it is kept.
	_, _, err = ds.UpsertDatasetRecords(ctx(), qa.ID, raw(`{"inputs": {"q": "c"}}`, `{"inputs": [1]}`))
	wantKind(t, err, store.ErrInvalidArgument)
	_, _, err = ds.UpsertDatasetRecords(ctx(), qa.ID, raw(`{"inputs": {"q": "c"}, "source": {"source_type": "ROBOT"}}`))
	wantKind(t, err, store.ErrInvalidArgument)
	_, _, err = ds.UpsertDatasetRecords(ctx(), "d-nope", raw(`{"inputs": {"q": "c"}}`))
	wantKind(t, err, store.ErrNotFound)
	first, next := must2[[]*store.DatasetRecord, string](t)(ds.DatasetRecords(ctx(), qa.ID, 1, ""))
	second, last := must2[[]*store.DatasetRecord, string](t)(ds.DatasetRecords(ctx(), qa.ID, 1, next))
	if len(first) != 1 || next == "" || len(second) != 1 || last != "" || first[0].ID == second[0].ID {
		t.Fatalf("record pages: %v %q, %v %q", first, next, second, last)
	}

	// Records added together are listed in the order they were given
	// (MLflow lists by creation time, then by its random ids).
	ordered := must[*store.EvaluationDataset](t)(ds.CreateEvaluationDataset(ctx(), "ordered", nil, nil))
	var batch []string
	for i := range 20 {
		batch = append(batch, fmt.Sprintf(`{"inputs": {"i": %d}}`, i))
	}
	_, _, err = ds.UpsertDatasetRecords(ctx(), ordered.ID, raw(batch...))
	ok(t, err)
	inOrder, _ := must2[[]*store.DatasetRecord, string](t)(ds.DatasetRecords(ctx(), ordered.ID, 0, ""))
	for i, r := range inOrder {
		if want := fmt.Sprintf(`{"i":%d}`, i); r.Inputs != want {
			t.Fatalf("record %d of a batch is %s, want %s", i, r.Inputs, want)
		}
	}
	ok(t, ds.DeleteEvaluationDataset(ctx(), ordered.ID))

	other := must[*store.EvaluationDataset](t)(ds.CreateEvaluationDataset(ctx(), "other", []store.Tag{{Key: "team", Value: "ml"}}, []string{exp2}))
	names := func(q store.SearchEvaluationDatasets) string {
		t.Helper()
		list, _, err := ds.SearchEvaluationDatasets(ctx(), q)
		ok(t, err)
		var out []string
		for _, d := range list {
			out = append(out, d.Name)
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		q    store.SearchEvaluationDatasets
		want string
	}{
		{store.SearchEvaluationDatasets{OrderBy: []string{"name ASC"}}, "other qa"},
		{store.SearchEvaluationDatasets{OrderBy: []string{"name DESC"}}, "qa other"},
		{store.SearchEvaluationDatasets{ExperimentIDs: []string{exp1}}, "qa"},
		{store.SearchEvaluationDatasets{ExperimentIDs: []string{exp1, exp2}, OrderBy: []string{"name"}}, "other qa"},
		{store.SearchEvaluationDatasets{Filter: "name = 'other'"}, "other"},
		{store.SearchEvaluationDatasets{Filter: "tags.team = 'ds'"}, "qa"},
		{store.SearchEvaluationDatasets{Filter: "name LIKE '%a' AND created_time > 0"}, "qa"},
	} {
		if got := names(tc.q); got != tc.want {
			t.Errorf("search %+v: %q, want %q", tc.q, got, tc.want)
		}
	}
	page1, tok, err := ds.SearchEvaluationDatasets(ctx(), store.SearchEvaluationDatasets{MaxResults: 1, OrderBy: []string{"name"}})
	ok(t, err)
	page2, tok2, err := ds.SearchEvaluationDatasets(ctx(), store.SearchEvaluationDatasets{MaxResults: 1, OrderBy: []string{"name"}, PageToken: tok})
	ok(t, err)
	if len(page1) != 1 || page1[0].Name != "other" || tok == "" || len(page2) != 1 || page2[0].Name != "qa" || tok2 != "" || fmt.Sprint(page2[0].Tags) != "[{mlflow.user alice} {team ds}]" {
		t.Errorf("search pages: %v %q, %v %q", page1, tok, page2, tok2)
	}
	_, _, err = ds.SearchEvaluationDatasets(ctx(), store.SearchEvaluationDatasets{Filter: "params.x = '1'"})
	wantKind(t, err, store.ErrInvalidArgument)

	ok(t, ds.SetEvaluationDatasetTags(ctx(), other.ID, []store.Tag{{Key: "team", Value: "ml2"}, {Key: "new", Value: "x"}}))
	wantKind(t, ds.SetEvaluationDatasetTags(ctx(), "d-nope", []store.Tag{{Key: "a", Value: "b"}}), store.ErrNotFound)
	ok(t, ds.DeleteEvaluationDatasetTag(ctx(), other.ID, "new"))
	ok(t, ds.DeleteEvaluationDatasetTag(ctx(), other.ID, "never-there"))
	if got := must[*store.EvaluationDataset](t)(ds.GetEvaluationDataset(ctx(), other.ID)); fmt.Sprint(got.Tags) != "[{team ml2}]" {
		t.Errorf("tags after set and delete: %v", got.Tags)
	}

	linked := must[*store.EvaluationDataset](t)(ds.AddDatasetToExperiments(ctx(), qa.ID, []string{exp2, exp1}))
	if fmt.Sprint(linked.ExperimentIDs) != fmt.Sprint([]string{exp1, exp2}) {
		t.Errorf("after adding %s: %v", exp2, linked.ExperimentIDs)
	}
	_, err = ds.AddDatasetToExperiments(ctx(), qa.ID, []string{"987654"})
	wantKind(t, err, store.ErrNotFound)
	_, err = ds.AddDatasetToExperiments(ctx(), "d-nope", []string{exp1})
	wantKind(t, err, store.ErrNotFound)
	must[*store.EvaluationDataset](t)(ds.RemoveDatasetFromExperiments(ctx(), qa.ID, []string{exp1, "987654"}))
	if ids := must[[]string](t)(ds.DatasetExperimentIDs(ctx(), qa.ID)); fmt.Sprint(ids) != "["+exp2+"]" {
		t.Errorf("after removing %s: %v", exp1, ids)
	}

	n, err := ds.DeleteDatasetRecords(ctx(), qa.ID, []string{a.ID, "dr-nope"})
	if err != nil || n != 1 {
		t.Fatalf("delete records: %d, %v", n, err)
	}
	if got := must[*store.EvaluationDataset](t)(ds.GetEvaluationDataset(ctx(), qa.ID)); got.Profile != `{"num_records": 1}` {
		t.Errorf("profile after deleting a record: %s", got.Profile)
	}
	ok(t, ds.DeleteEvaluationDataset(ctx(), qa.ID))
	ok(t, ds.DeleteEvaluationDataset(ctx(), qa.ID))
	_, err = ds.GetEvaluationDataset(ctx(), qa.ID)
	wantKind(t, err, store.ErrNotFound)
	_, _, err = ds.DatasetRecords(ctx(), qa.ID, 0, "")
	wantKind(t, err, store.ErrNotFound)
	if got := names(store.SearchEvaluationDatasets{ExperimentIDs: []string{exp2}}); got != "other" {
		t.Errorf("after deleting qa, %s's datasets: %q", exp2, got)
	}
}

func must2[A, B any](t *testing.T) func(a A, b B, err error) (A, B) {
	return func(a A, b B, err error) (A, B) {
		t.Helper()
		ok(t, err)
		return a, b
	}
}

// testAssessments: MLflow 3's feedback and expectations on a trace:
// created, read, listed with the trace, updated by mask, deleted, and
// each mistake with its kind of error.
func testAssessments(t *testing.T, s store.Store) {
	ts, isTraces := s.(store.Traces)
	as, isAssessments := s.(store.Assessments)
	if !isTraces || !isAssessments {
		t.Fatalf("the store lacks traces (%v) or assessments (%v)", isTraces, isAssessments)
	}
	exp := newExp(t, s, "assessments")
	tr := must[*store.TraceInfo](t)(ts.StartTrace(ctx(), exp, 1000, nil, nil))
	fb := must[*store.Assessment](t)(as.CreateAssessment(ctx(), store.Assessment{TraceID: tr.RequestID, Name: "relevance", Type: "feedback",
		Value: "0.9", SourceType: "HUMAN", SourceID: "alice", Rationale: "on topic", Valid: true, Metadata: `{"round":"1"}`}))
	ex := must[*store.Assessment](t)(as.CreateAssessment(ctx(), store.Assessment{TraceID: tr.RequestID, Name: "answer", Type: "expectation",
		Value: `"Paris"`, SourceType: "HUMAN", Valid: true}))
	if fb.ID == "" || fb.Type != "feedback" || fb.Value != "0.9" || fb.SourceID != "alice" || fb.CreatedMs == 0 || !fb.Valid || ex.Type != "expectation" {
		t.Fatalf("created %+v and %+v", fb, ex)
	}
	got := must[*store.Assessment](t)(as.GetAssessment(ctx(), tr.RequestID, fb.ID))
	if got.Name != "relevance" || got.Rationale != "on topic" || got.Metadata != `{"round":"1"}` || got.CreatedMs != fb.CreatedMs {
		t.Errorf("got %+v", got)
	}
	list := must[[]*store.Assessment](t)(as.TraceAssessments(ctx(), tr.RequestID))
	if len(list) != 2 || list[0].ID != fb.ID || list[1].ID != ex.ID {
		t.Errorf("the trace's assessments: %v", list)
	}
	up := must[*store.Assessment](t)(as.UpdateAssessment(ctx(), store.Assessment{TraceID: tr.RequestID, ID: fb.ID, Rationale: "off topic", Type: "feedback", Value: "0.1"},
		[]string{"rationale", "feedback"}))
	if up.Rationale != "off topic" || up.Value != "0.1" || up.Name != "relevance" {
		t.Errorf("updated %+v", up)
	}
	_, err := as.UpdateAssessment(ctx(), store.Assessment{TraceID: tr.RequestID, ID: fb.ID}, []string{"bogus"})
	wantKind(t, err, store.ErrInvalidArgument)
	_, err = as.CreateAssessment(ctx(), store.Assessment{TraceID: tr.RequestID, Type: "feedback", Value: "1", SourceType: "HUMAN"})
	wantKind(t, err, store.ErrInvalidArgument)
	_, err = as.CreateAssessment(ctx(), store.Assessment{TraceID: "tr-0123456789abcdef0123456789abcdef", Name: "x", Type: "feedback", Value: "1", SourceType: "HUMAN"})
	wantKind(t, err, store.ErrNotFound)
	ok(t, as.DeleteAssessment(ctx(), tr.RequestID, fb.ID))
	_, err = as.GetAssessment(ctx(), tr.RequestID, fb.ID)
	wantKind(t, err, store.ErrNotFound)
	if list := must[[]*store.Assessment](t)(as.TraceAssessments(ctx(), tr.RequestID)); len(list) != 1 || list[0].ID != ex.ID {
		t.Errorf("after the delete: %v", list)
	}
}

// testLinkPrompts: the prompt versions a trace used are listed once each
// in its mlflow.linkedPrompts tag, in the order they were first linked.
func testLinkPrompts(t *testing.T, s store.Store) {
	ts, isTraces := s.(store.Traces)
	if !isTraces {
		t.Fatal("the store does not keep traces")
	}
	exp := newExp(t, s, "linked-prompts")
	tr := must[*store.TraceInfo](t)(ts.StartTrace(ctx(), exp, 1, nil, nil))
	ok(t, ts.LinkPromptsToTrace(ctx(), tr.RequestID, []store.PromptVersionRef{{Name: "qa", Version: "1"}}))
	ok(t, ts.LinkPromptsToTrace(ctx(), tr.RequestID, []store.PromptVersionRef{{Name: "qa", Version: "1"}, {Name: "system", Version: "3"}}))
	got := must[*store.TraceInfo](t)(ts.GetTraceInfo(ctx(), tr.RequestID))
	var linked string
	for _, tg := range got.Tags {
		if tg.Key == store.TagLinkedPrompts {
			linked = tg.Value
		}
	}
	if linked != `[{"name":"qa","version":"1"},{"name":"system","version":"3"}]` {
		t.Errorf("%s = %s", store.TagLinkedPrompts, linked)
	}
	wantKind(t, ts.LinkPromptsToTrace(ctx(), "tr-0123456789abcdef0123456789abcdef", []store.PromptVersionRef{{Name: "qa", Version: "1"}}), store.ErrNotFound)
	wantKind(t, ts.LinkPromptsToTrace(ctx(), tr.RequestID, []store.PromptVersionRef{{Name: "qa"}}), store.ErrInvalidArgument)
}

// testConcurrentGenAIWrites: registrations of one scorer name and merges
// of the same record, all at once, lose nothing and fail none (on
// PostgreSQL they race for the same unique keys and are retried): every
// version number once, one record holding every expectation.
func testConcurrentGenAIWrites(t *testing.T, s store.Store) {
	sc, isScorers := s.(store.Scorers)
	ds, isDS := s.(store.EvaluationDatasets)
	if !isScorers || !isDS {
		t.Fatalf("the store lacks scorers (%v) or evaluation datasets (%v)", isScorers, isDS)
	}
	exp := newExp(t, s, "genai-race")
	d := must[*store.EvaluationDataset](t)(ds.CreateEvaluationDataset(ctx(), "race", nil, []string{exp}))
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := sc.RegisterScorer(ctx(), exp, "judge", fmt.Sprintf(`{"i": %d}`, i))
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, _, err := ds.UpsertDatasetRecords(ctx(), d.ID, []json.RawMessage{json.RawMessage(fmt.Sprintf(`{"inputs": {"q": "same"}, "expectations": {"e%d": %d}}`, i, i))})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		ok(t, err)
	}
	vs := must[[]*store.Scorer](t)(sc.ListScorerVersions(ctx(), exp, "judge"))
	for i, v := range vs {
		if v.Version != i+1 {
			t.Fatalf("versions after %d concurrent registrations: %v", n, vs)
		}
	}
	if len(vs) != n {
		t.Fatalf("%d versions after %d concurrent registrations", len(vs), n)
	}
	recs, _ := must2[[]*store.DatasetRecord, string](t)(ds.DatasetRecords(ctx(), d.ID, 0, ""))
	if len(recs) != 1 {
		t.Fatalf("%d records after %d concurrent merges of the same inputs, want 1", len(recs), n)
	}
	var exps map[string]int
	if err := json.Unmarshal([]byte(recs[0].Expectations), &exps); err != nil || len(exps) != n {
		t.Fatalf("the merged record's expectations: %s (%v), want %d", recs[0].Expectations, err, n)
	}

	// Spans of one trace logged at once, the root among them, as the
	// export queue of MLflow's client sends them (several workers): every
	// span kept, and the record counts them all, whichever came last.
	ts, isTraces := s.(store.Traces)
	sl, isLogger := s.(store.SpanLogger)
	sr, isReader := s.(store.TraceSpans)
	if !isTraces || !isLogger || !isReader {
		t.Fatal("the store does not keep spans")
	}
	id := "tr-" + strings.Repeat("7e", 16)
	must[*store.TraceInfo](t)(ts.PutTrace(ctx(), store.TraceInfo{RequestID: id, ExperimentID: exp, Status: "IN_PROGRESS"}))
	spanErrs := make(chan error, n+1)
	for i := range n + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sp := spanOf(0x7e, 1, 0, "agent", 0, 100, "OK", nil)
			if i < n {
				sp = spanOf(0x7e, byte(2+i), 1, fmt.Sprint("llm-", i), int64(10+i), int64(20+i), "OK",
					map[string]string{"mlflow.chat.tokenUsage": `{"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}`})
			}
			spanErrs <- sl.LogSpans(ctx(), id, []json.RawMessage{sp})
		}()
	}
	wg.Wait()
	close(spanErrs)
	for err := range spanErrs {
		ok(t, err)
	}
	kept := must[map[string][]json.RawMessage](t)(sr.TraceSpans(ctx(), []string{id}))
	info := must[*store.TraceInfo](t)(ts.GetTraceInfo(ctx(), id))
	if len(kept[id]) != n+1 || info.Status != "OK" || info.ExecutionTimeMs != 100 ||
		tagValue(info.RequestMetadata, "mlflow.trace.tokenUsage") != fmt.Sprintf(`{"input_tokens": %d, "output_tokens": %d, "total_tokens": %d}`, 10*n, 5*n, 15*n) {
		t.Fatalf("after %d spans and their root logged at once: %d spans kept, record %+v", n, len(kept[id]), info)
	}
}

// spanJSON is a span in MLflow 3.6's Span.to_dict layout: trace
// 0af7651916cd43dd8448eb211c80319c, span id n, parent p (0: none).
func spanJSON(name string, n, p byte, start int64) json.RawMessage {
	parent := "null"
	if p != 0 {
		parent = fmt.Sprintf(`"AAAAAAAAAA%s="`, string("AEIMQUYc"[p]))
	}
	return json.RawMessage(fmt.Sprintf(`{"trace_id": "CvdlGRbNQ92ESOshHIAxnA==", "span_id": "AAAAAAAAAA%s=", "parent_span_id": %s, "name": %q,
		"start_time_unix_nano": %d, "end_time_unix_nano": %d, "events": [], "status": {"code": "STATUS_CODE_OK", "message": ""},
		"attributes": {"mlflow.traceRequestId": "\"tr-0af7651916cd43dd8448eb211c80319c\"", "mlflow.spanType": "\"CHAIN\""}}`,
		string("AEIMQUYc"[n]), parent, name, start, start+100))
}

// testTraceSpans: spans kept by the tracking store (MLflow 3.4+'s spans
// table) read back in start order, whatever order they were logged in;
// logged again they replace themselves; the trace is tagged
// TRACKING_STORE; a bad span or an unknown trace writes nothing; deleting
// the trace deletes its spans.
func testTraceSpans(t *testing.T, s store.Store) {
	ts, isTraces := s.(store.Traces)
	sr, isReader := s.(store.TraceSpans)
	sl, isLogger := s.(store.SpanLogger)
	if !isTraces || !isReader || !isLogger {
		t.Fatal("the store does not keep spans")
	}
	exp := newExp(t, s, "spans")
	id := "tr-0af7651916cd43dd8448eb211c80319c"
	must[*store.TraceInfo](t)(ts.PutTrace(ctx(), store.TraceInfo{RequestID: id, ExperimentID: exp, TimestampMs: 1_700_000_000_000, Status: "OK"}))
	names := func() []string {
		t.Helper()
		got := must[map[string][]json.RawMessage](t)(sr.TraceSpans(ctx(), []string{id, "tr-00000000000000000000000000000000"}))
		if _, has := got["tr-00000000000000000000000000000000"]; has || len(got) > 1 {
			t.Fatalf("spans of traces that have none: %v", got)
		}
		var out []string
		for _, raw := range got[id] {
			var d struct {
				Name string `json:"name"`
			}
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatalf("a span is not JSON: %s", raw)
			}
			out = append(out, d.Name)
		}
		return out
	}
	ok(t, sl.LogSpans(ctx(), id, []json.RawMessage{spanJSON("retrieve", 2, 1, 1_700_000_000_100_000_000), spanJSON("agent", 1, 0, 1_700_000_000_000_000_000)}))
	if got := names(); !slices.Equal(got, []string{"agent", "retrieve"}) {
		t.Fatalf("spans in start order: %v", got)
	}
	info := must[*store.TraceInfo](t)(ts.GetTraceInfo(ctx(), id))
	if tagValue(info.Tags, store.TagTraceSpansLocation) != store.SpansInTrackingStore {
		t.Errorf("trace tags: %v", info.Tags)
	}
	// The record follows the spans: start of the earliest, to the end of
	// the latest (the child, 100 ms in), the root's state and name.
	if info.TimestampMs != 1_700_000_000_000 || info.ExecutionTimeMs != 100 || info.Status != "OK" || tagValue(info.Tags, "mlflow.traceName") != "agent" {
		t.Errorf("the trace's record after its spans: %+v", info)
	}
	// Token usage of the spans, summed into the trace's metadata.
	tool := strings.Replace(string(spanJSON("tool", 3, 1, 1_700_000_000_200_000_000)), `"attributes": {`,
		`"attributes": {"mlflow.chat.tokenUsage": "{\"input_tokens\": 12, \"output_tokens\": 3, \"total_tokens\": 15}", `, 1)
	ok(t, sl.LogSpans(ctx(), id, []json.RawMessage{json.RawMessage(tool)}))
	info = must[*store.TraceInfo](t)(ts.GetTraceInfo(ctx(), id))
	if tagValue(info.RequestMetadata, "mlflow.trace.tokenUsage") != `{"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}` || info.ExecutionTimeMs != 200 {
		t.Errorf("the trace's record after a span with token usage: %+v", info)
	}
	// Spans one call each, children first, as MLflow's client sends them:
	// until the root is there they move only the start; the root brings
	// the state, name and the token usage of all.
	must[int](t)(ts.DeleteTraces(ctx(), store.DeleteTraces{ExperimentID: exp, RequestIDs: []string{id}}))
	must[*store.TraceInfo](t)(ts.PutTrace(ctx(), store.TraceInfo{RequestID: id, ExperimentID: exp, Status: "IN_PROGRESS"}))
	ok(t, sl.LogSpans(ctx(), id, []json.RawMessage{json.RawMessage(tool)}))
	ok(t, sl.LogSpans(ctx(), id, []json.RawMessage{spanJSON("retrieve", 2, 1, 1_700_000_000_100_000_000)}))
	info = must[*store.TraceInfo](t)(ts.GetTraceInfo(ctx(), id))
	if info.Status != "IN_PROGRESS" || info.TimestampMs != 1_700_000_000_100 || tagValue(info.Tags, "mlflow.traceName") != "" {
		t.Errorf("the trace's record before its root span: %+v", info)
	}
	ok(t, sl.LogSpans(ctx(), id, []json.RawMessage{spanJSON("agent", 1, 0, 1_700_000_000_000_000_000)}))
	info = must[*store.TraceInfo](t)(ts.GetTraceInfo(ctx(), id))
	if info.Status != "OK" || info.TimestampMs != 1_700_000_000_000 || info.ExecutionTimeMs != 200 || tagValue(info.Tags, "mlflow.traceName") != "agent" ||
		tagValue(info.RequestMetadata, "mlflow.trace.tokenUsage") != `{"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}` {
		t.Errorf("the trace's record after its root span: %+v", info)
	}
	must[int](t)(ts.DeleteTraces(ctx(), store.DeleteTraces{ExperimentID: exp, RequestIDs: []string{id}}))
	must[*store.TraceInfo](t)(ts.PutTrace(ctx(), store.TraceInfo{RequestID: id, ExperimentID: exp, TimestampMs: 1_700_000_000_000, Status: "OK"}))
	ok(t, sl.LogSpans(ctx(), id, []json.RawMessage{spanJSON("retrieve", 2, 1, 1_700_000_000_100_000_000), spanJSON("agent", 1, 0, 1_700_000_000_000_000_000)}))
	ok(t, sl.LogSpans(ctx(), id, []json.RawMessage{spanJSON("rerank", 2, 1, 1_700_000_000_100_000_000)}))
	if got := names(); !slices.Equal(got, []string{"agent", "rerank"}) {
		t.Fatalf("after logging span 2 again: %v", got)
	}
	wantKind(t, sl.LogSpans(ctx(), id, []json.RawMessage{spanJSON("third", 3, 1, 1_700_000_000_200_000_000), json.RawMessage(`{"span_id": "bad"}`)}), store.ErrInvalidArgument)
	wantKind(t, sl.LogSpans(ctx(), "tr-ffffffffffffffffffffffffffffffff", []json.RawMessage{spanJSON("x", 1, 0, 1)}), store.ErrNotFound)
	if got := names(); !slices.Equal(got, []string{"agent", "rerank"}) {
		t.Fatalf("refused calls wrote spans: %v", got)
	}
	must[int](t)(ts.DeleteTraces(ctx(), store.DeleteTraces{ExperimentID: exp, RequestIDs: []string{id}}))
	if got := must[map[string][]json.RawMessage](t)(sr.TraceSpans(ctx(), []string{id})); len(got) != 0 {
		t.Fatalf("spans of a deleted trace: %v", got)
	}
}

func tagValue(tags []store.Tag, key string) string {
	for _, tg := range tags {
		if tg.Key == key {
			return tg.Value
		}
	}
	return ""
}

// spanOf is a span dict (MLflow 3.6's layout) of the trace whose OTel id
// is 16 bytes of b: span n, parent p (0: a root), from start to end
// (ms), with status and attributes (values as JSON text).
func spanOf(b byte, n, p byte, name string, startMs, endMs int64, status string, attrs map[string]string) json.RawMessage {
	id := func(x byte, size int) string {
		raw := make([]byte, size)
		raw[size-1] = x
		return `"` + base64.StdEncoding.EncodeToString(raw) + `"`
	}
	parent := "null"
	if p != 0 {
		parent = id(p, 8)
	}
	tid := make([]byte, 16)
	for i := range tid {
		tid[i] = b
	}
	a, _ := json.Marshal(attrs)
	return json.RawMessage(fmt.Sprintf(`{"trace_id": "%s", "span_id": %s, "parent_span_id": %s, "name": %q, "start_time_unix_nano": %d,
		"end_time_unix_nano": %d, "events": [], "status": {"code": "STATUS_CODE_%s", "message": ""}, "attributes": %s}`,
		base64.StdEncoding.EncodeToString(tid), id(n, 8), parent, name, startMs*1_000_000, endMs*1_000_000, status, a))
}

// testTraceSearch3: MLflow 3.6's trace filters — LIKE, ILIKE and RLIKE on
// tags, metadata and names; spans by name, type, status, content and
// attribute; feedback and expectations by name and value; the full text;
// client_request_id, end_time_ms and linked prompts — and what they
// refuse.
func testTraceSearch3(t *testing.T, s store.Store) {
	ts, isTraces := s.(store.Traces)
	sl, isLogger := s.(store.SpanLogger)
	as, isAssessments := s.(store.Assessments)
	if !isTraces || !isLogger || !isAssessments {
		t.Fatal("the store does not keep traces with spans and assessments")
	}
	exp := newExp(t, s, "search-3")
	put := func(b byte, tags, metadata []store.Tag, client string) string {
		t.Helper()
		id := "tr-" + strings.Repeat(fmt.Sprintf("%02x", b), 16)
		must[*store.TraceInfo](t)(ts.PutTrace(ctx(), store.TraceInfo{RequestID: id, ExperimentID: exp, TimestampMs: int64(b) * 1000, ExecutionTimeMs: 1000,
			Status: "OK", Tags: tags, RequestMetadata: metadata, ClientRequestID: client}))
		return id
	}
	a := put(0xaa, []store.Tag{{Key: "env", Value: "prod-eu"}}, []store.Tag{{Key: "user", Value: "alice"}}, "req-1")
	ok(t, sl.LogSpans(ctx(), a, []json.RawMessage{
		spanOf(0xaa, 1, 0, "agent", 10_000, 11_000, "OK", map[string]string{"mlflow.spanType": `"AGENT"`, "mlflow.spanInputs": `{"q": "tell me a story"}`}),
		spanOf(0xaa, 2, 1, "llm_call", 10_100, 10_900, "OK", map[string]string{"mlflow.spanType": `"LLM"`, "model": `"gpt-4o"`})}))
	b := put(0xbb, []store.Tag{{Key: "env", Value: "staging"}}, []store.Tag{{Key: "user", Value: "bob"}}, "req-2")
	ok(t, sl.LogSpans(ctx(), b, []json.RawMessage{spanOf(0xbb, 1, 0, "retriever", 20_000, 25_000, "ERROR", map[string]string{"mlflow.spanType": `"RETRIEVER"`})}))
	ok(t, ts.LinkPromptsToTrace(ctx(), b, []store.PromptVersionRef{{Name: "qa", Version: "1"}}))
	c := put(0x3c, []store.Tag{{Key: "env", Value: "prod-us"}}, nil, "")
	for _, x := range []store.Assessment{
		{TraceID: a, Name: "rating", Type: "feedback", Value: `"positive"`, SourceType: "HUMAN", SourceID: "u", Valid: true},
		{TraceID: a, Name: "label", Type: "expectation", Value: `"success"`, SourceType: "HUMAN", SourceID: "u", Valid: true},
		{TraceID: b, Name: "rating", Type: "feedback", Value: `"negative"`, SourceType: "HUMAN", SourceID: "u", Valid: true},
		{TraceID: b, Name: "score", Type: "feedback", Value: `0.9`, SourceType: "LLM_JUDGE", SourceID: "j", Valid: true},
	} {
		must[*store.Assessment](t)(as.CreateAssessment(ctx(), x))
	}
	names := map[string]string{a: "a", b: "b", c: "c"}
	for filter, want := range map[string]string{
		"tag.env LIKE 'prod%'":                 "a,c",
		"tag.env ILIKE 'PROD-EU'":              "a",
		"tag.env RLIKE '^prod-(eu|us)$'":       "a,c",
		"metadata.user RLIKE 'ali'":            "a",
		"trace.name RLIKE '^ag'":               "a",
		"trace.name ILIKE 'RETRIEV%'":          "b",
		"span.type = 'LLM'":                    "a",
		"span.name LIKE '%call%'":              "a",
		"span.status = 'ERROR'":                "b",
		"span.attributes.model LIKE '%gpt-4%'": "a",
		"span.content ILIKE '%STORY%'":         "a",
		"trace.text LIKE '%tell me a story%'":  "a",
		"feedback.rating = 'positive'":         "a",
		"feedback.rating != 'positive'":        "b",
		"feedback.score = '0.9'":               "b",
		"expectation.label ILIKE '%SUCC%'":     "a",
		"trace.client_request_id = 'req-1'":    "a",
		"trace.client_request_id LIKE 'req-%'": "a,b",
		"prompt = 'qa/1'":                      "b",
		"prompt = 'qa/2'":                      "",
		"trace.end_time_ms > 20000":            "b,c",
		"trace.status = 'OK' AND tag.env LIKE 'prod%' AND span.type = 'AGENT'": "a",
	} {
		out, _, err := ts.SearchTraces(ctx(), store.SearchTraces{ExperimentIDs: []string{exp}, Filter: filter, OrderBy: []string{"trace.timestamp_ms ASC"}})
		if err != nil {
			t.Errorf("filter %q: %v", filter, err)
			continue
		}
		var got []string
		for _, tr := range out {
			got = append(got, names[tr.RequestID])
		}
		sort.Strings(got)
		if strings.Join(got, ",") != want {
			t.Errorf("filter %q: %s, want %s", filter, strings.Join(got, ","), want)
		}
	}
	for _, bad := range []string{"span.bogus = 'x'", "span.content = 'x'", "tag.env RLIKE '('", "prompt = 'noversion'", "prompt LIKE 'qa%'",
		"trace.text = 'x'", "trace.end_time_ms LIKE '1%'", "feedback.rating > 'a'"} {
		_, _, err := ts.SearchTraces(ctx(), store.SearchTraces{ExperimentIDs: []string{exp}, Filter: bad})
		wantKind(t, err, store.ErrInvalidArgument)
	}
}
