package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/mlrun/mlrun/project"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/runner/launch"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/tune"
	"github.com/mlrun/mlrun/tune/space"
)

// The tags of a tuning parent run.
const (
	tagTuneAlgo   = "mlrun.tune.algo"
	tagTuneSpace  = "mlrun.tune.space"
	tagTuneMetric = "mlrun.tune.metric"
	tagTuneMode   = "mlrun.tune.mode"
	tagTuneSeed   = "mlrun.tune.seed"
	tagTuneBest   = "mlrun.tune.best_run_id"
	tagTuneNote   = "mlrun.tune.note"
	// tagTuneSelected names the trial chosen to ship (--select-within).
	tagTuneSelected = "mlrun.tune.selected_run_id"
)

func tuneCommand() *cli.Command {
	return &cli.Command{
		Name:      "tune",
		Usage:     "search an entry point's parameters over a Hyperopt space, every trial a child run",
		ArgsUsage: "URI",
		Flags: append(projectFlags(),
			&cli.StringFlag{Name: "space", Usage: "the search space: a YAML file of NAME: expression (Hyperopt's hp expressions without the label)"},
			&cli.StringSliceFlag{Name: "S", Usage: "add or override one dimension: NAME=expression (repeatable)"},
			&cli.StringFlag{Name: "metric", Usage: "the metric each trial logs, whose latest value is the objective (required, but with --resume)"},
			&cli.StringFlag{Name: "resume", Usage: "continue the search of this parent run: its finished trials are the history, --max-trials more run (space, metric, mode and algorithm from its tags unless given)"},
			&cli.StringFlag{Name: "mode", Value: "min", Usage: "min or max"},
			&cli.StringFlag{Name: "algo", Value: "tpe", Usage: "the search algorithm: tpe (mlrun's tuning of Hyperopt's), hyperopt-tpe (Hyperopt's own defaults), anneal, random, or grid (every point of a finite space)"},
			&cli.IntFlag{Name: "max-trials", Value: 20, Usage: "how many trials"},
			&cli.IntFlag{Name: "parallel", Value: 1, Usage: "trials running at once"},
			&cli.Uint64Flag{Name: "seed", Usage: "the random seed (default: a new one, printed and tagged)"},
			&cli.IntFlag{Name: "max-failures", Usage: "stop after this many failed trials (default: never)"},
			&cli.StringFlag{Name: "run-name", Usage: "name of the parent run (default tune-<metric>)"},
			&cli.Float64Flag{Name: "select-within", Usage: "choose the trial to ship among those within this fraction of the best objective (0.01: 1 %), by --prefer"},
			&cli.StringFlag{Name: "prefer", Usage: "with --select-within: a metric or param of the trials, KEY[:min|max] (default min), e.g. training_time"},
			&cli.StringFlag{Name: "register-model", Usage: "register the chosen trial's (or the best one's) 'model' artifact as a new version of this model"},
		),
		Action: tuneProject,
	}
}

// readSpace reads --space and applies -S.
func readSpace(c *cli.Context) (*space.Space, []byte, error) {
	sp := &space.Space{}
	var raw []byte
	if f := c.String("space"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("--space: %w", err)
		}
		if sp, err = space.Parse(b); err != nil {
			return nil, nil, fmt.Errorf("--space %s: %w", f, err)
		}
		raw = b
	}
	for _, kv := range c.StringSlice("S") {
		name, expr, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, nil, fmt.Errorf("-S %q: want NAME=expression", kv)
		}
		d, err := space.ParseExpr(expr)
		if err != nil {
			return nil, nil, fmt.Errorf("-S %s: %w", name, err)
		}
		if err := sp.Set(strings.TrimSpace(name), d); err != nil {
			return nil, nil, fmt.Errorf("-S: %w", err)
		}
		raw = append(raw, []byte("\n"+strings.TrimSpace(name)+": "+strconv.Quote(expr))...)
	}
	if len(sp.Params) == 0 {
		return nil, nil, errors.New("tune: give the search space with --space FILE or -S NAME=expression")
	}
	return sp, raw, nil
}

