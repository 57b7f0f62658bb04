package tune

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mlrun/mlrun/tune/space"
)

// FuzzSuggest gives each algorithm a fuzzed space and a history of its
// points with fuzzed outcomes (any float64 bits: a NaN or infinite one is
// a failure, as Search makes it): every suggestion is a point of the
// space (its parameters recovered, as --resume reads them back), with no
// NaN or infinite number where the space has none, and never a panic.
func FuzzSuggest(f *testing.F) {
	for _, doc := range []string{
		"lr: loguniform(-7, 0)\nn: randint(3, 9)\nq: quniform(-1, 1, 0.25)\nx: normal(0, 1)\nl: qlognormal(0, 1, 2)\nu: uniformint(1, 5)\n",
		"model:\n  choice:\n    - {type: svm, C: \"lognormal(0, 1)\", kernel: \"choice(linear, rbf)\"}\n    - {type: forest, n: \"qloguniform(2, 6, 1)\"}\n",
		"x: {pchoice: [{p: 0.3, value: a}, {p: 0.7, value: \"uniform(0, 1)\"}]}\ny: qnormal(0, 1, 0.5)\n",
		"x: uniform(0, 0)\ny: quniform(0, 1, 5)\nz: loguniform(3, 3)\n",
	} {
		f.Add([]byte(doc), uint64(1), []byte("\x00\x00\x00\x00\x00\x00\xf0\x7f\x01\x02\x03\x04\x05\x06\x07\x08"))
	}
	algos := []Algorithm{TPE{}, HyperoptTPE, TPE{StartupTrials: 1}, Anneal{}, Random{}}
	f.Fuzz(func(t *testing.T, doc []byte, seed uint64, outcomes []byte) {
		s, err := space.Parse(doc)
		if err != nil {
			return
		}
		r := rand.New(rand.NewPCG(seed, 3))
		var history []Trial
		for i := 0; i+8 <= len(outcomes) && len(history) < 40; i += 8 {
			v := math.Float64frombits(binary.LittleEndian.Uint64(outcomes[i:]))
			st := OK
			if math.IsNaN(v) || math.IsInf(v, 0) {
				st = Failed
			}
			history = append(history, Trial{Number: len(history) + 1, Sample: s.Draw(r), Status: st, Value: v})
		}
		for len(history) < 12 { // past every startup
			history = append(history, Trial{Number: len(history) + 1, Sample: s.Draw(r), Status: OK, Value: float64(len(history) % 5)})
		}
		for _, a := range algos {
			smp := a.Suggest(s, history, r)
			params := map[string]string{}
			for _, p := range smp.Params {
				params[p.Name] = p.Value.String()
				if v := p.Value.Number(); p.Value.Kind != space.Text && (math.IsNaN(v) || math.IsInf(v, 0)) && !nonFinite(s) {
					t.Fatalf("%s suggested %s = %v in %q", a.Name(), p.Name, p.Value, doc)
				}
			}
			if _, ok := s.Recover(params); !ok {
				t.Fatalf("%s suggested %v, no point of %q", a.Name(), params, doc)
			}
		}
	})
}

// nonFinite reports whether a space draws NaN or infinities by itself
// (a constant .nan, a uniform to .inf).
func nonFinite(s *space.Space) bool {
	r := rand.New(rand.NewPCG(1, 1))
	for range 50 {
		for _, p := range s.Draw(r).Params {
			if v := p.Value.Number(); p.Value.Kind != space.Text && (math.IsNaN(v) || math.IsInf(v, 0)) {
				return true
			}
		}
	}
	return false
}
