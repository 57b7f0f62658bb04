package format_test

import (
	"bufio"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/format"
)

// FuzzPyFloatIsPythons: PyFloat prints every float64 as python3's
// repr(float) does (the float given to Python by its exact hex form).
func FuzzPyFloatIsPythons(f *testing.F) {
	for _, v := range []float64{0, math.Copysign(0, -1), 1, 0.1, 1e16, 1e15, 123456789012345678, 1e-4, 1e-5, 5e-324, math.MaxFloat64, math.Inf(1), math.NaN(), 0.30000000000000004, 1.5e300} {
		f.Add(math.Float64bits(v))
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		f.Fatal("python3 is needed to compare with Python's repr: install python3")
	}
	cmd := exec.Command(py, "-c", "import sys\nfor l in sys.stdin:\n    sys.stdout.write(repr(float.fromhex(l.strip())) + '\\n'); sys.stdout.flush()")
	in, _ := cmd.StdinPipe()
	outPipe, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { in.Close(); cmd.Wait() })
	out := bufio.NewReader(outPipe)
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		hex := strconv.FormatFloat(v, 'x', -1, 64)
		switch {
		case math.IsNaN(v):
			hex = "nan"
		case math.IsInf(v, 0):
			hex = strings.Replace(hex, "Inf", "inf", 1)
		}
		in.Write([]byte(hex + "\n"))
		want, err := out.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if got := format.PyFloat(v); got != strings.TrimSpace(want) {
			t.Fatalf("PyFloat(%s) = %s, Python's repr %s", hex, got, want)
		}
	})
}
