package tune

import (
	"context"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/tune/space"
)

// TestGrid: every point of a finite space once (branches expanded, the
// quantised uniforms on the points their draws take), the search ending
// when the grid does; a resumed search tries only what is left; a
// continuous dimension is refused.
func TestGrid(t *testing.T) {
	sp, err := space.Parse([]byte(`
a: choice(x, y)
n: randint(3)
q: quniform(1, 10, 4)
m:
  choice:
    - {t: p, u: "uniformint(0, 1)"}
    - {t: r}
`))
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGrid(sp)
	if err != nil || g.Size() != 2*3*3*3 {
		t.Fatalf("grid of %d points: %v", g.Size(), err)
	}
	eval := func(ctx context.Context, n int, s space.Sample) (string, float64, Status, error) {
		return "", float64(n), OK, nil
	}
	trials, _, err := Search(context.Background(), Options{Space: sp, Algorithm: g, MaxTrials: 1000}, eval)
	if err != nil || len(trials) != 54 {
		t.Fatalf("%d trials: %v", len(trials), err)
	}
	seen := map[string]bool{}
	for _, tr := range trials {
		k := key(tr.Sample)
		if seen[k] {
			t.Fatalf("point %q tried twice", k)
		}
		seen[k] = true
		q, _ := tr.Sample.Get("q")
		if s := q.String(); s != "0.0" && s != "4.0" && s != "8.0" {
			t.Fatalf("q %s is not one of quniform(1, 10, 4)'s points", s)
		}
		if typ, _ := tr.Sample.Get("t"); typ.Text == "r" {
			if _, ok := tr.Sample.Get("u"); ok {
				t.Fatal("branch r got branch p's dimension")
			}
		}
	}
	g2, _ := NewGrid(sp)
	more, _, _ := Search(context.Background(), Options{Space: sp, Algorithm: g2, MaxTrials: 1000, History: trials[:20]}, eval)
	if len(more) != 54 {
		t.Fatalf("resumed grid: %d trials in all, want 54", len(more))
	}
	for _, bad := range []string{"x: uniform(0, 1)", "x: normal(0, 1)", "x: loguniform(0, 1)"} {
		s, _ := space.Parse([]byte(bad))
		if _, err := NewGrid(s); err == nil || !strings.Contains(err.Error(), "no finite grid") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
