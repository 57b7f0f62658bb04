package space

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Parse reads a space file (YAML; see the package doc).
func Parse(b []byte) (*Space, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("space: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("space: the file is empty")
	}
	return parseSpace(doc.Content[0], "")
}

func parseSpace(n *yaml.Node, where string) (*Space, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("space%s: want a mapping of parameter names to expressions", where)
	}
	s := &Space{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name := n.Content[i].Value
		if name == "" {
			return nil, fmt.Errorf("space%s: a parameter without a name", where)
		}
		d, err := parseNode(n.Content[i+1], where+" "+name)
		if err != nil {
			return nil, err
		}
		if err := s.Set(name, d); err != nil {
			return nil, fmt.Errorf("space%s: %w", where, err)
		}
	}
	return s, nil
}

// Set adds the dimension name, or replaces it (mlrun tune -S name=expr).
func (s *Space) Set(name string, d *Dim) error {
	if strings.ContainsAny(name, "/ \t") {
		return fmt.Errorf("parameter name %q: no slashes or spaces", name)
	}
	for i := range s.Params {
		if s.Params[i].Name == name {
			s.Params[i].Dim = d
			return nil
		}
	}
	s.Params = append(s.Params, Param{Name: name, Dim: d})
	return nil
}

// parseNode reads one dimension: an expression, a constant, or
// {choice: […]} / {pchoice: […]}.
func parseNode(n *yaml.Node, where string) (*Dim, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!str" && strings.Contains(n.Value, "(") {
			d, err := ParseExpr(n.Value)
			if err != nil {
				return nil, fmt.Errorf("space%s: %w", where, err)
			}
			return d, nil
		}
		return &Dim{Kind: Const, Value: scalar(n)}, nil
	case yaml.MappingNode:
		if len(n.Content) != 2 || (n.Content[0].Value != "choice" && n.Content[0].Value != "pchoice") || n.Content[1].Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("space%s: a mapping here must be {choice: [options]} or {pchoice: [{p: P, value: option}, …]}", where)
		}
		kind := Choice
		if n.Content[0].Value == "pchoice" {
			kind = PChoice
		}
		d := &Dim{Kind: kind}
		for i, o := range n.Content[1].Content {
			ow := fmt.Sprintf("%s option %d", where, i+1)
			var opt Option
			if kind == PChoice {
				p, v, err := pchoiceItem(o, ow)
				if err != nil {
					return nil, err
				}
				opt.P, o = p, v
			}
			if o.Kind == yaml.MappingNode && !(len(o.Content) == 2 && (o.Content[0].Value == "choice" || o.Content[0].Value == "pchoice")) {
				b, err := parseSpace(o, ow)
				if err != nil {
					return nil, err
				}
				opt.Branch = b
			} else {
				od, err := parseNode(o, ow)
				if err != nil {
					return nil, err
				}
				opt.Dim = od
			}
			d.Options = append(d.Options, opt)
		}
		if err := d.check(); err != nil {
			return nil, fmt.Errorf("space%s: %w", where, err)
		}
		return d, nil
	}
	return nil, fmt.Errorf("space%s: want an expression, a constant or {choice: […]}", where)
}

func pchoiceItem(o *yaml.Node, where string) (float64, *yaml.Node, error) {
	if o.Kind != yaml.MappingNode {
		return 0, nil, fmt.Errorf("space%s: a pchoice option is {p: probability, value: option}", where)
	}
	var p *float64
	var v *yaml.Node
	for i := 0; i+1 < len(o.Content); i += 2 {
		switch o.Content[i].Value {
		case "p":
			f, err := strconv.ParseFloat(o.Content[i+1].Value, 64)
			if err != nil {
				return 0, nil, fmt.Errorf("space%s: p %q is not a number", where, o.Content[i+1].Value)
			}
			p = &f
		case "value":
			v = o.Content[i+1]
		default:
			return 0, nil, fmt.Errorf("space%s: a pchoice option has only p and value, not %q", where, o.Content[i].Value)
		}
	}
	if p == nil || v == nil {
		return 0, nil, fmt.Errorf("space%s: a pchoice option needs p and value", where)
	}
	return *p, v, nil
}

// scalar is a YAML constant as a Value.
func scalar(n *yaml.Node) Value {
	switch n.Tag {
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return Value{Kind: Int, Int: i}
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return Value{Kind: Float, Float: f}
		}
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return Value{Kind: Text, Text: map[bool]string{true: "True", false: "False"}[b]}
		}
	case "!!null":
		return Value{Kind: Text, Text: "None"} // Python's str(None), as hp passes it on
	}
	return Value{Kind: Text, Text: n.Value}
}

