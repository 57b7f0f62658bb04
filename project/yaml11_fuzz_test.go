package project

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/pylines"
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
	py := pylines.Start(f, pyYAML, "apt-get install python3-yaml", "yaml")
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
		var want *string
		if err := json.Unmarshal([]byte(py.Ask(t, string(line))), &want); err != nil {
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