// spaceJSON is the space as the parent run's tag shows it.
func spaceJSON(raw []byte) string {
	var v map[string]any
	if yaml.Unmarshal(raw, &v) != nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func tuneProject(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("tune: want one project URI (a folder or a git URI)")
	}
	if c.Int("max-trials") < 1 || c.Int("parallel") < 1 {
		return errors.New("--max-trials and --parallel must be at least 1")
	}
	fixed, err := parseParams(c.StringSlice("param-list"))
	if err != nil {
		return err
	}
	resume := c.String("resume")
	var sp *space.Space
	var raw []byte
	if resume == "" || c.IsSet("space") || c.IsSet("S") {
		if sp, raw, err = readSpace(c); err != nil {
			return err
		}
	}
	metric, mode, algoName := c.String("metric"), c.String("mode"), c.String("algo")
	if resume == "" && metric == "" {
		return errors.New("tune: --metric is required: the metric whose latest value is each trial's objective")
	}

	uri := firstOf(c.String("tracking-uri"), DefaultTrackingURI)
	st, err := openStore(c.Context, uri, "")
	if err != nil {
		return err
	}
	defer st.Close()
	var parent *store.Run
	var history []tune.Trial
	seed := c.Uint64("seed")
	if resume != "" {
		if parent, err = st.GetRun(c.Context, resume); err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		tag := func(k string) string { v, _ := parent.Tag(k); return v }
		if tag(tagTuneMetric) == "" {
			return fmt.Errorf("--resume %s: that run is not the parent run of a search (no %s tag)", resume, tagTuneMetric)
		}
		metric = firstOf(c.String("metric"), tag(tagTuneMetric))
		if !c.IsSet("mode") {
			mode = tag(tagTuneMode)
		}
		if !c.IsSet("algo") {
			algoName = tag(tagTuneAlgo)
		}
		if sp == nil {
			raw = []byte(tag(tagTuneSpace))
			if sp, err = space.Parse(raw); err != nil {
				return fmt.Errorf("--resume %s: the space in its %s tag: %w", resume, tagTuneSpace, err)
			}
		}
		if history, err = tuneHistory(c, st, parent, sp, metric); err != nil {
			return err
		}
		if !c.IsSet("seed") {
			prev, _ := strconv.ParseUint(tag(tagTuneSeed), 10, 64)
			seed = prev + uint64(len(history)) + 1 // not the draws of the first session again
		}
	} else if !c.IsSet("seed") {
		var b [8]byte
		rand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:]) >> 1
	}
	var algo tune.Algorithm
	switch algoName {
	case "tpe":
		algo = tune.TPE{}
	case "hyperopt-tpe":
		algo = hyperoptTPE{}
	case "random":
		algo = tune.Random{}
	case "grid":
		g, err := tune.NewGrid(sp)
		if err != nil {
			return fmt.Errorf("--algo grid: %w", err)
		}
		algo = g
	case "anneal":
		algo = tune.Anneal{}
	default:
		return fmt.Errorf("--algo %s: want tpe, hyperopt-tpe, anneal, random or grid", algoName)
	}
	maximize := false
	switch mode {
	case "min":
	case "max":
		maximize = true
	default:
		return fmt.Errorf("--mode %s: want min or max", mode)
	}
	for _, kv := range fixed {
		for _, p := range sp.Params {
			if p.Name == kv.Key {
				return fmt.Errorf("parameter %s is both fixed (-P) and searched (the space)", kv.Key)
			}
		}
	}
	pick, err := parsePrefer(c)
	if err != nil {
		return err
	}
	if c.String("register-model") != "" {
		if _, ok := st.(registry.Store); !ok {
			return fmt.Errorf("--register-model: the tracking store %s has no model registry", uri)
		}
	}
	req, err := launchRequest(c, st, uri, nil)
	if err != nil {
		return err
	}
	// A trial's parameters: the fixed ones, then the point's.
	paramsOf := func(s space.Sample) []project.KV {
		out := append([]project.KV(nil), fixed...)
		for _, p := range s.Params {
			out = append(out, project.KV{Key: p.Name, Value: p.Value.String()})
		}
		return out
	}
	// Everything that can be wrong with the project is found before any
	// run exists: the entry point is rendered with a point of the prior.
	check := req
	check.Params = paramsOf(sp.Draw(mrand.New(mrand.NewPCG(seed, 1))))
	if err := launch.Check(c.Context, check); err != nil {
		return err
	}
	if ended, err := launch.Reap(c.Context, st); err == nil && len(ended) > 0 {
		fmt.Fprintf(c.App.ErrWriter, "mlrun: ended %d run(s) left RUNNING by an mlrun that exited: %s\n", len(ended), strings.Join(ended, ", "))
	}
	var expID, name string
	if parent != nil {
		expID, name = parent.Info.ExperimentID, parent.Info.RunName
		// This process drives the parent now (launch.Reap reads the tags):
		// named before the run is RUNNING again, so no reaper ends it.
		for _, t := range launch.RunnerTags() {
			if err := st.SetTag(c.Context, parent.Info.RunID, t); err != nil {
				return fmt.Errorf("--resume: %w", err)
			}
		}
		running := store.StatusRunning
		if _, err := st.UpdateRun(c.Context, parent.Info.RunID, store.UpdateRun{Status: &running}); err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
	} else {
		if expID, err = launch.ResolveExperiment(c.Context, req); err != nil {
			return err
		}
		name = firstOf(c.String("run-name"), "tune-"+metric)
		parent, err = st.CreateRun(c.Context, store.CreateRun{ExperimentID: expID, RunName: name, UserID: launch.CurrentUser(), StartTime: time.Now().UnixMilli(),
			// Killed outright, the search's parent is ended by the next
			// mlrun on this host (launch.Reap), as its trials are.
			Tags: append([]store.Tag{{Key: launch.TagUser, Value: launch.CurrentUser()}, {Key: launch.TagSourceName, Value: c.Args().First()},
				{Key: launch.TagSourceType, Value: "PROJECT"}, {Key: launch.TagEntryPoint, Value: c.String("entry-point")},
				{Key: tagTuneAlgo, Value: algo.Name()}, {Key: tagTuneSpace, Value: spaceJSON(raw)}, {Key: tagTuneMetric, Value: metric},
				{Key: tagTuneMode, Value: mode}, {Key: tagTuneSeed, Value: strconv.FormatUint(seed, 10)}}, launch.RunnerTags()...)})
		if err != nil {
			return err
		}
		if len(fixed) > 0 {
			var ps []store.Param
			for _, kv := range fixed {
				ps = append(ps, store.Param{Key: kv.Key, Value: kv.Value})
			}
			st.LogBatch(c.Context, parent.Info.RunID, nil, ps, nil)
		}
	}
	req.ExperimentID, req.ExperimentName = expID, ""
	pid := parent.Info.RunID
	w := c.App.ErrWriter
	fmt.Fprintf(w, "=== Tuning %s (%s %s, %s, %d trials, %d at a time, seed %d) in parent run '%s' ===\n",
		c.Args().First(), mode, metric, algo.Name(), c.Int("max-trials"), c.Int("parallel"), seed, pid)
	if len(history) > 0 {
		fmt.Fprintf(w, "resuming after %d finished trials\n", len(history))
	}

	started := time.Now()
	done, failed := 0, 0
	var launched atomic.Int64
	eval := func(ctx context.Context, n int, s space.Sample) (string, float64, tune.Status, error) {
		launched.Add(1)
		r := req
		r.Params = paramsOf(s)
		r.ParentRunID = pid
		r.RunName = fmt.Sprintf("%s-trial-%d", name, n)
		r.Stdout, r.Stderr = io.Discard, io.Discard // kept in each trial's mlrun/step.log
		out, err := launch.Execute(ctx, r)
		if out == nil {
			return "", 0, tune.Failed, err
		}
		switch out.Status {
		case store.StatusKilled:
			return out.RunID, 0, tune.Killed, err
		case store.StatusFinished:
		default:
			return out.RunID, 0, tune.Failed, fmt.Errorf("the trial ended %s (exit code %d)", out.Status, out.ExitCode)
		}
		run, err := st.GetRun(context.WithoutCancel(ctx), out.RunID)
		if err != nil {
			return out.RunID, 0, tune.Failed, err
		}
		if v, ok := metricOf(run, metric); ok {
			return out.RunID, v, tune.OK, nil
		}
		// It ran but never gave the objective: a failed trial.
		failedStatus := store.StatusFailed
		st.UpdateRun(context.WithoutCancel(ctx), out.RunID, store.UpdateRun{Status: &failedStatus})
		st.SetTag(context.WithoutCancel(ctx), out.RunID, store.Tag{Key: tagTuneNote, Value: "the trial never logged " + metric})
		return out.RunID, 0, tune.Failed, fmt.Errorf("the trial never logged %s", metric)
	}
	onDone := func(t tune.Trial, best *tune.Trial) {
		done++
		what := fmt.Sprintf("%s=%s", metric, space.PyFloat(t.Value))
		if t.Status != tune.OK {
			failed++
			what = fmt.Sprintf("%s: %v", t.Status, t.Err)
		}
		bestText := "-"
		if best != nil {
			bestText = space.PyFloat(best.Value)
			st.LogMetric(context.WithoutCancel(c.Context), pid, store.Metric{Key: "best_" + metric, Value: best.Value, Timestamp: time.Now().UnixMilli(), Step: int64(t.Number)})
		}
		eta := ""
		if left := c.Int("max-trials") - done; left > 0 {
			eta = fmt.Sprintf(", about %s left", (time.Since(started) / time.Duration(done) * time.Duration(left)).Round(time.Second))
		}
		running := int(launched.Load()) - done
		fmt.Fprintf(w, "trial %d/%d %s  [%s]  done %d, running %d, failed %d, best %s%s\n", t.Number, len(history)+c.Int("max-trials"), what, paramText(t.Sample), done, running, failed, bestText, eta)
	}
	// Search's error says what status and best say: no trial succeeded
	// (best is nil), or the search was cancelled (c.Context is done).
	trials, best, _ := tune.Search(c.Context, tune.Options{Space: sp, Algorithm: algo, MaxTrials: c.Int("max-trials"), Parallel: c.Int("parallel"),
		Seed: seed, MaxFailures: c.Int("max-failures"), Maximize: maximize, History: history, Done: onDone}, eval)
	ctx := context.WithoutCancel(c.Context)
	status := store.StatusFinished
	switch {
	case c.Context.Err() != nil:
		status = store.StatusKilled
	case best == nil:
		status = store.StatusFailed
	}
	if best != nil {
		st.SetTag(ctx, pid, store.Tag{Key: tagTuneBest, Value: best.RunID})
		var ps []store.Param
		for _, p := range best.Sample.Params {
			ps = append(ps, store.Param{Key: p.Name, Value: p.Value.String()})
		}
		if err := st.LogBatch(ctx, pid, nil, ps, nil); err != nil {
			fmt.Fprintf(w, "mlrun: the best parameters were not logged on the parent: %v\n", err)
		}
	}
	var shipErr error
	if best != nil && status != store.StatusKilled {
		shipErr = ship(c, st, pid, trials, best, metric, maximize, pick)
	}
	end := time.Now().UnixMilli()
	st.UpdateRun(ctx, pid, store.UpdateRun{Status: &status, EndTime: &end})
	summary(c.App.Writer, trials, best, metric, maximize)
	fmt.Fprintln(w, viewHint(uri, expID, pid))
	switch {
	case status == store.StatusKilled:
		return cli.Exit("", 130)
	case best == nil:
		return fmt.Errorf("tune: %w (%d trials failed; see their runs' mlrun/step.log)", tune.ErrNoTrial, failed)
	}
	return shipErr
}

