package tune

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/mlrun/mlrun/tune/space"
)

// Grid tries every point of a finite space once, in order: choices,
// randint, uniformint and the quantised uniforms (quniform's points are
// k·q for k from round(low/q) to round(high/q), as its draws are), with
// branches expanded. Start it with NewGrid, which refuses a space with a
// continuous or unbounded dimension.
type Grid struct {
	points []space.Sample
	next   int
	seen   map[string]bool
}

// MaxGridPoints bounds the size of a grid.
const MaxGridPoints = 1_000_000

// NewGrid enumerates the space's points.
func NewGrid(s *space.Space) (*Grid, error) {
	pts, err := enumerate(s, "")
	if err != nil {
		return nil, err
	}
	return &Grid{points: pts, seen: map[string]bool{}}, nil
}

// Name implements Algorithm.
func (*Grid) Name() string { return "grid" }

// Size is the number of points.
func (g *Grid) Size() int { return len(g.points) }

// Exhausted reports whether every point has been proposed or tried.
func (g *Grid) Exhausted() bool {
	for g.next < len(g.points) && g.seen[key(g.points[g.next])] {
		g.next++
	}
	return g.next >= len(g.points)
}

// Suggest implements Algorithm: the next point not yet tried (a resumed
// search's history counts).
func (g *Grid) Suggest(_ *space.Space, history []Trial, _ *rand.Rand) space.Sample {
	for _, t := range history {
		g.seen[key(t.Sample)] = true
	}
	if g.Exhausted() {
		return space.Sample{}
	}
	p := g.points[g.next]
	g.seen[key(p)] = true
	g.next++
	return p
}

func key(s space.Sample) string {
	var b strings.Builder
	for _, p := range s.Params {
		b.WriteString(p.Name + "=" + p.Value.String() + "\x00")
	}
	return b.String()
}

// enumerate lists the points of s, its first dimension varying slowest.
func enumerate(s *space.Space, prefix string) ([]space.Sample, error) {
	pts := []space.Sample{{Raw: map[string]float64{}}}
	for _, p := range s.Params {
		label := prefix + p.Name
		opts, err := values(p.Name, p.Dim, label)
		if err != nil {
			return nil, err
		}
		if len(pts)*len(opts) > MaxGridPoints {
			return nil, fmt.Errorf("the grid has more than %d points: use tpe or random", MaxGridPoints)
		}
		var next []space.Sample
		for _, base := range pts {
			for _, o := range opts {
				next = append(next, merge(base, o))
			}
		}
		pts = next
	}
	return pts, nil
}

// values lists the partial points one dimension (named name) can give.
func values(name string, d *space.Dim, label string) ([]space.Sample, error) {
	one := func(raw float64, v space.Value) space.Sample {
		smp := space.Sample{Params: []space.NamedValue{{Name: name, Value: v}}, Raw: map[string]float64{}}
		if d.Kind != space.Const {
			smp.Raw[label] = raw
		}
		return smp
	}
	switch d.Kind {
	case space.Const:
		return []space.Sample{one(0, d.Value)}, nil
	case space.RandInt, space.UniformInt:
		hi := d.Hi
		if d.Kind == space.UniformInt {
			hi++
		}
		var out []space.Sample
		for i := d.Lo; i < hi; i++ {
			out = append(out, one(float64(i), space.Value{Kind: space.Int, Int: i}))
		}
		return out, nil
	case space.QUniform, space.QLogUniform:
		lo, hi := d.A, d.B
		if d.Kind == space.QLogUniform {
			lo, hi = math.Exp(lo), math.Exp(hi)
		}
		from, to := math.RoundToEven(lo/d.Q), math.RoundToEven(hi/d.Q)
		if to-from > MaxGridPoints {
			return nil, fmt.Errorf("dimension %s has more than %d points", name, MaxGridPoints)
		}
		var out []space.Sample
		for k := from; k <= to; k++ {
			out = append(out, one(k*d.Q, space.Value{Kind: space.Float, Float: k * d.Q}))
		}
		return out, nil
	case space.Choice, space.PChoice:
		var out []space.Sample
		for i, o := range d.Options {
			var sub []space.Sample
			var err error
			if o.Branch != nil {
				sub, err = enumerate(o.Branch, label+"/")
			} else {
				sub, err = values(name, o.Dim, fmt.Sprintf("%s/%d", label, i))
			}
			if err != nil {
				return nil, err
			}
			for _, smp := range sub {
				smp.Raw[label] = float64(i)
				out = append(out, smp)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("dimension %s is %s, which has no finite grid: grid search takes choice, pchoice, randint, uniformint, quniform and qloguniform", name, d.Kind)
}

func merge(a, b space.Sample) space.Sample {
	out := space.Sample{Params: append(append([]space.NamedValue(nil), a.Params...), b.Params...), Raw: map[string]float64{}}
	for k, v := range a.Raw {
		out.Raw[k] = v
	}
	for k, v := range b.Raw {
		out.Raw[k] = v
	}
	return out
}
