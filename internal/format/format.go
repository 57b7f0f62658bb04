package format

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Float prints a metric value: six significant digits, NaN and ±Infinity
// by MLflow's names.
func Float(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
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

// PyRepr is Python's repr of a value decoded from JSON or built by mlrun:
// None, True/False, ints, floats (PyFloat), text (quoted and escaped as
// Python quotes it) and lists of those; anything else by fmt.
func PyRepr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case string:
		return pyStr(v)
	case bool:
		if v {
			return "True"
		}
		return "False"
	case float64:
		return PyFloat(v)
	case float32:
		return PyFloat(float64(v))
	case []any:
		q := make([]string, len(v))
		for i, e := range v {
			q[i] = PyRepr(e)
		}
		return "[" + strings.Join(q, ", ") + "]"
	case []string:
		q := make([]string, len(v))
		for i, e := range v {
			q[i] = pyStr(e)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// pyStr is Python's repr of a str: single quotes unless the text has a
// single quote and no double one; backslashes, the quote and control
// characters escaped, and what Python does not print as \xNN, \uNNNN or
// \UNNNNNNNN.
func pyStr(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\' || r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case unicode.IsPrint(r): // Python's str.isprintable, by character
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
