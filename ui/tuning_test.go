package ui_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
)

// TestTuningParentPage: the page of a tuning parent (mlrun tune) lists its
// trials best first (failed ones last), marks the best, and links to the
// parallel coordinates of the trials' parameters against the metric and
// to the best-so-far curve, which both answer.
func TestTuningParentPage(t *testing.T) {
	srv := testutil.StartServer(t, true)
	st, ctx := srv.Store, context.Background()
	exp, _ := st.CreateExperiment(ctx, "tuning", "", nil)
	parent, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp, RunName: "tune-loss",
		Tags: []store.Tag{{Key: "mlrun.tune.metric", Value: "loss"}, {Key: "mlrun.tune.mode", Value: "min"}, {Key: "mlrun.tune.algo", Value: "tpe"}}})
	if err != nil {
		t.Fatal(err)
	}
	pid := parent.Info.RunID
	ids := map[string]string{}
	for i, loss := range []float64{0.5, 0.1, -1, 0.3} {
		name := "trial-" + string(rune('1'+i))
		r, _ := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp, RunName: name, Tags: []store.Tag{{Key: "mlflow.parentRunId", Value: pid}}})
		ids[name] = r.Info.RunID
		st.LogParam(ctx, r.Info.RunID, store.Param{Key: "x", Value: name})
		status := store.StatusFailed
		if loss >= 0 {
			st.LogMetric(ctx, r.Info.RunID, store.Metric{Key: "loss", Value: loss, Timestamp: 1})
			status = store.StatusFinished
		}
		st.UpdateRun(ctx, r.Info.RunID, store.UpdateRun{Status: &status})
		st.LogMetric(ctx, pid, store.Metric{Key: "best_loss", Value: 0.1, Timestamp: 2, Step: int64(i + 1)})
	}
	st.SetTag(ctx, pid, store.Tag{Key: "mlrun.tune.best_run_id", Value: ids["trial-2"]})
	get := func(path string) string { t.Helper(); return getPage(t, srv.URL+path) }
	page := get("/runs/" + pid)
	if !strings.Contains(page, `id="tuning"`) || !strings.Contains(page, "4 trials, 1 failed") {
		t.Fatalf("no tuning section:\n%s", page)
	}
	order := regexp.MustCompile(`>(trial-\d)</a>`).FindAllStringSubmatch(page, -1)
	var got []string
	for _, m := range order {
		got = append(got, m[1])
	}
	if strings.Join(got, ",") != "trial-2,trial-4,trial-1,trial-3" {
		t.Fatalf("trials in the order %v, want best first and the failed one last", got)
	}
	if !strings.Contains(page, "trial-2</a> (best)") {
		t.Fatal("the best trial is not marked")
	}
	cmp := regexp.MustCompile(`id="tuning-compare" href="([^"]+)"`).FindStringSubmatch(page)
	best := regexp.MustCompile(`id="tuning-best" href="([^"]+)"`).FindStringSubmatch(page)
	if cmp == nil || best == nil {
		t.Fatalf("links missing:\n%s", page)
	}
	want := "/compare?runs=" + ids["trial-2"] + "," + ids["trial-4"] + "," + ids["trial-1"]
	if link, _ := url.QueryUnescape(html.UnescapeString(cmp[1])); link != want {
		t.Fatalf("compare link %s, want %s", link, want)
	}
	if c := get(html.UnescapeString(cmp[1])); !strings.Contains(c, `id="parallel"`) || !strings.Contains(c, "trial-4") {
		t.Fatal("the compare page has no parallel coordinates of the trials")
	}
	if c := get(html.UnescapeString(best[1])); !strings.Contains(c, "best_loss") {
		t.Fatal("the best-so-far chart does not show best_loss")
	}
	// Other runs have no tuning section.
	if strings.Contains(get("/runs/"+ids["trial-1"]), `id="tuning"`) {
		t.Fatal("a trial's page shows a tuning section")
	}
}
