package project

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/internal/format"
	"gopkg.in/yaml.v3"
)

// PyYAML (YAML 1.1) scalar resolution, so that defaults stringify as
// MLflow's Python code sees them.
var (
	// PyYAML's resolver (yaml/resolver.py): no y/n booleans, base-60
	// ("sexagesimal") ints and floats, floats need a '.', exponents a sign.
	yamlBool     = regexp.MustCompile(`^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	yamlInt      = regexp.MustCompile(`^[-+]?(0b[0-1_]+|0[0-7_]+|(0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)$`)
	yamlInt60    = regexp.MustCompile(`^[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+$`)
	yamlFloat    = regexp.MustCompile(`^([-+]?([0-9][0-9_]*)\.[0-9_]*([eE][-+][0-9]+)?|\.[0-9][0-9_]*([eE][-+][0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$`)
	yamlFloat60  = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*$`)
	yamlNull     = regexp.MustCompile(`^(~|null|Null|NULL|)$`)
	yamlDate     = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})$`)
	yamlDateTime = regexp.MustCompile(`^([0-9]{4})-([0-9][0-9]?)-([0-9][0-9]?)(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9]{2}))?))?$`)
)

// pyScalar returns the Python str() of a YAML scalar as PyYAML's
// safe_load would type it, and false for null.
func pyScalar(n *yaml.Node) (string, bool) {
	v := n.Value
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 || (n.Style&yaml.TaggedStyle != 0 && n.Tag == "!!str") {
		return v, true
	}
	switch {
	case yamlNull.MatchString(v):
		return "", false
	case yamlBool.MatchString(v):
		switch strings.ToLower(v) {
		case "y", "yes", "true", "on":
			return "True", true
		}
		return "False", true
	case yamlInt60.MatchString(v):
		return base60Int(v).String(), true
	case yamlFloat60.MatchString(v):
		return PyFloat(base60(v)), true
	case yamlDate.MatchString(v):
		return v, true // str(datetime.date)
	case yamlDateTime.MatchString(v):
		return pyDateTime(yamlDateTime.FindStringSubmatch(v)), true
	case yamlInt.MatchString(v):
		s := strings.ReplaceAll(v, "_", "")
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimLeft(s, "+-")
		base := 10
		switch {
		case strings.HasPrefix(s, "0b"):
			base, s = 2, s[2:]
		case strings.HasPrefix(s, "0x"):
			base, s = 16, s[2:]
		case len(s) > 1 && s[0] == '0':
			base, s = 8, s[1:]
		}
		i, ok := new(big.Int).SetString(s, base) // Python's ints have no size
		if !ok {
			return v, true
		}
		if neg {
			i.Neg(i)
		}
		return i.String(), true
	case yamlFloat.MatchString(v):
		s := strings.ReplaceAll(v, "_", "")
		switch strings.ToLower(strings.TrimLeft(s, "+")) {
		case ".inf":
			return "inf", true
		case "-.inf":
			return "-inf", true
		case ".nan":
			return "nan", true
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return v, true
		}
		return PyFloat(f), true // out of range: ±inf or 0.0, as Python's float()
	}
	return v, true
}

// PyFloat formats f as Python's repr(float) (format.PyFloat).
var PyFloat = format.PyFloat

// base60 reads PyYAML's sexagesimal floats as its constructor sums them:
// the parts from the last, each times its power of 60 (an exact integer,
// rounded once to a float), so 190:20:30.15 = 30.15 + 20·60 + 190·3600.
func base60(v string) float64 {
	v = strings.ReplaceAll(v, "_", "")
	neg := v[0] == '-'
	parts := strings.Split(strings.TrimLeft(v, "+-"), ":")
	out, base, sixty := 0.0, big.NewInt(1), big.NewInt(60)
	for i := len(parts) - 1; i >= 0; i-- {
		d, _ := strconv.ParseFloat(parts[i], 64)
		b, _ := new(big.Float).SetInt(base).Float64()
		out += d * b
		base.Mul(base, sixty)
	}
	if neg {
		return -out
	}
	return out
}

// base60Int reads a sexagesimal integer exactly, as Python's ints do:
// 190:20:30 = 190·3600 + 20·60 + 30.
func base60Int(v string) *big.Int {
	v = strings.ReplaceAll(v, "_", "")
	neg := v[0] == '-'
	out, sixty := new(big.Int), big.NewInt(60)
	for _, part := range strings.Split(strings.TrimLeft(v, "+-"), ":") {
		d, _ := new(big.Int).SetString(part, 10)
		out.Mul(out, sixty).Add(out, d)
	}
	if neg {
		out.Neg(out)
	}
	return out
}

// pyDateTime is Python's str() of the datetime PyYAML builds from a
// timestamp's parts: 'YYYY-MM-DD HH:MM:SS[.ffffff][±HH:MM]'.
func pyDateTime(m []string) string {
	n := func(s string) int { i, _ := strconv.Atoi(s); return i }
	out := fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", n(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5]), n(m[6]))
	if frac := m[7]; frac != "" {
		frac = (frac + "000000")[:6]
		if strings.Trim(frac, "0") != "" {
			out += "." + frac
		}
	}
	switch {
	case m[8] == "Z":
		out += "+00:00"
	case m[8] != "":
		out += fmt.Sprintf("%s%02d:%02d", m[9], n(m[10]), n(m[11]))
	}
	return out
}
