package project

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// PyYAML (YAML 1.1) scalar resolution, so that defaults stringify as
// MLflow's Python code sees them.
var (
	yamlBool  = regexp.MustCompile(`^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	yamlInt   = regexp.MustCompile(`^[-+]?(0b[0-1_]+|0[0-7_]+|(0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)$`)
	yamlFloat = regexp.MustCompile(`^([-+]?(\.[0-9]+|[0-9][0-9_]*)(\.[0-9_]*)?([eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$`)
	yamlNull  = regexp.MustCompile(`^(~|null|Null|NULL|)$`)
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
		i, err := strconv.ParseInt(s, base, 64)
		if err != nil {
			return v, true
		}
		if neg {
			i = -i
		}
		return strconv.FormatInt(i, 10), true
	case yamlFloat.MatchString(v) && (strings.Contains(v, ".")):
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
		if err != nil {
			return v, true
		}
		return PyFloat(f), true
	}
	return v, true
}

// PyFloat formats f as Python's repr(float): the shortest digits that
// round-trip, scientific when the exponent is < -4 or >= 16, and always a
// ".0" on integral values in fixed notation.
func PyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return mant + "e" + sign + pad2(exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
