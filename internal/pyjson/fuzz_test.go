package pyjson_test

import (
	"encoding/json"
	"testing"

	"github.com/mlrun/mlrun/internal/pyjson"
	"github.com/mlrun/mlrun/internal/pylines"
)

// pyDumps is a python3 process printing json.dumps(json.loads(line),
// sort_keys=True) for each line it reads (a JSON string holding the
// text), or "!" where Python refuses the text.
const pyDumps = `
import json, sys
for line in sys.stdin:
    try:
        out = json.dumps(json.loads(json.loads(line)), sort_keys=True)
    except Exception:
        out = "!"
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
`

// FuzzSortedDumpsIsPythons: for any text both accept, SortedDumps prints
// exactly what Python's json module prints (the dataset records' hash
// depends on it); a text Go's decoder accepts and Python refuses is a
// failure too.
func FuzzSortedDumpsIsPythons(f *testing.F) {
	for _, c := range cases {
		f.Add(c)
	}
	py := pylines.Start(f, pyDumps, "install python3")
	python := func(t *testing.T, text string) (string, bool) {
		line, _ := json.Marshal(text)
		var s string
		if err := json.Unmarshal([]byte(py.Ask(t, string(line))), &s); err != nil {
			t.Fatal(err)
		}
		return s, s != "!"
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, err := pyjson.SortedDumps([]byte(text))
		if err != nil {
			return
		}
		want, ok := python(t, text)
		if !ok {
			t.Fatalf("SortedDumps(%q) = %s; Python refuses the text", text, got)
		}
		if string(got) != want {
			t.Fatalf("SortedDumps(%q)\n got %s\nwant %s", text, got, want)
		}
	})
}
