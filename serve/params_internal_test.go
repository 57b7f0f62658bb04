package serve

import (
	"encoding/json"
	"testing"
)

// TestEnforcedParamsAsPythonGetsThem: the params a predictor (a Python
// worker) gets are MLflow's converted values: defaults for absent ones,
// an int given for a double as a float (1.0), a datetime as numpy reads
// it (a date, or a datetime with an offset taken to UTC), unknown keys
// dropped.
func TestEnforcedParamsAsPythonGetsThem(t *testing.T) {
	specs, err := parseParamSchema(`[{"name": "t", "type": "double", "default": 0.5}, {"name": "f", "type": "float", "default": 1}, {"name": "k", "type": "integer", "default": 5}, {"name": "d", "type": "datetime", "default": "2024-01-02"}, {"name": "ds", "type": "datetime", "default": ["2024-01-02T03:04"], "shape": [-1]}, {"name": "s", "type": "string", "default": null}]`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ params, want string }{
		{``, `{"d":"2024-01-02","ds":["2024-01-02T03:04:00"],"f":1.0,"k":5,"s":null,"t":0.5}`},
		{`{"t": 1, "f": 2.5, "k": -7, "d": "2024-05-06T07:08:09.5+02:00", "ds": [], "s": "x", "zzz": 1}`, `{"d":"2024-05-06T05:08:09.500000","ds":[],"f":2.5,"k":-7,"s":"x","t":1.0}`},
		{`{"d": "2024", "ds": ["2024-03", "2024-03-04 05:06:07Z"]}`, `{"d":"2024-01-01","ds":["2024-03-01","2024-03-04T05:06:07"],"f":1.0,"k":5,"s":null,"t":0.5}`},
	} {
		got, err := enforceParams(json.RawMessage(tc.params), specs)
		if err != nil {
			t.Fatalf("%s: %v", tc.params, err)
		}
		b, _ := json.Marshal(got)
		if string(b) != tc.want {
			t.Errorf("%s: %s, want %s", tc.params, b, tc.want)
		}
	}
}
