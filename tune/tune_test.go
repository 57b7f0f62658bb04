package tune

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlrun/mlrun/tune/space"
)

func quadratic(t *testing.T) (*space.Space, Evaluate) {
	s, err := space.Parse([]byte("x: uniform(-5, 5)\ny: quniform(-5, 5, 1)\n"))
	if err != nil {
		t.Fatal(err)
	}
	return s, func(ctx context.Context, n int, smp space.Sample) (string, float64, Status, error) {
		x, _ := smp.Get("x")
		y, _ := smp.Get("y")
		return "run", (x.Float-1)*(x.Float-1) + (y.Float+2)*(y.Float+2), OK, nil
	}
}

// TestSearchFindsAndRepeats: random search over a quadratic keeps the
// best trial, runs exactly MaxTrials, and the same seed at Parallel 1
// proposes the same trials in the same order.
func TestSearchFindsAndRepeats(t *testing.T) {
	s, eval := quadratic(t)
	var calls []Trial
	trials, best, err := Search(context.Background(), Options{Space: s, MaxTrials: 60, Seed: 7, Done: func(tr Trial, b *Trial) { calls = append(calls, tr) }}, eval)
	if err != nil || len(trials) != 60 || len(calls) != 60 {
		t.Fatalf("%d trials, %d callbacks, %v", len(trials), len(calls), err)
	}
	for _, tr := range trials {
		if tr.Status == OK && tr.Value < best.Value {
			t.Fatalf("trial %d (%v) beats the best (%v)", tr.Number, tr.Value, best.Value)
		}
	}
	if best.Value > 2 {
		t.Fatalf("60 random trials found only %v", best.Value)
	}
	again, _, _ := Search(context.Background(), Options{Space: s, MaxTrials: 60, Seed: 7}, eval)
	for i := range trials {
		if trials[i].Value != again[i].Value || trials[i].Number != again[i].Number {
			t.Fatalf("trial %d differs with the same seed", i+1)
		}
	}
	other, _, _ := Search(context.Background(), Options{Space: s, MaxTrials: 5, Seed: 8}, eval)
	if other[0].Value == trials[0].Value {
		t.Fatal("another seed proposed the same first trial")
	}
}

// TestSearchParallelFailuresAndCancel: K trials run at once and never
// more; failed trials are counted, never chosen, and MaxFailures stops
// the proposals; cancelling stops the search with the trials so far.
func TestSearchParallelFailuresAndCancel(t *testing.T) {
	s, eval := quadratic(t)
	var now, peak atomic.Int32
	par := func(ctx context.Context, n int, smp space.Sample) (string, float64, Status, error) {
		c := now.Add(1)
		for {
			p := peak.Load()
			if c <= p || peak.CompareAndSwap(p, c) {
				break
			}
		}
		// Hold the first trials until three run at once.
		for deadline := time.Now().Add(2 * time.Second); peak.Load() < 3 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		now.Add(-1)
		return eval(ctx, n, smp)
	}
	trials, _, err := Search(context.Background(), Options{Space: s, MaxTrials: 12, Parallel: 3, Seed: 1}, par)
	if err != nil || len(trials) != 12 || peak.Load() != 3 {
		t.Fatalf("%d trials, peak %d running, %v", len(trials), peak.Load(), err)
	}
	failing := func(ctx context.Context, n int, smp space.Sample) (string, float64, Status, error) {
		if n%2 == 0 {
			return "r", 0, Failed, errors.New("no metric")
		}
		if n == 3 {
			return "r", math.NaN(), OK, nil
		}
		return eval(ctx, n, smp)
	}
	trials, best, err := Search(context.Background(), Options{Space: s, MaxTrials: 20, MaxFailures: 3, Seed: 1}, failing)
	if err != nil || len(trials) != 4 || best.Number != 1 {
		t.Fatalf("with failures: %d trials, best %+v, %v", len(trials), best, err)
	}
	if trials[2].Status != Failed {
		t.Fatalf("a NaN objective is a failure, got %v", trials[2].Status)
	}
	if _, _, err := Search(context.Background(), Options{Space: s, MaxTrials: 3}, func(ctx context.Context, n int, smp space.Sample) (string, float64, Status, error) {
		return "", 0, Failed, errors.New("x")
	}); !errors.Is(err, ErrNoTrial) {
		t.Fatalf("all failed: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	trials, _, err = Search(ctx, Options{Space: s, MaxTrials: 100, Seed: 2}, func(c context.Context, n int, smp space.Sample) (string, float64, Status, error) {
		if n == 4 {
			cancel()
			return "r", 0, Killed, c.Err()
		}
		return eval(c, n, smp)
	})
	if !errors.Is(err, context.Canceled) || len(trials) != 4 {
		t.Fatalf("cancelled: %d trials, %v", len(trials), err)
	}
	// A resumed search numbers on and counts the history.
	trials, best, _ = Search(context.Background(), Options{Space: s, MaxTrials: 2, Seed: 3, History: trials[:3]}, eval)
	if len(trials) != 5 || trials[4].Number != 5 || best == nil {
		t.Fatalf("resumed: %d trials, last %d", len(trials), trials[len(trials)-1].Number)
	}
	// A resumed trial whose metric is NaN or infinite (as a run logged it)
	// is a failure too: never the best, counted against MaxFailures.
	for _, bad := range []float64{math.NaN(), math.Inf(-1)} {
		hist := []Trial{{Number: 1, Sample: s.Draw(rand.New(rand.NewPCG(1, 1))), Status: OK, Value: bad}}
		trials, best, _ = Search(context.Background(), Options{Space: s, MaxTrials: 1, Seed: 3, History: hist, MaxFailures: 1}, eval)
		if len(trials) != 1 || trials[0].Status != Failed || best != nil {
			t.Fatalf("resumed with a %v objective: %d trials, first %v, best %+v", bad, len(trials), trials[0].Status, best)
		}
	}
}
