package space

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

func draws(t *testing.T, expr string, n int) []Value {
	t.Helper()
	d, err := ParseExpr(expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	s := &Space{Params: []Param{{Name: "x", Dim: d}}}
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]Value, n)
	for i := range out {
		v, ok := s.Draw(r).Get("x")
		if !ok {
			t.Fatalf("%s: no value", expr)
		}
		out[i] = v
	}
	return out
}

// counts tallies the values' texts.
func counts(vs []Value) map[string]int {
	m := map[string]int{}
	for _, v := range vs {
		m[v.String()]++
	}
	return m
}

// TestHyperoptSemantics pins each expression to what Hyperopt 0.3.0 gives
// (shared/spec/hyperopt-spaces.md): bounds, rounding (half to even, and
// q-sets that leave [low, high]), which are integers, the surprises.
func TestHyperoptSemantics(t *testing.T) {
	const n = 10000
	for _, v := range draws(t, "uniform(-1, 1)", n) {
		if v.Kind != Float || v.Float < -1 || v.Float >= 1 {
			t.Fatalf("uniform(-1, 1) gave %v", v)
		}
	}
	for _, v := range draws(t, "loguniform(-5, 0)", n) {
		if v.Float < math.Exp(-5) || v.Float >= 1 {
			t.Fatalf("loguniform(-5, 0) gave %v", v.Float)
		}
	}
	sets := map[string]string{
		"quniform(1, 10, 4)": "0.0 4.0 8.0",
		"quniform(0, 11, 4)": "0.0 12.0 4.0 8.0",
		"randint(10)":        "0 1 2 3 4 5 6 7 8 9",
		"randint(5, 10)":     "5 6 7 8 9",
		"uniformint(1, 5)":   "1 2 3 4 5",
		"choice(1, 2.5, a)":  "1 2.5 a",
	}
	for expr, want := range sets {
		c := counts(draws(t, expr, n))
		var got []string
		for k := range c {
			got = append(got, k)
		}
		sort.Strings(got)
		if strings.Join(got, " ") != want {
			t.Errorf("%s: values %v, want %s", expr, got, want)
		}
	}
	for _, v := range draws(t, "randint(10)", 100) {
		if v.Kind != Int {
			t.Fatalf("randint gives ints, got %v", v)
		}
	}
	for _, v := range draws(t, "quniform(2, 10, 1)", 100) {
		if v.Kind != Float || !strings.HasSuffix(v.String(), ".0") {
			t.Fatalf("quniform gives floats such as 3.0, got %q", v.String())
		}
	}
	// The two ends of quniform(2, 10, 1) and uniformint(1, 5) are half as
	// likely as the inner values.
	for expr, ends := range map[string][2]string{"quniform(2, 10, 1)": {"2.0", "10.0"}, "uniformint(1, 5)": {"1", "5"}} {
		c := counts(draws(t, expr, n*4))
		inner := 0
		for k, v := range c {
			if k != ends[0] && k != ends[1] {
				inner += v
			}
		}
		perInner := float64(inner) / float64(len(c)-2)
		for _, e := range ends {
			if r := float64(c[e]) / perInner; r < 0.4 || r > 0.6 {
				t.Errorf("%s: the end %s is %.2f times as likely as an inner value, want 0.5", expr, e, r)
			}
		}
	}
	// qloguniform(-5, 0, 1) is 0.0 about 87 % of the time (exp(low) < q/2).
	if z := float64(counts(draws(t, "qloguniform(-5, 0, 1)", n))["0.0"]) / n; z < 0.85 || z > 0.89 {
		t.Errorf("qloguniform(-5, 0, 1) is 0.0 %.3f of the time, want about 0.87", z)
	}
	// Fractional steps keep binary artefacts, written as Python writes them.
	if c := counts(draws(t, "quniform(0, 1, 0.1)", n)); c["0.30000000000000004"] == 0 || c["0.3"] != 0 {
		t.Errorf("quniform(0, 1, 0.1) values: %v", c)
	}
	// pchoice follows its probabilities.
	c := counts(draws(t, "pchoice(0.2:a, 0.5:b, 0.3:c)", n))
	for k, p := range map[string]float64{"a": 0.2, "b": 0.5, "c": 0.3} {
		if f := float64(c[k]) / n; math.Abs(f-p) > 0.02 {
			t.Errorf("pchoice %s: %.3f, want %.1f", k, f, p)
		}
	}
	// normal and lognormal are unbounded but positive where they must be.
	for _, v := range draws(t, "lognormal(0, 1)", n) {
		if v.Float <= 0 {
			t.Fatalf("lognormal gave %v", v.Float)
		}
	}
}

