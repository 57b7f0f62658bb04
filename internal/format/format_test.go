package format_test

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/format"
	"github.com/mlrun/mlrun/internal/pylines"
)

// FuzzPyFloatIsPythons: PyFloat prints every float64 as python3's
// repr(float) does (the float given to Python by its exact hex form).
func FuzzPyFloatIsPythons(f *testing.F) {
	for _, v := range []float64{0, math.Copysign(0, -1), 1, 0.1, 1e16, 1e15, 123456789012345678, 1e-4, 1e-5, 5e-324, math.MaxFloat64, math.Inf(1), math.NaN(), 0.30000000000000004, 1.5e300} {
		f.Add(math.Float64bits(v))
	}
	py := pylines.Start(f, "import sys\nfor l in sys.stdin:\n    sys.stdout.write(repr(float.fromhex(l.strip())) + '\\n'); sys.stdout.flush()", "install python3")
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		hex := strconv.FormatFloat(v, 'x', -1, 64)
		switch {
		case math.IsNaN(v):
			hex = "nan"
		case math.IsInf(v, 0):
			hex = strings.Replace(hex, "Inf", "inf", 1)
		}
		if got, want := format.PyFloat(v), py.Ask(t, hex); got != want {
			t.Fatalf("PyFloat(%s) = %s, Python's repr %s", hex, got, want)
		}
	})
}

// TestPyReprIsPythons: PyRepr quotes and escapes text, and writes None,
// booleans, numbers and lists, as python3's repr does.
func TestPyReprIsPythons(t *testing.T) {
	texts := []string{"", "k", "it's", `say "hi"`, `both ' and "`, `back\slash`, "new\nline\ttab\rcr", "\x00\x1f\x7f", "é ü ß", "\u00a0nbsp", "\u0085next", "\u200bzero width", "\u2028line sep", "日本語", "emoji 😀", "\U000e0001tag"}
	py := pylines.Start(t, "import sys\nfor l in sys.stdin:\n    sys.stdout.write(repr(bytes.fromhex(l.strip()).decode()) + '\\n'); sys.stdout.flush()", "install python3")
	for _, s := range texts {
		if got, want := format.PyRepr(s), py.Ask(t, fmt.Sprintf("%x", s)); got != want {
			t.Errorf("PyRepr(%q) = %s, Python's repr %s", s, got, want)
		}
	}
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, "None"}, {true, "True"}, {false, "False"}, {int64(-3), "-3"}, {1.0, "1.0"}, {1e-5, "1e-05"},
		{[]any{1.5, "a", nil, []any{true}}, "[1.5, 'a', None, [True]]"}, {[]string{"x", "it's"}, `['x', "it's"]`},
	} {
		if got := format.PyRepr(tc.v); got != tc.want {
			t.Errorf("PyRepr(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}
