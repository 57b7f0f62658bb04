package pyjson_test

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/mlrun/mlrun/internal/pyjson"
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
	py, err := exec.LookPath("python3")
	if err != nil {
		f.Fatal("python3 is needed to check against Python's json module: install python3")
	}
	cmd := exec.Command(py, "-c", pyDumps)
	in, _ := cmd.StdinPipe()
	outPipe, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { in.Close(); cmd.Wait() })
	out := bufio.NewReader(outPipe)
	python := func(t *testing.T, text string) (string, bool) {
		line, _ := json.Marshal(text)
		if _, err := in.Write(append(line, '\n')); err != nil {
			t.Fatal(err)
		}
		got, err := out.ReadBytes('\n')
		if err != nil {
			t.Fatal(err)
		}
		var s string
		if err := json.Unmarshal(got, &s); err != nil {
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