// TestDistributionsKS: 10,000 draws of each continuous distribution pass
// a Kolmogorov–Smirnov test (5 %) against its closed-form distribution.
func TestDistributionsKS(t *testing.T) {
	phi := func(z float64) float64 { return 0.5 * (1 + math.Erf(z/math.Sqrt2)) }
	for expr, cdf := range map[string]func(float64) float64{
		"uniform(-3, 7)":    func(x float64) float64 { return (x + 3) / 10 },
		"loguniform(-7, 0)": func(x float64) float64 { return (math.Log(x) + 7) / 7 },
		"normal(2, 3)":      func(x float64) float64 { return phi((x - 2) / 3) },
		"lognormal(0.5, 1)": func(x float64) float64 { return phi(math.Log(x) - 0.5) },
	} {
		vs := draws(t, expr, 10000)
		xs := make([]float64, len(vs))
		for i, v := range vs {
			xs[i] = v.Float
		}
		sort.Float64s(xs)
		d := 0.0
		for i, x := range xs {
			f := cdf(x)
			d = math.Max(d, math.Max(math.Abs(float64(i+1)/float64(len(xs))-f), math.Abs(f-float64(i)/float64(len(xs)))))
		}
		if crit := 1.358 / math.Sqrt(float64(len(xs))); d > crit {
			t.Errorf("%s: KS statistic %.4f > %.4f", expr, d, crit)
		}
	}
}

// TestRefusesWhatHyperoptShouldNot: bounds out of order (also a falsy
// one, which Hyperopt lets through), probabilities that do not add up,
// non-positive scales and steps, unknown names, wrong argument counts.
func TestRefusesWhatHyperoptShouldNot(t *testing.T) {
	for expr, want := range map[string]string{
		"uniform(5, 1)":            "low (5.0) must be below high (1.0)",
		"uniform(0, -1)":           "low (0.0) must be below high (-1.0)",
		"pchoice(0.2:a, 0.5:b)":    "add up to 0.7, not 1",
		"normal(0, 0)":             "sigma (0.0) must be positive",
		"quniform(0, 10, 0)":       "q (0.0) must be positive",
		"randint(0)":               "low (0) must be below high (0)",
		"randint(1.5)":             "must be an integer",
		"uniform(1)":               "takes 2 arguments, not 1",
		"gaussian(0, 1)":           "unknown expression",
		"uniform(0, x)":            "not a finite number",
		"choice(a, (b)":            "unbalanced parentheses",
		"pchoice(0.5:a, 0.5)":      "probability:value",
		"choice(uniform(1, 0), 2)": "must be below high",
	} {
		_, err := ParseExpr(expr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", expr, err, want)
		}
	}
}

