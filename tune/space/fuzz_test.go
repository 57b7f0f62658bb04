package space

import (
	"math/rand/v2"
	"testing"
)

// FuzzSpace parses arbitrary space files; each that parses is drawn from,
// and every draw is recovered from its parameters' texts (what a resumed
// search reads back from the trial runs) to the same parameters: a
// broken file is an error, never a panic, and a drawn point always
// belongs to its space.
func FuzzSpace(f *testing.F) {
	for _, seed := range []string{
		"lr: loguniform(-7, 0)\nn: randint(3, 9)\nseed: 7\n",
		"model:\n  choice:\n    - {type: svm, C: \"lognormal(0, 1)\", kernel: \"choice(linear, rbf)\"}\n    - {type: forest, n_estimators: \"qloguniform(2, 6, 1)\"}\n",
		"x: {pchoice: [{p: 0.3, value: a}, {p: 0.7, value: \"uniform(0, 1)\"}]}\n",
		"a: quniform(-1, 1, 0.25)\nb: qnormal(0, 1, 0.5)\nc: uniformint(1, 5)\nd: qlognormal(0, 1, 1)\ne: normal(3, 2)\n",
		"x: choice(1, 2.5, true, null, 'a b')\n",
	} {
		f.Add([]byte(seed), uint64(1))
	}
	f.Fuzz(func(t *testing.T, doc []byte, seed uint64) {
		s, err := Parse(doc)
		if err != nil {
			return
		}
		r := rand.New(rand.NewPCG(seed, 7))
		for range 5 {
			recovered(t, s, s.Draw(r))
		}
	})
}

// recovered checks that a drawn point is recovered from its parameters'
// texts (as a resumed search reads them back from the trial runs) to the
// same parameters, and returns what was recovered.
func recovered(t *testing.T, s *Space, smp Sample) Sample {
	t.Helper()
	params := map[string]string{}
	for _, p := range smp.Params {
		params[p.Name] = p.Value.String()
	}
	got, ok := s.Recover(params)
	if !ok {
		t.Fatalf("drawn %v: not recovered from %v", smp.Params, params)
	}
	if len(got.Params) != len(smp.Params) {
		t.Fatalf("drawn %v, recovered %v", smp.Params, got.Params)
	}
	for i, p := range got.Params {
		if p.Name != smp.Params[i].Name || p.Value.String() != smp.Params[i].Value.String() {
			t.Fatalf("drawn %v, recovered %v", smp.Params, got.Params)
		}
	}
	return got
}
