package pyjson_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/pyjson"
)

// cases are JSON texts whose Python rendering is easy to get wrong:
// key order, nesting, escapes, non-ASCII and astral characters, DEL,
// integers beyond int64, floats in both notations and at their edges.
var cases = []string{
	`{"question": "What is MLflow?", "context": {"b": 1, "a": [1, 2.5, "x"]}}`,
	`{"z": null, "y": true, "x": false, "é": "naïve ✓ 😀", "tab": "a\tb\n\"q\"\\ \u0001 \u007f /"}`,
	`{"n": [0, -0, 1.0, -1.5, 100, 1e2, 1E-5, 0.0001, 0.00001, 1e16, 1e15, 123456789012345678901234567890, 0.1, 2.5e-7, 1e400, -1e400, 3.141592653589793]}`,
	`[{"b": {"d": 1, "c": 2}}, [], {}, ""]`,
	`"top-level string"`,
	`{"k": 1.7976931348623157e308, "m": 5e-324, "p": 123456.789, "q": 1234567890123456.7}`,
	// Lone surrogates, which Python keeps (a truncated emoji), sorted
	// among keys by code point; pairs; U+FDD0, which SortedDumps uses to
	// carry them, raw, escaped and followed by hex digits.
	`{"a": "\ud800", "b": "x\udc00y", "c": "\ud83d\ude00", "d": "\ud800\ud800\udfff", "e": "\uD83D"}`,
	`{"\udc00": 1, "\ue000": 2, "\ud83d\ude00": 3, "\ud800": 4, "\uffff": 5, "\ufdd0": 6}`,
	"{\"m\": \"\ufdd0d800 \ufdd0\", \"n\": \"\\ufdd0d800\\uFDD0\\ud800\\\\ud800\"}",
}

// TestSortedDumpsIsPythons: SortedDumps prints what Python's own
// json.dumps(json.loads(text), sort_keys=True) prints, for each case,
// checked against the python3 on this machine.
func TestSortedDumpsIsPythons(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed to check against Python's json module: install python3")
	}
	for _, c := range cases {
		out, err := exec.Command(py, "-c", "import json,sys; sys.stdout.write(json.dumps(json.loads(sys.argv[1]), sort_keys=True))", c).Output()
		if err != nil {
			t.Fatalf("python3 on %s: %v", c, err)
		}
		got, err := pyjson.SortedDumps([]byte(c))
		if err != nil {
			t.Fatalf("SortedDumps(%s): %v", c, err)
		}
		if string(got) != string(out) {
			t.Errorf("SortedDumps(%s)\n got %s\nwant %s", c, got, out)
		}
	}
	for _, bad := range []string{``, `{`, `{"a": 1} {}`, `[1,]`, `0}`, `"a" "b"`} {
		if _, err := pyjson.SortedDumps([]byte(bad)); err == nil {
			t.Errorf("SortedDumps(%q) gave no error", bad)
		}
	}
	for _, bad := range []string{`{"a": 1} x`, `{"a": 1}}`, `{"a": 1} {}`} {
		if _, err := pyjson.ParseObject([]byte(bad)); err == nil {
			t.Errorf("ParseObject(%q) gave no error", bad)
		}
	}
}

// TestUpdateIsDictUpdate: Update merges as Python's dict.update does,
// checked against python3.
func TestUpdateIsDictUpdate(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed to check against Python's dict.update: install python3")
	}
	for _, c := range [][2]string{
		{`{"a": 1, "b": {"x": 1}}`, `{"b": 2, "c": [3], "a": "one"}`},
		{`{}`, `{"k": null}`},
		{`{"a": 1, "a": 2, "z": 0}`, `{"y": 1}`},
	} {
		out, err := exec.Command(py, "-c", "import json,sys; d=json.loads(sys.argv[1]); d.update(json.loads(sys.argv[2])); sys.stdout.write(json.dumps(d, separators=(',', ':')))", c[0], c[1]).Output()
		if err != nil {
			t.Fatal(err)
		}
		got, err := pyjson.Update([]byte(c[0]), []byte(c[1]))
		if err != nil {
			t.Fatal(err)
		}
		if strings.ReplaceAll(string(got), " ", "") != string(out) {
			t.Errorf("Update(%s, %s) = %s, want %s", c[0], c[1], got, out)
		}
	}
	if got, _ := pyjson.Update(nil, []byte(`{"a": 1}`)); string(got) != `{"a":1}` {
		t.Errorf("Update of nothing = %s", got)
	}
	if _, err := pyjson.Update([]byte(`[1]`), []byte(`{}`)); err == nil {
		t.Error("Update of a list gave no error")
	}
}
