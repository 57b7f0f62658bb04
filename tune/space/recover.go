package space

import (
	"fmt"
	"strconv"
)

// Recover rebuilds the sample whose parameters, as a step received them,
// are params: the values and the raw draws an algorithm models (a
// choice's option by the value or branch it gave). It reports false when
// params are not a point of the space (a dimension missing, a value that
// is no option).
func (s *Space) Recover(params map[string]string) (Sample, bool) {
	out := Sample{Raw: map[string]float64{}}
	return out, s.recover(params, "", &out)
}

func (s *Space) recover(params map[string]string, prefix string, out *Sample) bool {
	for _, p := range s.Params {
		label := prefix + p.Name
		if p.Dim.Kind == Choice || p.Dim.Kind == PChoice {
			if !p.Dim.recoverChoice(p.Name, params, label, out) {
				return false
			}
			continue
		}
		text, ok := params[p.Name]
		if !ok {
			return false
		}
		v, ok := p.Dim.recoverValue(text, label, out)
		if !ok {
			return false
		}
		out.Params = append(out.Params, NamedValue{p.Name, v})
	}
	return true
}

// recoverChoice finds the option of a choice named name that params took:
// of the options they fit, the one that gives the most of them (an empty
// branch fits any params, and gives none of them).
func (d *Dim) recoverChoice(name string, params map[string]string, label string, out *Sample) bool {
	var best *Sample
	pick := -1
	for i, o := range d.Options {
		try := Sample{Raw: map[string]float64{}}
		var ok bool
		if o.Branch != nil {
			ok = o.Branch.recover(params, label+"/", &try)
		} else {
			var v Value
			if text, given := params[name]; given {
				if v, ok = o.Dim.recoverValue(text, fmt.Sprintf("%s/%d", label, i), &try); ok {
					try.Params = append(try.Params, NamedValue{name, v})
				}
			}
		}
		if ok && (best == nil || len(try.Params) > len(best.Params)) {
			best, pick = &try, i
		}
	}
	if best == nil {
		return false
	}
	out.Raw[label] = float64(pick)
	for k, x := range best.Raw {
		out.Raw[k] = x
	}
	out.Params = append(out.Params, best.Params...)
	return true
}

// recoverValue reads one non-choice dimension's value from its text.
func (d *Dim) recoverValue(text string, label string, out *Sample) (Value, bool) {
	switch d.Kind {
	case Const:
		return d.Value, d.Value.String() == text
	case Choice, PChoice:
		for i, o := range d.Options {
			if o.Dim == nil {
				continue
			}
			if v, ok := o.Dim.recoverValue(text, fmt.Sprintf("%s/%d", label, i), out); ok {
				out.Raw[label] = float64(i)
				return v, true
			}
		}
		return Value{}, false
	case RandInt, UniformInt:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return Value{}, false
		}
		out.Raw[label] = float64(n)
		return Value{Kind: Int, Int: n}, true
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return Value{}, false
	}
	out.Raw[label] = f
	return Value{Kind: Float, Float: f}, true
}
