package tune

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/tune/space"
)

// benchFunctions are Branin, 6-dimensional Hartmann and 4-dimensional
// Rosenbrock on [-2, 2]⁴, as testdata/optuna_bench.py defines them.
func benchFunctions() map[string]struct {
	space string
	f     func(space.Sample) float64
} {
	get := func(s space.Sample, k string) float64 { v, _ := s.Get(k); return v.Float }
	a := [4][6]float64{{10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14}, {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}}
	p := [4][6]float64{{1312, 1696, 5569, 124, 8283, 5886}, {2329, 4135, 8307, 3736, 1004, 9991}, {2348, 1451, 3522, 2883, 3047, 6650}, {4047, 8828, 8732, 5743, 1091, 381}}
	alpha := [4]float64{1, 1.2, 3, 3.2}
	return map[string]struct {
		space string
		f     func(space.Sample) float64
	}{
		"branin": {"x: uniform(-5, 10)\ny: uniform(0, 15)\n", func(s space.Sample) float64 {
			x, y := get(s, "x"), get(s, "y")
			b, c := 5.1/(4*math.Pi*math.Pi), 5/math.Pi
			return math.Pow(y-b*x*x+c*x-6, 2) + 10*(1-1/(8*math.Pi))*math.Cos(x) + 10
		}},
		"hartmann6": {"x0: uniform(0, 1)\nx1: uniform(0, 1)\nx2: uniform(0, 1)\nx3: uniform(0, 1)\nx4: uniform(0, 1)\nx5: uniform(0, 1)\n", func(s space.Sample) float64 {
			sum := 0.0
			for i := 0; i < 4; i++ {
				in := 0.0
				for j := 0; j < 6; j++ {
					in += a[i][j] * math.Pow(get(s, fmt.Sprint("x", j))-p[i][j]*1e-4, 2)
				}
				sum += alpha[i] * math.Exp(-in)
			}
			return -sum
		}},
		"rosenbrock4": {"x0: uniform(-2, 2)\nx1: uniform(-2, 2)\nx2: uniform(-2, 2)\nx3: uniform(-2, 2)\n", func(s space.Sample) float64 {
			sum := 0.0
			for i := 0; i < 3; i++ {
				x, y := get(s, fmt.Sprint("x", i)), get(s, fmt.Sprint("x", i+1))
				sum += 100*math.Pow(y-x*x, 2) + math.Pow(1-x, 2)
			}
			return sum
		}},
	}
}

func quartiles(xs []float64) string {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	q := func(f float64) float64 { return s[int(f*float64(len(s)-1)+0.5)] }
	return fmt.Sprintf("%8.3f [%.3f, %.3f]", q(0.5), q(0.25), q(0.75))
}

// BenchmarkAgainstOptuna compares, in one run on the same functions, the
// best value after 50 trials over 20 seeds (median [quartiles]) of
// mlrun's TPE, Hyperopt's settings and random search with Optuna 3.1's
// TPESampler and RandomSampler (Debian's python3-optuna, in its own
// process), and reports the time TPE spends proposing a trial.
//
//	go test -run '^$' -bench AgainstOptuna -benchtime 1x ./tune/
func BenchmarkAgainstOptuna(b *testing.B) {
	const trials, seeds = 50, 20
	var optuna map[string]map[string][]float64
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		out, err := exec.Command(py, "testdata/optuna_bench.py", fmt.Sprint(trials), fmt.Sprint(seeds)).Output()
		if err == nil && json.Unmarshal(out, &optuna) == nil {
			break
		}
	}
	if optuna == nil {
		b.Skip("Optuna is not installed: apt-get install python3-optuna")
	}
	var lines []string
	var proposeTime time.Duration
	proposals := 0
	for _, name := range []string{"branin", "hartmann6", "rosenbrock4"} {
		fn := benchFunctions()[name]
		sp, err := space.Parse([]byte(fn.space))
		if err != nil {
			b.Fatal(err)
		}
		for _, algo := range []Algorithm{TPE{}, HyperoptTPE, Anneal{}, Random{}} {
			var bests []float64
			for seed := uint64(1); seed <= seeds; seed++ {
				start := time.Now()
				_, best, err := Search(context.Background(), Options{Space: sp, Algorithm: algo, MaxTrials: trials, Seed: seed},
					func(ctx context.Context, n int, s space.Sample) (string, float64, Status, error) {
						return "", fn.f(s), OK, nil
					})
				if err != nil {
					b.Fatal(err)
				}
				if _, ok := algo.(TPE); ok && algo.(TPE).StartupTrials == 0 {
					proposeTime += time.Since(start)
					proposals += trials
				}
				bests = append(bests, best.Value)
			}
			label := algo.Name()
			if t, ok := algo.(TPE); ok && t.SqrtSplit {
				label = "hyperopt-tpe"
			}
			lines = append(lines, fmt.Sprintf("%-12s %-14s %s", name, label, quartiles(bests)))
		}
		for _, s := range []string{"optuna-tpe", "optuna-random"} {
			lines = append(lines, fmt.Sprintf("%-12s %-14s %s", name, s, quartiles(optuna[name][s])))
		}
	}
	b.Logf("best after %d trials, %d seeds: median [quartiles]\n%s\nmlrun's TPE: %v per proposal (in-process, 50-trial searches)",
		trials, seeds, strings.Join(lines, "\n"), proposeTime/time.Duration(proposals))
}
