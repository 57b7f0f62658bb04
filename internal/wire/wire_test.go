package wire_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/mlrun/mlrun/internal/wire"
)

func TestFloatJSON(t *testing.T) {
	for v, want := range map[float64]string{math.Inf(1): `"Infinity"`, math.Inf(-1): `"-Infinity"`, 0.5: `0.5`, 1e21: `1e+21`} {
		b, err := json.Marshal(wire.Float(v))
		if err != nil || string(b) != want {
			t.Errorf("%v: %s %v", v, b, err)
		}
	}
	if b, _ := json.Marshal(wire.Float(math.NaN())); string(b) != `"NaN"` {
		t.Errorf("NaN: %s", b)
	}
	for in, want := range map[string]float64{`"NaN"`: math.NaN(), `"Infinity"`: math.Inf(1), `"-Infinity"`: math.Inf(-1), `"0.25"`: 0.25, `3`: 3, `1e400`: math.Inf(1)} {
		var f wire.Float
		if err := json.Unmarshal([]byte(in), &f); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !(float64(f) == want || math.IsNaN(want) && math.IsNaN(float64(f))) {
			t.Errorf("%s: got %v", in, f)
		}
	}
	for _, bad := range []string{`"abc"`, `true`, `[1]`} {
		var f wire.Float
		if json.Unmarshal([]byte(bad), &f) == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestLenientScalars(t *testing.T) {
	var req struct {
		ID  wire.ID    `json:"experiment_id"`
		N   wire.Int64 `json:"max_results"`
		E   wire.Enum  `json:"status"`
		B   wire.Bool  `json:"b"`
		IDs []wire.ID  `json:"experiment_ids"`
	}
	err := json.Unmarshal([]byte(`{"experiment_id": 7, "max_results": "100", "status": 3, "b": "TRUE", "experiment_ids": [1, "2"]}`), &req)
	if err != nil {
		t.Fatal(err)
	}
	if req.ID != "7" || req.N != 100 || req.E != "3" || !req.B || len(req.IDs) != 2 || req.IDs[0] != "1" || req.IDs[1] != "2" {
		t.Fatalf("%+v", req)
	}
	var n wire.Int64
	if json.Unmarshal([]byte(`"1.5"`), &n) == nil {
		t.Fatal("1.5 accepted as an int64")
	}
	var b wire.Bool
	if json.Unmarshal([]byte(`"yes"`), &b) == nil {
		t.Fatal("yes accepted as a bool")
	}
}
