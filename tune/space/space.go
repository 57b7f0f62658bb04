package space

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/mlrun/mlrun/internal/format"
)

// Kind is a dimension's distribution.
type Kind int

// The distributions of hyperopt.hp, and a constant.
const (
	Const Kind = iota
	Uniform
	LogUniform
	QUniform
	QLogUniform
	Normal
	QNormal
	LogNormal
	QLogNormal
	RandInt
	UniformInt
	Choice
	PChoice
)

var kindNames = map[string]Kind{
	"uniform": Uniform, "loguniform": LogUniform, "quniform": QUniform, "qloguniform": QLogUniform,
	"normal": Normal, "qnormal": QNormal, "lognormal": LogNormal, "qlognormal": QLogNormal,
	"randint": RandInt, "uniformint": UniformInt, "choice": Choice, "pchoice": PChoice,
}

func (k Kind) String() string {
	for n, v := range kindNames {
		if v == k {
			return n
		}
	}
	return "constant"
}

// Value is what a trial's parameter is: a number or a text, kept with its
// type as Hyperopt keeps it (quniform gives floats such as 3.0, randint
// ints), and passed to the step as text (String).
type Value struct {
	Kind  ValueKind
	Float float64
	Int   int64
	Text  string // strings; booleans as Python writes them (True, False)
}

// ValueKind is a Value's type.
type ValueKind int

// Value kinds.
const (
	Float ValueKind = iota
	Int
	Text
)

// String is the value as Python's str() writes it, which is what MLflow
// passes a step: 3.0, 0.30000000000000004, 1e-05, 7, linear.
func (v Value) String() string {
	switch v.Kind {
	case Int:
		return strconv.FormatInt(v.Int, 10)
	case Text:
		return v.Text
	}
	return PyFloat(v.Float)
}

// Number is the value as a float (a text's is NaN).
func (v Value) Number() float64 {
	switch v.Kind {
	case Int:
		return float64(v.Int)
	case Text:
		return math.NaN()
	}
	return v.Float
}

// PyFloat formats f as Python's repr does (format.PyFloat): 3.0,
// 0.30000000000000004, 1e-05.
var PyFloat = format.PyFloat

// Dim is one dimension: a distribution with its arguments, or a
// constant, or a choice among options.
type Dim struct {
	Kind Kind
	// A and B are the bounds (uniform…, the logarithms for log kinds),
	// or mu and sigma (normal…); Q the step of q kinds.
	A, B, Q float64
	// Lo and Hi bound randint and uniformint: [Lo, Hi) and [Lo, Hi].
	Lo, Hi int64
	// Options of choice and pchoice, P their probabilities (pchoice).
	Options []Option
	// Value of a constant.
	Value Value
}

// Option is one option of a choice: a value (a constant or another
// dimension) or a branch whose keys become parameters.
type Option struct {
	P      float64
	Dim    *Dim
	Branch *Space
}

// Param is a named dimension of a space.
type Param struct {
	Name string
	Dim  *Dim
}

// Space is a search space: named dimensions, in the file's order.
type Space struct {
	Params []Param
}

// Sample is one point of a space: the parameters a trial gets (the
// chosen branches' keys included, the choices between branches not), in
// order, and the raw draw of every dimension by its label (choices as the
// index chosen, as Hyperopt records trials).
type Sample struct {
	Params []NamedValue
	Raw    map[string]float64
}

// NamedValue is one parameter of a sample.
type NamedValue struct {
	Name  string
	Value Value
}

// Get returns the value of parameter name.
func (s Sample) Get(name string) (Value, bool) {
	for _, p := range s.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return Value{}, false
}

// Proposer chooses a dimension's raw value by its label: a number, or a
// choice's option index. A search algorithm is one; the prior is another.
type Proposer interface {
	Propose(label string, d *Dim) float64
}

// prior draws every dimension from its distribution.
type prior struct{ r *rand.Rand }

func (p prior) Propose(_ string, d *Dim) float64 { return d.Prior(p.r) }

// Draw samples the space from its prior with r, as
// hyperopt.pyll.stochastic.sample does.
func (s *Space) Draw(r *rand.Rand) Sample {
	out := Sample{Raw: map[string]float64{}}
	s.Propose(prior{r}, &out)
	return out
}

// Propose fills out with the point p chooses, dimension by dimension,
// following the branches the choices take; labels are the parameter
// names, a branch's dimensions under their choice's ("model/C"), a
// choice's nested expression under its index ("kernel/1").
func (s *Space) Propose(p Proposer, out *Sample) {
	s.propose(p, "", out)
}

func (s *Space) propose(p Proposer, prefix string, out *Sample) {
	for _, prm := range s.Params {
		label := prefix + prm.Name
		v, branch := prm.Dim.propose(p, label, out)
		if branch != nil {
			branch.propose(p, label+"/", out)
		} else {
			out.Params = append(out.Params, NamedValue{prm.Name, v})
		}
	}
}

// propose asks p for d's value; a choice that picks a branch returns it
// instead of a value.
func (d *Dim) propose(p Proposer, label string, out *Sample) (Value, *Space) {
	if d.Kind == Const {
		return d.Value, nil
	}
	x := p.Propose(label, d)
	out.Raw[label] = x
	switch d.Kind {
	case RandInt, UniformInt:
		return Value{Kind: Int, Int: int64(x)}, nil
	case Choice, PChoice:
		o := d.Options[int(x)]
		if o.Branch != nil {
			return Value{}, o.Branch
		}
		return o.Dim.propose(p, fmt.Sprintf("%s/%d", label, int(x)), out)
	}
	return Value{Kind: Float, Float: x}, nil
}

// Prior draws d's raw value from its distribution (a choice's index).
func (d *Dim) Prior(r *rand.Rand) float64 {
	u := func() float64 { return d.A + (d.B-d.A)*r.Float64() }
	q := func(x float64) float64 { return math.RoundToEven(x/d.Q) * d.Q }
	switch d.Kind {
	case Uniform:
		return u()
	case LogUniform:
		return math.Exp(u())
	case QUniform:
		return q(u())
	case QLogUniform:
		return q(math.Exp(u()))
	case Normal:
		return d.A + d.B*r.NormFloat64()
	case QNormal:
		return q(d.A + d.B*r.NormFloat64())
	case LogNormal:
		return math.Exp(d.A + d.B*r.NormFloat64())
	case QLogNormal:
		return q(math.Exp(d.A + d.B*r.NormFloat64()))
	case RandInt:
		return float64(d.Lo + r.Int64N(d.Hi-d.Lo))
	case UniformInt:
		return math.RoundToEven(float64(d.Lo) + float64(d.Hi-d.Lo)*r.Float64())
	case Choice, PChoice:
		return float64(d.pick(r))
	}
	return 0
}

// pick draws a choice's option index.
func (d *Dim) pick(r *rand.Rand) int {
	if d.Kind == Choice {
		return r.IntN(len(d.Options))
	}
	x, acc := r.Float64(), 0.0
	for i, o := range d.Options {
		acc += o.P
		if x < acc {
			return i
		}
	}
	return len(d.Options) - 1
}
