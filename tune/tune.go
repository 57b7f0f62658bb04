// Package tune is a hyperparameter search: it proposes points of a
// Hyperopt search space (tune/space) with an algorithm, has each one
// evaluated (by mlrun tune: a child run of a project), and keeps the best.
// Trials run K at a time; an algorithm proposes with the results it has,
// as Hyperopt's asynchronous mode does.
package tune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mlrun/mlrun/tune/space"
)

// Status is how a trial ended.
type Status int

// Trial outcomes.
const (
	OK     Status = iota // the objective was measured
	Failed               // the trial failed or never gave the metric
	Killed               // stopped (Ctrl-C)
)

func (s Status) String() string {
	return [...]string{"OK", "FAILED", "KILLED"}[s]
}

// Trial is one evaluated point.
type Trial struct {
	Number int // from 1
	Sample space.Sample
	RunID  string
	Status Status
	Value  float64 // the objective, when Status is OK
	Err    error   // why it failed
}

// Algorithm proposes the next point to try from the space and the trials
// finished so far. One whose points run out (Grid) also has Exhausted()
// bool, and the search stops there.
type Algorithm interface {
	Name() string
	Suggest(s *space.Space, history []Trial, r *rand.Rand) space.Sample
}

// Random draws every point from the prior (Hyperopt's rand.suggest).
type Random struct{}

// Name implements Algorithm.
func (Random) Name() string { return "random" }

// Suggest implements Algorithm.
func (Random) Suggest(s *space.Space, _ []Trial, r *rand.Rand) space.Sample { return s.Draw(r) }

// Evaluate runs one trial and says how it ended.
type Evaluate func(ctx context.Context, number int, s space.Sample) (runID string, value float64, status Status, err error)

// Options configure a search.
type Options struct {
	Space       *space.Space
	Algorithm   Algorithm
	MaxTrials   int
	Parallel    int    // trials running at once (at least 1)
	Seed        uint64 // the same seed proposes the same trials, in order, at Parallel 1
	MaxFailures int    // stop proposing after this many failed trials; 0: never
	Maximize    bool
	// History are trials finished earlier (a resumed search); numbering
	// goes on after them and the algorithm sees them.
	History []Trial
	// Done is called, in order of completion, as each trial ends, with
	// the best trial so far (nil while none succeeded).
	Done func(t Trial, best *Trial)
}

// ErrNoTrial: the search ended without a successful trial.
var ErrNoTrial = errors.New("no trial succeeded")

// Search runs trials until MaxTrials have run, MaxFailures have failed or
// ctx is cancelled (the running trials are then waited for: Evaluate
// stops them), and returns every trial and the best.
func Search(ctx context.Context, o Options, eval Evaluate) ([]Trial, *Trial, error) {
	if o.Parallel < 1 {
		o.Parallel = 1
	}
	if o.Algorithm == nil {
		o.Algorithm = Random{}
	}
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	trials := append([]Trial(nil), o.History...)
	var best *Trial
	failures := 0
	for i := range trials {
		trials[i] = measured(trials[i])
		best = better(best, &trials[i], o.Maximize)
		if trials[i].Status == Failed {
			failures++
		}
	}
	next := 1
	for _, t := range trials {
		next = max(next, t.Number+1)
	}
	last := next + o.MaxTrials - 1
	results := make(chan Trial)
	running := 0
	exhausted, _ := o.Algorithm.(interface{ Exhausted() bool })
	stop := func() bool {
		return ctx.Err() != nil || next > last || (o.MaxFailures > 0 && failures >= o.MaxFailures) ||
			(exhausted != nil && exhausted.Exhausted())
	}
	for {
		for running < o.Parallel && !stop() {
			sample := o.Algorithm.Suggest(o.Space, trials, r)
			n := next
			next++
			running++
			go func() {
				runID, v, st, err := eval(ctx, n, sample)
				results <- measured(Trial{Number: n, Sample: sample, RunID: runID, Status: st, Value: v, Err: err})
			}()
		}
		if running == 0 {
			break
		}
		t := <-results
		running--
		trials = append(trials, t)
		if t.Status == Failed {
			failures++
		}
		best = better(best, &trials[len(trials)-1], o.Maximize)
		if o.Done != nil {
			o.Done(t, best)
		}
	}
	if best == nil {
		return trials, nil, ErrNoTrial
	}
	return trials, best, ctx.Err()
}

// measured is t, failed when its objective is NaN or infinite: no
// algorithm can rank it, whether it ran now or in a resumed search.
func measured(t Trial) Trial {
	if t.Status == OK && (math.IsNaN(t.Value) || math.IsInf(t.Value, 0)) {
		t.Status, t.Err = Failed, fmt.Errorf("the objective is %v", t.Value)
	}
	return t
}

// better returns the better of the best so far and t.
func better(best, t *Trial, maximize bool) *Trial {
	if t.Status != OK {
		return best
	}
	if best == nil || (maximize && t.Value > best.Value) || (!maximize && t.Value < best.Value) {
		c := *t
		return &c
	}
	return best
}