// TestConditionalSpace reads the example: a choice between two
// branches, whose keys (not the choice's own name) become the trial's
// parameters, with nested expressions inside them.
func TestConditionalSpace(t *testing.T) {
	s, err := Parse([]byte(`
lr: loguniform(-7, 0)
depth: quniform(2, 12, 1)
seed: 7
model:
  choice:
    - {type: svm, C: "lognormal(0, 1)", kernel: "choice(linear, rbf)"}
    - {type: forest, n_estimators: "qloguniform(2, 6, 1)"}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		smp := s.Draw(r)
		var names []string
		for _, p := range smp.Params {
			names = append(names, p.Name)
		}
		typ, _ := smp.Get("type")
		want := "lr depth seed type n_estimators"
		if typ.String() == "svm" {
			want = "lr depth seed type C kernel"
			if k, _ := smp.Get("kernel"); k.String() != "linear" && k.String() != "rbf" {
				t.Fatalf("kernel %v", k)
			}
		}
		if got := strings.Join(names, " "); got != want {
			t.Fatalf("params %q, want %q", got, want)
		}
		if _, ok := smp.Raw["model"]; !ok {
			t.Fatal("the choice's index is not recorded")
		}
		if v, _ := smp.Get("seed"); v.String() != "7" {
			t.Fatalf("constant %v", v)
		}
		seen[typ.String()] = true
	}
	if !seen["svm"] || !seen["forest"] {
		t.Fatalf("branches drawn: %v", seen)
	}
	// -S overrides one dimension.
	d, _ := ParseExpr("uniform(0.1, 0.2)")
	if err := s.Set("lr", d); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Draw(r).Get("lr"); v.Float < 0.1 || v.Float >= 0.2 {
		t.Fatalf("override: %v", v)
	}
	// The same seed gives the same draws.
	a, b := rand.New(rand.NewPCG(9, 9)), rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 20; i++ {
		if x, y := s.Draw(a), s.Draw(b); x.Params[0].Value != y.Params[0].Value {
			t.Fatal("the same seed drew differently")
		}
	}
	for _, bad := range []string{"model: {choice: []}", "x: {pchoice: [{p: 0.5, value: a}]}", "x: {other: [1]}", "- a"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestPyFloat(t *testing.T) {
	for f, want := range map[float64]string{3: "3.0", 0.1: "0.1", 1e-05: "1e-05", 1e16: "1e+16", 123456789: "123456789.0",
		0.30000000000000004: "0.30000000000000004", -2.5: "-2.5", 0.0001: "0.0001", 1.5e-300: "1.5e-300"} {
		if got := PyFloat(f); got != want {
			t.Errorf("PyFloat(%v) = %q, want %q", f, got, want)
		}
	}
}

// TestRecover: every drawn point is recovered from its parameters' texts
// (as a resumed search reads them from the trial runs), raw draws and
// all; parameters that are no point of the space are refused.
func TestRecover(t *testing.T) {
	s, err := Parse([]byte(`
lr: loguniform(-7, 0)
n: randint(3, 9)
seed: 7
model:
  choice:
    - {type: svm, C: "lognormal(0, 1)", kernel: "choice(linear, rbf)"}
    - {type: forest, n_estimators: "qloguniform(2, 6, 1)"}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 100; i++ {
		smp := s.Draw(r)
		got := recovered(t, s, smp)
		if len(got.Raw) != len(smp.Raw) {
			t.Fatalf("recovered %+v, drew %+v", got, smp)
		}
		for k, v := range smp.Raw {
			if got.Raw[k] != v {
				t.Fatalf("raw %s: %v, drew %v", k, got.Raw[k], v)
			}
		}
	}
	for _, bad := range []map[string]string{
		{"lr": "0.1", "n": "4", "seed": "7", "type": "tree", "n_estimators": "3.0"},
		{"lr": "0.1", "seed": "7", "type": "forest", "n_estimators": "3.0"},
		{"lr": "0.1", "n": "4", "seed": "8", "type": "forest", "n_estimators": "3.0"},
		{"lr": "x", "n": "4", "seed": "7", "type": "forest", "n_estimators": "3.0"},
	} {
		if _, ok := s.Recover(bad); ok {
			t.Errorf("%v recovered", bad)
		}
	}

	// Found by FuzzSpace: a choice is recovered as the option that gives
	// the params (an empty branch fits any, and gave none of them); an
	// empty constant is a value, a missing one is not; YAML's null is
	// Python's None, as hp hands it on.
	s, err = Parse([]byte("m:\n  choice:\n    - {}\n    - {kind: a, c: \"\"}\n    - null\nz: ''\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		params map[string]string
		pick   float64
	}{
		{map[string]string{"m": "None", "z": ""}, 2},
		{map[string]string{"kind": "a", "c": "", "z": ""}, 1},
		{map[string]string{"z": ""}, 0},
	} {
		if got, ok := s.Recover(tc.params); !ok || got.Raw["m"] != tc.pick || len(got.Params) != len(tc.params) {
			t.Errorf("%v: recovered %+v (%v), want option %v", tc.params, got, ok, tc.pick)
		}
	}
	if _, ok := s.Recover(map[string]string{"m": "None"}); ok {
		t.Error("a missing constant was recovered")
	}
}
