package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/runner/launch"
	"github.com/mlrun/mlrun/store"
)

// tuneRuns returns the runs of experiment 0 of a SQLite database: the
// parent (no parent tag) and the trials.
func tuneRuns(t *testing.T, db string) (*store.Run, []*store.Run) {
	t.Helper()
	// The tune process runs in db's folder: should this open the new
	// database first (TestTuneCtrlC polls it while tune makes it), the
	// Default experiment gets the artifact root tune would give it, not
	// ./mlruns of the package (a CI run once left cmd/mlrun/mlruns so).
	st, err := openStore(context.Background(), "sqlite:///"+db, filepath.Join(filepath.Dir(db), "mlruns"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, _, err := st.SearchRuns(context.Background(), store.SearchRuns{ExperimentIDs: []string{"0"}, MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var parent *store.Run
	var trials []*store.Run
	for _, r := range runs {
		if _, ok := r.Tag("mlflow.parentRunId"); ok {
			trials = append(trials, r)
		} else {
			parent = r
		}
	}
	return parent, trials
}

func paramOf(r *store.Run, key string) string {
	for _, p := range r.Params {
		if p.Key == key {
			return p.Value
		}
	}
	return ""
}

// TestTune runs `mlrun tune` (the real binary) on examples/tune: a parent
// run tagged with the search, one child run per trial with its
// parameters, failed trials counted and never chosen, the best trial
// tagged on the parent with its parameters and a best-so-far curve.
func TestTune(t *testing.T) {
	bin := buildMlrun(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	spaceFile := filepath.Join(dir, "space.yaml")
	// x far from 1 makes the loss pass 40: those trials fail.
	os.WriteFile(spaceFile, []byte("x: uniform(-9, 9)\ny: uniform(-5, 5)\n"), 0o644)
	example, err := filepath.Abs(filepath.Join("..", "..", "examples", "tune"))
	if err != nil {
		t.Fatal(err)
	}
	tune := func(args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"tune", example, "--tracking-uri", "sqlite:///" + db}, args...)...)
		cmd.Dir = dir // the new database's default artifact root, ./mlruns, lands in the test's folder
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := tune("--space", spaceFile, "-P", "type=quad", "--metric", "loss", "--max-trials", "13", "--parallel", "3", "--seed", "5")
	if err != nil {
		t.Fatalf("mlrun tune: %v\n%s", err, out)
	}
	parent, trials := tuneRuns(t, db)
	if parent == nil || len(trials) != 13 {
		t.Fatalf("parent %v, %d trials\n%s", parent != nil, len(trials), out)
	}
	for k, want := range map[string]string{"mlrun.tune.algo": "tpe", "mlrun.tune.metric": "loss", "mlrun.tune.mode": "min", "mlrun.tune.seed": "5"} {
		if v, _ := parent.Tag(k); v != want {
			t.Errorf("parent tag %s = %q, want %q", k, v, want)
		}
	}
	if v, _ := parent.Tag("mlrun.tune.space"); !strings.Contains(v, `"x":"uniform(-9, 9)"`) {
		t.Errorf("parent's space tag %q", v)
	}
	if parent.Info.Status != store.StatusFinished {
		t.Fatalf("parent %s", parent.Info.Status)
	}
	var best *store.Run
	failed := 0
	for _, r := range trials {
		if p, _ := r.Tag("mlflow.parentRunId"); p != parent.Info.RunID {
			t.Fatalf("trial %s has parent %q", r.Info.RunID, p)
		}
		if paramOf(r, "type") != "quad" || paramOf(r, "x") == "" || paramOf(r, "y") == "" {
			t.Fatalf("trial params %+v", r.Params)
		}
		loss, ok := metricOf(r, "loss")
		switch r.Info.Status {
		case store.StatusFailed:
			failed++
			if ok {
				t.Fatalf("a failed trial has a loss")
			}
		case store.StatusFinished:
			if best == nil || loss < mustMetric(best, "loss") {
				best = r
			}
		default:
			t.Fatalf("trial %s", r.Info.Status)
		}
	}
	if failed == 0 || best == nil {
		t.Fatalf("%d failed trials, best %v: the seed should give both\n%s", failed, best, out)
	}
	if id, _ := parent.Tag("mlrun.tune.best_run_id"); id != best.Info.RunID {
		t.Fatalf("best_run_id %s, want %s (lowest loss)", id, best.Info.RunID)
	}
	if paramOf(parent, "x") != paramOf(best, "x") || paramOf(parent, "type") != "quad" {
		t.Fatalf("the parent's params %+v, want the best trial's %+v", parent.Params, best.Params)
	}
	if v, ok := metricOf(parent, "best_loss"); !ok || v != mustMetric(best, "loss") {
		t.Fatalf("best_loss %v, want %v", v, mustMetric(best, "loss"))
	}
	if !strings.Contains(out, "best_run_id: "+best.Info.RunID) || !strings.Contains(out, "failed "+itoa(failed)) || !strings.Contains(out, ", running ") {
		t.Fatalf("the summary:\n%s", out)
	}

	// --resume goes on: the finished trials are the history, three more
	// run as children of the same parent, numbered after the others.
	out, err = tune("--resume", parent.Info.RunID, "--max-trials", "3")
	if err != nil || !strings.Contains(out, "resuming after 13 finished trials") {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	parent2, trials2 := tuneRuns(t, db)
	if parent2.Info.RunID != parent.Info.RunID || parent2.Info.Status != store.StatusFinished || len(trials2) != 16 {
		t.Fatalf("resumed: parent %s %s, %d trials", parent2.Info.RunID, parent2.Info.Status, len(trials2))
	}
	// The parent names the process driving it (launch.Reap ends it if that
	// process is killed): the first mlrun tune, then the resuming one.
	if pid1, pid2 := tagValue(parent.Tags, launch.TagRunnerPID), tagValue(parent2.Tags, launch.TagRunnerPID); pid1 == "" || pid2 == "" || pid1 == pid2 {
		t.Fatalf("the parent's runner pid: %q, then %q after --resume", pid1, pid2)
	}
	names := map[string]bool{}
	for _, r := range trials2 {
		names[r.Info.RunName] = true
	}
	if !names["tune-loss-trial-16"] || !names["tune-loss-trial-14"] {
		t.Fatalf("resumed trial names: %v", names)
	}
	bestAll := best
	for _, r := range trials2 {
		if v, ok := metricOf(r, "loss"); ok && r.Info.Status == store.StatusFinished && v < mustMetric(bestAll, "loss") {
			bestAll = r
		}
	}
	if id, _ := parent2.Tag("mlrun.tune.best_run_id"); id != bestAll.Info.RunID {
		t.Fatalf("after resume best_run_id %s, want %s", id, bestAll.Info.RunID)
	}
	if _, err := tune("--resume", best.Info.RunID); err == nil {
		t.Fatal("resuming a trial (not a parent) is not an error")
	}

	// The same seed proposes the same points.
	db2 := db
	db = filepath.Join(dir, "again.db")
	if out, err := tune("--space", spaceFile, "-P", "type=quad", "--metric", "loss", "--max-trials", "3", "--seed", "5", "--algo", "random"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	_, again := tuneRuns(t, db)
	_, first := tuneRuns(t, db2)
	xs := map[string]bool{}
	for _, r := range first {
		xs[paramOf(r, "x")] = true
	}
	for _, r := range again {
		if !xs[paramOf(r, "x")] {
			t.Fatalf("seed 5 proposed x=%s this time, not among the first search's", paramOf(r, "x"))
		}
	}

	// Choosing what to ship: among the trials within 50 % of the best
	// loss, the fastest; its model is registered, with the reason.
	db = filepath.Join(dir, "ship.db")
	out, err = tune("--space", spaceFile, "-P", "type=quad", "--metric", "loss", "--max-trials", "6", "--seed", "2",
		"--select-within", "0.5", "--prefer", "training_time", "--register-model", "tuned")
	if err != nil {
		t.Fatalf("select and register: %v\n%s", err, out)
	}
	parent, trials = tuneRuns(t, db)
	bestLoss := math.Inf(1)
	for _, r := range trials {
		if v, ok := metricOf(r, "loss"); ok && r.Info.Status == store.StatusFinished {
			bestLoss = math.Min(bestLoss, v)
		}
	}
	var fastest *store.Run
	for _, r := range trials {
		if v, ok := metricOf(r, "loss"); ok && r.Info.Status == store.StatusFinished && v-bestLoss <= 0.5*bestLoss {
			if fastest == nil || mustMetric(r, "training_time") < mustMetric(fastest, "training_time") {
				fastest = r
			}
		}
	}
	if sel, _ := parent.Tag("mlrun.tune.selected_run_id"); fastest == nil || sel != fastest.Info.RunID {
		t.Fatalf("selected %q, want the fastest within 50 %% of the best: %v\n%s", sel, fastest, out)
	}
	// The tune process runs in db's folder: should this open the new
	// database first (TestTuneCtrlC polls it while tune makes it), the
	// Default experiment gets the artifact root tune would give it, not
	// ./mlruns of the package (a CI run once left cmd/mlrun/mlruns so).
	st, err := openStore(context.Background(), "sqlite:///"+db, filepath.Join(filepath.Dir(db), "mlruns"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.(registry.Store).GetModelVersion(context.Background(), "tuned", "1")
	st.Close()
	if err != nil || v.RunID != fastest.Info.RunID || !strings.HasSuffix(v.Source, "/model") || !strings.Contains(tagValue(v.Tags, "mlrun.tune.reason"), "smallest training_time") {
		t.Fatalf("registered version: %+v %v", v, err)
	}

	// Annealing and Hyperopt's own TPE, through the command.
	for _, algo := range []string{"anneal", "hyperopt-tpe"} {
		db = filepath.Join(dir, algo+".db")
		// A fixed seed: some points of the space diverge (fail), and with an
		// unlucky random seed all three first proposals could.
		if out, err := tune("--space", spaceFile, "-P", "type=quad", "--metric", "loss", "--algo", algo, "--max-trials", "3", "--parallel", "3", "--seed", "7"); err != nil {
			t.Fatalf("%s: %v\n%s", algo, err, out)
		}
		if parent, trials := tuneRuns(t, db); len(trials) != 3 || tagValue(parent.Tags, "mlrun.tune.algo") != algo {
			t.Fatalf("%s: %d trials, algo %q", algo, len(trials), tagValue(parent.Tags, "mlrun.tune.algo"))
		}
	}

	// Grid search tries each point of a finite space once and stops there.
	db = filepath.Join(dir, "grid.db")
	if out, err := tune("-S", "x=choice(0.5, 1, 1.5)", "-S", "y=quniform(-2, -1, 1)", "-P", "type=quad", "--metric", "loss", "--algo", "grid", "--max-trials", "50"); err != nil {
		t.Fatalf("grid: %v\n%s", err, out)
	}
	_, trials = tuneRuns(t, db)
	points := map[string]bool{}
	for _, r := range trials {
		points[paramOf(r, "x")+","+paramOf(r, "y")] = true
	}
	if len(trials) != 6 || len(points) != 6 {
		t.Fatalf("grid: %d trials, %d points: %v", len(trials), len(points), points)
	}

	// A metric no trial logs: every trial fails, the parent too, and the
	// command says why.
	db = filepath.Join(dir, "none.db")
	out, err = tune("--space", spaceFile, "-P", "type=quad", "--metric", "nope", "--max-trials", "2", "--seed", "1")
	if err == nil || !strings.Contains(out, "no trial succeeded") {
		t.Fatalf("no metric: %v\n%s", err, out)
	}
	parent, trials = tuneRuns(t, db)
	if parent.Info.Status != store.StatusFailed || len(trials) != 2 || trials[0].Info.Status != store.StatusFailed {
		t.Fatalf("no metric: parent %s, %d trials", parent.Info.Status, len(trials))
	}

	// Refused before any run exists.
	db = filepath.Join(dir, "refused.db")
	for _, args := range [][]string{
		{"--space", spaceFile, "-P", "x=1", "--metric", "loss"},
		{"--space", spaceFile, "--metric", "loss", "--algo", "bayes"},
		{"-S", "x=uniform(5, 1)", "--metric", "loss"},
		{"--space", spaceFile, "--metric", "loss", "--prefer", "training_time"},
		{"--space", spaceFile, "--metric", "loss", "--algo", "grid"},
		{"--space", spaceFile, "--metric", "loss", "--select-within", "0.1", "--prefer", "t:sideways"},
		{"--metric", "loss"},
	} {
		if out, err := tune(args...); err == nil {
			t.Errorf("%v: no error\n%s", args, out)
		}
	}
	if _, err := os.Stat(db); err == nil {
		if p, tr := tuneRuns(t, db); p != nil || len(tr) > 0 {
			t.Fatal("a refused search left runs")
		}
	}
}

func mustMetric(r *store.Run, key string) float64 {
	v, _ := metricOf(r, key)
	return v
}

// TestTuneCtrlC: Ctrl-C during a search stops the running trials (KILLED),
// starts no new one, ends the parent KILLED and exits 130.
func TestTuneCtrlC(t *testing.T) {
	bin := buildMlrun(t)
	dir := t.TempDir()
	proj, db := filepath.Join(dir, "proj"), filepath.Join(dir, "m.db")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "MLproject"), []byte("name: slow\nentry_points:\n  main:\n    parameters:\n      s: {type: float, default: 1}\n    command: \"sleep 60\"\n"), 0o644)
	cmd := exec.Command(bin, "tune", proj, "-S", "s=uniform(0, 1)", "--metric", "m", "--max-trials", "6", "--parallel", "2", "--tracking-uri", "sqlite:///"+db)
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	waitFor(t, 60*time.Second, "two trials did not start", func() bool {
		if _, err := os.Stat(db); err != nil {
			return false
		}
		_, trials := tuneRuns(t, db)
		running := 0
		for _, r := range trials {
			if r.Info.Status == store.StatusRunning {
				running++
			}
		}
		return running == 2
	})
	interrupt(t, cmd, 40*time.Second, &out)
	parent, trials := tuneRuns(t, db)
	if parent.Info.Status != store.StatusKilled || len(trials) != 2 {
		t.Fatalf("parent %s, %d trials\n%s", parent.Info.Status, len(trials), out.String())
	}
	for _, r := range trials {
		if r.Info.Status != store.StatusKilled {
			t.Fatalf("a trial ended %s", r.Info.Status)
		}
	}
}

func tagValue(tags []store.Tag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

// BenchmarkTuneOverhead is the time mlrun spends per trial, the step
// being `true`: proposing, creating the child run, serving it on
// loopback, running the step, keeping its log, reading the objective.
//
//	go test -run '^$' -bench TuneOverhead -benchtime 1x ./cmd/mlrun/
func BenchmarkTuneOverhead(b *testing.B) {
	bin := buildMlrun(b)
	dir := b.TempDir()
	proj := filepath.Join(dir, "proj")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "MLproject"), []byte("name: t\nentry_points:\n  main:\n    parameters:\n      x: {type: float, default: 0}\n    command: \"mlrun log metric m {x}\"\n"), 0o644)
	const trials = 40
	for _, par := range []string{"1", "4"} {
		b.Run("parallel-"+par, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				db := filepath.Join(b.TempDir(), "m.db")
				start := time.Now()
				cmd := exec.Command(bin, "tune", proj, "-S", "x=uniform(0, 1)", "--metric", "m", "--max-trials", fmt.Sprint(trials),
					"--parallel", par, "--tracking-uri", "sqlite:///"+db)
				cmd.Dir = dir
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
				b.ReportMetric(float64(time.Since(start).Milliseconds())/trials, "ms/trial")
			}
		})
	}
}
