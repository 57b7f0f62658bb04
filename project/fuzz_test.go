package project

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// FuzzMLproject parses arbitrary MLproject documents and renders every
// entry point of those that parse, with a fuzzed value for each declared
// parameter and one undeclared: a broken file or a bad value is an
// ErrInvalid (a parameter's an ErrInvalidParameter), never a panic.
func FuzzMLproject(f *testing.F) {
	for _, name := range []string{"full", "defaults", "docker", "badyaml", "nocommand", "badtemplate", "baddefault", "baddocker", "multienv"} {
		b, err := os.ReadFile(filepath.Join("testdata", name, "MLproject"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "0.5")
		f.Add(b, "$(touch pwned) 'x' \"y\" {z}")
	}
	f.Add([]byte("entry_points: {main: {command: 'echo {a}', parameters: {a: {type: int, default: 1e3}}}}"), "7")
	f.Add([]byte("name: x\nentry_points:\n  main:\n    command: echo {{a}} {a} {b\n"), "")
	dir := f.TempDir()
	os.WriteFile(filepath.Join(dir, "data.csv"), []byte("a\n"), 0o644)
	f.Fuzz(func(t *testing.T, doc []byte, value string) {
		p := &Project{Dir: dir, EntryPoints: map[string]*EntryPoint{}}
		if err := p.parse(doc); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("parse: an error of no kind: %v", err)
			}
			return
		}
		p.EnvType()
		names := make([]string, 0, len(p.EntryPoints))
		for n := range p.EntryPoints {
			names = append(names, n)
		}
		sort.Strings(names)
		opts := RenderOptions{CallerDir: dir, Python: "python3", Shell: "bash"}
		for _, n := range append(names, "train.py", "nope") {
			ep, err := p.EntryPoint(n, opts)
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("entry point %q: an error of no kind: %v", n, err)
				}
				continue
			}
			given := []KV{{"extra", value}}
			for _, prm := range ep.Params {
				given = append(given, KV{prm.Name, value})
			}
			for _, g := range [][]KV{given, given[:1]} {
				if _, err := p.Render(ep, g, opts); err != nil && !errors.Is(err, ErrInvalid) {
					t.Fatalf("render %q: an error of no kind: %v", n, err)
				}
			}
		}
	})
}