// preference is --select-within and --prefer.
type preference struct {
	within float64
	key    string
	max    bool
}

func parsePrefer(c *cli.Context) (*preference, error) {
	within, prefer := c.Float64("select-within"), c.String("prefer")
	switch {
	case !c.IsSet("select-within") && prefer == "":
		return nil, nil
	case prefer == "" || !c.IsSet("select-within"):
		return nil, errors.New("--select-within and --prefer go together: --select-within 0.01 --prefer training_time")
	case within < 0 || math.IsNaN(within):
		return nil, fmt.Errorf("--select-within %v: want a fraction of the best objective, such as 0.01", within)
	}
	key, dir, _ := strings.Cut(prefer, ":")
	if dir != "" && dir != "min" && dir != "max" {
		return nil, fmt.Errorf("--prefer %s: the direction is min or max", prefer)
	}
	return &preference{within: within, key: key, max: dir == "max"}, nil
}

// ship chooses the trial to ship (the best, or by --select-within and
// --prefer), tags the parent with it, and registers its model when asked.
func ship(c *cli.Context, st store.Store, pid string, trials []tune.Trial, best *tune.Trial, metric string, maximize bool, pick *preference) error {
	ctx := context.WithoutCancel(c.Context)
	chosen := best.RunID
	reason := "the best " + metric + " (" + space.PyFloat(best.Value) + ")"
	if pick != nil {
		tol := pick.within * math.Abs(best.Value)
		if best.Value == 0 {
			tol = pick.within
		}
		var bestKey float64
		found := false
		for _, t := range trials {
			if t.Status != tune.OK || math.Abs(t.Value-best.Value) > tol {
				continue
			}
			r, err := st.GetRun(ctx, t.RunID)
			if err != nil {
				return err
			}
			v, ok := metricOf(r, pick.key)
			if !ok {
				for _, p := range r.Params {
					if p.Key == pick.key {
						v, err = strconv.ParseFloat(p.Value, 64)
						ok = err == nil
					}
				}
			}
			if !ok {
				continue
			}
			if !found || (pick.max && v > bestKey) || (!pick.max && v < bestKey) {
				chosen, bestKey, found = t.RunID, v, true
				way := map[bool]string{false: "smallest", true: "largest"}[pick.max]
				reason = fmt.Sprintf("within %s of the best %s (%s), the %s %s (%s)", space.PyFloat(pick.within), metric, space.PyFloat(best.Value), way, pick.key, space.PyFloat(v))
			}
		}
		if !found {
			fmt.Fprintf(c.App.ErrWriter, "mlrun: no trial within %s of the best has %s: the best one is chosen\n", space.PyFloat(pick.within), pick.key)
		}
		st.SetTag(ctx, pid, store.Tag{Key: tagTuneSelected, Value: chosen})
		fmt.Fprintf(c.App.Writer, "selected_run_id: %s (%s)\n", chosen, reason)
	}
	name := c.String("register-model")
	if name == "" {
		return nil
	}
	run, err := st.GetRun(ctx, chosen)
	if err != nil {
		return err
	}
	source := strings.TrimRight(run.Info.ArtifactURI, "/") + "/model"
	if ok, err := artifactExists(c, st, source); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("--register-model: trial run %s logged no 'model' artifact (%s)", chosen, source)
	}
	reg := st.(registry.Store)
	if _, err := reg.CreateRegisteredModel(ctx, name, nil, ""); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return err
	}
	v, err := reg.CreateModelVersion(ctx, registry.CreateVersion{Name: name, Source: source, RunID: chosen,
		Tags: []store.Tag{{Key: "mlrun.tune.parent_run_id", Value: pid}, {Key: "mlrun.tune.reason", Value: reason}}})
	if err != nil {
		return fmt.Errorf("--register-model: %w", err)
	}
	fmt.Fprintf(c.App.ErrWriter, "Registered version %s of model '%s' from trial run %s: %s\n", v.Version, name, chosen, reason)
	return nil
}

