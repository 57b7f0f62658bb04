package project

import (
	"encoding/json"
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestPyYAMLScalars compares pyScalar with what PyYAML itself makes of
// each plain scalar: testdata/yaml11/cases.json was written by
// testdata/yaml11/gen.py with Debian's python3-yaml (str() of
// yaml.safe_load's value; null for None).
func TestPyYAMLScalars(t *testing.T) {
	b, err := os.ReadFile("testdata/yaml11/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Cases map[string]*string `json:"cases"`
	}
	if err := json.Unmarshal(b, &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Cases) < 80 {
		t.Fatalf("only %d cases", len(table.Cases))
	}
	for in, want := range table.Cases {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte("default: "+in+"\n"), &doc); err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		got, ok := pyScalar(doc.Content[0].Content[1])
		switch {
		case want == nil && ok:
			t.Errorf("%q: got %q, PyYAML reads None", in, got)
		case want != nil && (!ok || got != *want):
			t.Errorf("%q: got %q (%v), PyYAML reads %q", in, got, ok, *want)
		}
	}
}
