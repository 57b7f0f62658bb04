package wire

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// TestAppendFloatIsFloatsJSON: AppendFloat writes what encoding/json
// writes for a float64 (Float's own strings for NaN and ±Inf), for the
// edges of its format switch and for 200,000 random bit patterns.
func TestAppendFloatIsFloatsJSON(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.99999e-7, 1e-7, -1e-7, 1e21, 9.99e20, 1e22, 1.5e-300, 5e-324,
		math.MaxFloat64, -math.MaxFloat64, 123456789.125, 1e20, 2.5e-10}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		vals = append(vals, math.Float64frombits(r.Uint64()))
	}
	for _, v := range vals {
		got := string(AppendFloat(nil, v))
		var want string
		switch {
		case math.IsNaN(v):
			want = `"NaN"`
		case math.IsInf(v, 1):
			want = `"Infinity"`
		case math.IsInf(v, -1):
			want = `"-Infinity"`
		default:
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			want = string(b)
		}
		if got != want {
			t.Fatalf("AppendFloat(%v) = %s, encoding/json: %s", v, got, want)
		}
	}
}

// TestAppendHistoryPointIsMetricsJSON: a point written by
// AppendHistoryPoint is Metric's JSON, key escaping included.
func TestAppendHistoryPointIsMetricsJSON(t *testing.T) {
	for _, key := range []string{"loss", `a<b>&"c"\u2028`, "ключ"} {
		for _, v := range []float64{math.NaN(), math.Inf(-1), 0.25, -3e-9} {
			k, _ := json.Marshal(key)
			got := string(AppendHistoryPoint(nil, k, v, -17, 1<<60))
			want, _ := json.Marshal(Metric{Key: key, Value: Float(v), Timestamp: -17, Step: 1 << 60})
			if got != string(want) {
				t.Fatalf("got %s, want %s", got, want)
			}
		}
	}
}