func paramText(s space.Sample) string {
	parts := make([]string, len(s.Params))
	for i, p := range s.Params {
		parts[i] = p.Name + "=" + p.Value.String()
	}
	return strings.Join(parts, " ")
}

// summary prints the best trials, best first, with their parameters.
func summary(w io.Writer, trials []tune.Trial, best *tune.Trial, metric string, maximize bool) {
	var ok []tune.Trial
	for _, t := range trials {
		if t.Status == tune.OK {
			ok = append(ok, t)
		}
	}
	sort.SliceStable(ok, func(i, j int) bool {
		if maximize {
			return ok[i].Value > ok[j].Value
		}
		return ok[i].Value < ok[j].Value
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "trial\trun_id\t%s\tparams\n", metric)
	for i, t := range ok {
		if i == 10 {
			break
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", t.Number, t.RunID, space.PyFloat(t.Value), paramText(t.Sample))
	}
	tw.Flush()
	if best != nil {
		fmt.Fprintf(w, "best_run_id: %s\nbest_%s: %s\n", best.RunID, metric, space.PyFloat(best.Value))
	}
}

// hyperoptTPE is tune.HyperoptTPE under its own name in the parent's tags.
type hyperoptTPE struct{}

func (hyperoptTPE) Name() string { return "hyperopt-tpe" }

func (hyperoptTPE) Suggest(s *space.Space, h []tune.Trial, r *mrand.Rand) space.Sample {
	return tune.HyperoptTPE.Suggest(s, h, r)
}

// tuneHistory reads a parent's trials back, in the order they started:
// a FINISHED one with the metric is a result, a FAILED one a failure;
// killed or unfinished ones are not history (they will be tried anew). A
// trial whose parameters are no point of sp is left out with a line.
func tuneHistory(c *cli.Context, st store.Store, parent *store.Run, sp *space.Space, metric string) ([]tune.Trial, error) {
	var children []*store.Run
	tok := ""
	for {
		runs, next, err := st.SearchRuns(c.Context, store.SearchRuns{ExperimentIDs: []string{parent.Info.ExperimentID},
			Filter: "tags.mlflow.parentRunId = '" + parent.Info.RunID + "'", OrderBy: []string{"attributes.start_time ASC"}, MaxResults: 1000, PageToken: tok})
		if err != nil {
			return nil, fmt.Errorf("--resume: the trials of %s: %w", parent.Info.RunID, err)
		}
		children = append(children, runs...)
		if tok = next; tok == "" {
			break
		}
	}
	var history []tune.Trial
	for i, r := range children {
		params := map[string]string{}
		for _, p := range r.Params {
			params[p.Key] = p.Value
		}
		smp, ok := sp.Recover(params)
		if !ok {
			fmt.Fprintf(c.App.ErrWriter, "mlrun: trial run %s is not a point of this space: left out of the history\n", r.Info.RunID)
			continue
		}
		t := tune.Trial{Number: i + 1, Sample: smp, RunID: r.Info.RunID, Status: tune.Failed}
		switch r.Info.Status {
		case store.StatusFinished:
			if v, ok := metricOf(r, metric); ok {
				t.Status, t.Value = tune.OK, v
			}
		case store.StatusFailed:
		default:
			continue
		}
		history = append(history, t)
	}
	return history, nil
}

// metricOf is a run's latest value of a metric.
func metricOf(r *store.Run, key string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Key == key {
			return m.Value, true
		}
	}
	return 0, false
}
