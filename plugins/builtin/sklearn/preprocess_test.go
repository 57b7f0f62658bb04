package sklearn

import (
	"math"
	"testing"
)

// TestNormPPF checks the normal quantile function against scipy 1.10's
// norm.ppf (the values below are its answers) to two units in the last
// place, in the middle and far in both tails, where Go's own erfcinv
// loses every digit.
func TestNormPPF(t *testing.T) {
	for _, c := range []struct{ p, want float64 }{
		{1e-300, -37.0470962993612}, {1e-200, -30.20559417957964}, {1e-20, -9.262340089798409},
		{1e-7 - 0x1p-52, -5.199337582605575}, {1e-05, -4.264890793922825}, {0.001, -3.090232306167813},
		{0.01, -2.3263478740408408}, {0.07, -1.4757910281791706}, {0.08, -1.4050715603096329},
		{0.1, -1.2815515655446004}, {0.2, -0.8416212335729142}, {0.25, -0.6744897501960817},
		{0.3, -0.5244005127080409}, {0.4999, -0.0002506628300880075}, {0.5, 0},
		{0.6, 0.2533471031357997}, {0.9, 1.2815515655446004}, {0.99, 2.3263478740408408},
		{0.999999, 4.753424308817087}, {1 - (1e-7 - 0x1p-52), 5.19933758270342},
		{0, math.Inf(-1)}, {1, math.Inf(1)},
	} {
		got := normPPF(c.p)
		if got == c.want {
			continue
		}
		if d := math.Abs(got-c.want) / math.Abs(c.want); !(d <= 4.5e-16) {
			t.Errorf("normPPF(%v) = %v, scipy %v (%.2g relative)", c.p, got, c.want, d)
		}
	}
	if v := normPPF(math.NaN()); !math.IsNaN(v) {
		t.Errorf("normPPF(NaN) = %v", v)
	}
}