// ParseExpr reads one expression as hyperopt.hp writes it without the
// label: uniform(-1, 1), choice(linear, rbf), pchoice(0.3:a, 0.7:b),
// randint(10), a number or a word.
func ParseExpr(s string) (*Dim, error) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '(')
	if open < 0 || !strings.HasSuffix(s, ")") {
		return &Dim{Kind: Const, Value: word(s)}, nil
	}
	name := strings.TrimSpace(s[:open])
	kind, ok := kindNames[name]
	if !ok {
		return nil, fmt.Errorf("%q: unknown expression %q (want one of uniform, loguniform, quniform, qloguniform, normal, qnormal, lognormal, qlognormal, randint, uniformint, choice, pchoice)", s, name)
	}
	args, err := splitArgs(s[open+1 : len(s)-1])
	if err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	d := &Dim{Kind: kind}
	nums := func(want ...int) ([]float64, error) {
		if !slices.Contains(want, len(args)) {
			return nil, fmt.Errorf("%q: %s takes %s arguments, not %d", s, name, countText(want), len(args))
		}
		out := make([]float64, len(args))
		for i, a := range args {
			f, err := strconv.ParseFloat(a, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("%q: argument %d (%q) is not a finite number", s, i+1, a)
			}
			out[i] = f
		}
		return out, nil
	}
	switch kind {
	case Uniform, LogUniform, Normal, LogNormal:
		v, err := nums(2)
		if err != nil {
			return nil, err
		}
		d.A, d.B = v[0], v[1]
	case QUniform, QLogUniform, QNormal, QLogNormal:
		v, err := nums(3)
		if err != nil {
			return nil, err
		}
		d.A, d.B, d.Q = v[0], v[1], v[2]
	case RandInt, UniformInt:
		want := []int{2}
		if kind == RandInt {
			want = []int{1, 2}
		}
		v, err := nums(want...)
		if err != nil {
			return nil, err
		}
		for i, f := range v {
			if f != math.Trunc(f) {
				return nil, fmt.Errorf("%q: argument %d of %s must be an integer", s, i+1, name)
			}
		}
		if len(v) == 1 {
			d.Lo, d.Hi = 0, int64(v[0])
		} else {
			d.Lo, d.Hi = int64(v[0]), int64(v[1])
		}
	case Choice, PChoice:
		for _, a := range args {
			var opt Option
			if kind == PChoice {
				ps, rest, ok := strings.Cut(a, ":")
				if !ok {
					return nil, fmt.Errorf("%q: a pchoice option is probability:value, not %q", s, a)
				}
				p, err := strconv.ParseFloat(strings.TrimSpace(ps), 64)
				if err != nil {
					return nil, fmt.Errorf("%q: probability %q is not a number", s, ps)
				}
				opt.P, a = p, strings.TrimSpace(rest)
			}
			od, err := ParseExpr(a)
			if err != nil {
				return nil, err
			}
			opt.Dim = od
			d.Options = append(d.Options, opt)
		}
	}
	if err := d.check(); err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	return d, nil
}

// check refuses what Hyperopt refuses, and what it lets through but
// should not (a falsy bound out of order, probabilities that do not add
// up, a scale or step that is not positive).
func (d *Dim) check() error {
	switch d.Kind {
	case Uniform, LogUniform, QUniform, QLogUniform:
		if !(d.A < d.B) {
			return fmt.Errorf("low (%s) must be below high (%s)", PyFloat(d.A), PyFloat(d.B))
		}
	case Normal, LogNormal, QNormal, QLogNormal:
		if !(d.B > 0) {
			return fmt.Errorf("sigma (%s) must be positive", PyFloat(d.B))
		}
	case RandInt, UniformInt:
		if d.Kind == RandInt && !(d.Lo < d.Hi) || d.Kind == UniformInt && !(d.Lo <= d.Hi) {
			return fmt.Errorf("low (%d) must be below high (%d)", d.Lo, d.Hi)
		}
	case Choice, PChoice:
		if len(d.Options) == 0 {
			return errors.New("a choice needs at least one option")
		}
		if d.Kind == PChoice {
			sum := 0.0
			for _, o := range d.Options {
				if o.P < 0 || o.P > 1 {
					return fmt.Errorf("probability %s is not in [0, 1]", PyFloat(o.P))
				}
				sum += o.P
			}
			if math.Abs(sum-1) > 1e-6 {
				return fmt.Errorf("pchoice probabilities add up to %s, not 1 (Hyperopt would give the last option the rest)", PyFloat(sum))
			}
		}
	}
	switch d.Kind {
	case QUniform, QLogUniform, QNormal, QLogNormal:
		if !(d.Q > 0) {
			return fmt.Errorf("q (%s) must be positive", PyFloat(d.Q))
		}
	}
	return nil
}

// splitArgs splits a comma-separated argument list at depth 0.
func splitArgs(s string) ([]string, error) {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return nil, errors.New("unbalanced parentheses")
			}
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, errors.New("unbalanced parentheses")
	}
	if last := strings.TrimSpace(s[start:]); last != "" || len(out) > 0 {
		out = append(out, last)
	}
	for _, a := range out {
		if a == "" {
			return nil, errors.New("an empty argument")
		}
	}
	return out, nil
}

// word is a bare or quoted constant: an int, a float, or a text.
func word(s string) Value {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return Value{Kind: Text, Text: s[1 : len(s)-1]}
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return Value{Kind: Int, Int: i}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return Value{Kind: Float, Float: f}
	}
	return Value{Kind: Text, Text: s}
}

func countText(want []int) string {
	parts := make([]string, len(want))
	for i, w := range want {
		parts[i] = strconv.Itoa(w)
	}
	return strings.Join(parts, " or ")
}
