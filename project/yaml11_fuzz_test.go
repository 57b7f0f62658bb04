package project

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// pyYAML prints, for each line it reads (a JSON string: a plain scalar),
// Python's str() of what yaml.safe_load makes of "default: <scalar>" as
// JSON, null for None, or "!" where PyYAML refuses the document or reads
// no plain scalar.
const pyYAML = `
import json, sys, yaml
for line in sys.stdin:
    s = json.loads(line)
    try:
        v = yaml.safe_load("default: " + s + "\n")
        v = v["default"]
        out = None if v is None else ("!" if isinstance(v, (dict, list)) else str(v))
    except Exception:
        out = "!"
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
`

// FuzzPyYAMLScalars compares pyScalar with Debian's python3-yaml (what
// MLflow reads MLproject files with) on plain scalars made of the
// characters that decide YAML 1.1's typing (digits, signs, '.', ':',
// '_', 'e', 'x', 'o', 'b', letters of the booleans and of inf and nan,
// ' ', '-', 'T', 'Z'), for the scalars both parsers read as one.
func FuzzPyYAMLScalars(f *testing.F) {
	for _, s := range []string{"1_000.5", "190:20:30.15", "0x1F", "2001-12-14 21:59:43.10 -5", "-.inf", "0b101", "1e3", "+12:00"} {
		f.Add(s)
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		f.Fatal("python3 (with python3-yaml) is needed to compare with PyYAML: install them")
	}
	if err := exec.Command(py, "-c", "import yaml").Run(); err != nil {
		f.Fatal("python3-yaml is needed to compare with PyYAML: apt-get install python3-yaml")
	}
	cmd := exec.Command(py, "-c", pyYAML)
	in, _ := cmd.StdinPipe()
	outPipe, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { in.Close(); cmd.Wait() })
	out := bufio.NewReader(outPipe)
	const alphabet = "0123456789+-.:_ eExXoObBaAfFiInNlLsStTrRuUyYZ"
	f.Fuzz(func(t *testing.T, raw string) {
		var b strings.Builder
		for _, c := range []byte(raw) {
			b.WriteByte(alphabet[int(c)%len(alphabet)])
		}
		s := strings.TrimSpace(b.String())
		var doc yaml.Node
		if yaml.Unmarshal([]byte("default: "+s+"\n"), &doc) != nil || len(doc.Content) == 0 || len(doc.Content[0].Content) < 2 {
			return
		}
		n := doc.Content[0].Content[1]
		if n.Kind != yaml.ScalarNode || n.Style != 0 {
			return
		}
		line, _ := json.Marshal(s)
		in.Write(append(line, '\n'))
		res, err := out.ReadBytes('\n')
		if err != nil {
			t.Fatal(err)
		}
		var want *string
		if err := json.Unmarshal(res, &want); err != nil {
			t.Fatal(err)
		}
		if want != nil && *want == "!" {
			return
		}
		got, ok := pyScalar(n)
		switch {
		case want == nil && ok:
			t.Fatalf("%q: got %q, PyYAML reads None", s, got)
		case want != nil && (!ok || got != *want):
			t.Fatalf("%q: got %q (%v), PyYAML reads %q", s, got, ok, *want)
		}
	})
}
