package npmi

import (
	"math"
	"testing"
)

// Values computed by the same formula in Python (math.log, float64), the
// special cases as MLflow's calculate_npmi_from_counts has them.
func TestScores(t *testing.T) {
	for _, tc := range []struct {
		joint, n1, n2, total int64
		npmi, smoothed       float64
	}{
		{3, 4, 5, 10, 0.33677264689975395, 0.2730787340224989},
		{0, 2, 3, 10, -1, -0.21810429198553158}, // never together: -1 unsmoothed
		{2, 2, 2, 2, 1, 1},                      // always together
		{1, 5, 5, 6, -0.7964888034078543, -0.6562889815145494},
	} {
		npmi, smoothed := Scores(tc.joint, tc.n1, tc.n2, tc.total)
		if math.Abs(npmi-tc.npmi) > 1e-12 || math.Abs(smoothed-tc.smoothed) > 1e-12 {
			t.Errorf("%+v: %v %v", tc, npmi, smoothed)
		}
	}
	for _, tc := range [][4]int64{{0, 0, 3, 10}, {0, 3, 0, 10}, {0, 0, 0, 0}, {5, 4, 5, 10}, {1, 6, 6, 10}} {
		if npmi, smoothed := Scores(tc[0], tc[1], tc[2], tc[3]); !math.IsNaN(npmi) || !math.IsNaN(smoothed) {
			t.Errorf("%v: %v %v, want NaN (undefined)", tc, npmi, smoothed)
		}
	}
}
