package project

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func load(t *testing.T, name string) *Project {
	t.Helper()
	p, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRenderCommands(t *testing.T) {
	full := load(t, "full")
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	caller := t.TempDir()
	os.WriteFile(filepath.Join(caller, "mine.csv"), []byte("x"), 0o644)
	opts := RenderOptions{CallerDir: caller, Python: "python", Shell: "bash"}
	cases := []struct {
		name, project, entry string
		params               []KV
		want                 string
		logged               []KV
	}{
		{
			name: "defaults", project: "full", entry: "main", params: []KV{{"note", "n"}},
			want:   "python train.py 0.5 0.1 --epochs 100 --name 'hi there' --data " + abs("testdata/full/data.csv") + " --src s3://bucket/key --note n",
			logged: []KV{{"alpha", "0.5"}, {"l1_ratio", "0.1"}, {"epochs", "100"}, {"name", "hi there"}, {"data", "data.csv"}, {"src", "s3://bucket/key"}, {"note", "n"}},
		},
		{
			name: "given values, quoting and extras", project: "full", entry: "main",
			params: []KV{{"alpha", "0.7"}, {"note", "it's"}, {"extra", "q r"}, {"data", "mine.csv"}, {"flag", ""}},
			want:   "python train.py 0.7 0.1 --epochs 100 --name 'hi there' --data " + filepath.Join(caller, "mine.csv") + " --src s3://bucket/key --note 'it'\"'\"'s' --extra 'q r' --flag ''",
			logged: []KV{{"alpha", "0.7"}, {"l1_ratio", "0.1"}, {"epochs", "100"}, {"name", "hi there"}, {"data", "mine.csv"}, {"src", "s3://bucket/key"}, {"note", "it's"}, {"extra", "q r"}, {"flag", ""}},
		},
		{name: "literal braces", project: "full", entry: "braces", want: "echo {literal} a", logged: []KV{{"x", "a"}}},
		{name: "py script", project: "noproject", entry: "train.py", params: []KV{{"alpha", "1"}}, want: "python train.py --alpha 1", logged: []KV{{"alpha", "1"}}},
		{name: "sh script", project: "noproject", entry: "run.sh", want: "bash run.sh"},
		{name: "script in an MLproject folder", project: "full", entry: "other.py", want: "python other.py"},
		{
			name: "YAML 1.1 defaults as Python prints them", project: "defaults", entry: "main",
			want: "echo 1e-1 1.0 1e-05 1.5e+16 8 True 010 1000",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := load(t, tc.project)
			ep, err := p.EntryPoint(tc.entry, opts)
			if err != nil {
				t.Fatal(err)
			}
			r, err := p.Render(ep, tc.params, opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Command != tc.want {
				t.Fatalf("command\n got %s\nwant %s", r.Command, tc.want)
			}
			if tc.logged != nil && !equalKV(r.Params, tc.logged) {
				t.Fatalf("params\n got %v\nwant %v", r.Params, tc.logged)
			}
		})
	}
	_ = full
}

func equalKV(a, b []KV) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestValidationMessages(t *testing.T) {
	opts := RenderOptions{CallerDir: t.TempDir(), Python: "python"}
	render := func(project, entry string, params ...KV) error {
		p, err := Load(filepath.Join("testdata", project))
		if err != nil {
			return err
		}
		ep, err := p.EntryPoint(entry, opts)
		if err != nil {
			return err
		}
		_, err = p.Render(ep, params, opts)
		return err
	}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"missing required", render("full", "main"), "No value given for missing parameters: 'note'"},
		{"two missing", render("docker", "main"), "No value given for missing parameters: 'alpha'"},
		{"unknown entry point", render("full", "nope"), "Could not find nope among entry points ['braces', 'main'] or interpret nope as a runnable script. Supported script file extensions: ['.py', '.sh']"},
		{"bad YAML with its line", render("badyaml", "main"), "MLproject is not valid YAML: line 2: did not find expected key"},
		{"int type", render("full", "main", KV{"note", "x"}, KV{"epochs", "ten"}), "Parameter 'epochs' is of type int, but got value 'ten', which is not an integer"},
		{"float type", render("full", "main", KV{"note", "x"}, KV{"alpha", "abc"}), "Parameter 'alpha' is of type float, but got value 'abc', which is not a number"},
		{"uri type", render("full", "main", KV{"note", "x"}, KV{"src", "relative/path"}), "Expected URI for parameter src but got relative/path"},
		{"missing path", render("full", "main", KV{"note", "x"}, KV{"data", "nope.csv"}), "Got value nope.csv for parameter data, but no such file or directory was found."},
		{"bad default", render("baddefault", "main"), "invalid parameter: Got value missing.csv for parameter data, but no such file or directory was found. (MLproject's default for data)"},
		{"repeated", render("full", "main", KV{"note", "x"}, KV{"note", "y"}), "Repeated parameter: 'note'"},
		{"multiple envs", render("multienv", "main"), "Project cannot contain multiple environment fields: [python_env conda_env]"},
		{"undeclared template field", render("badtemplate", "main", KV{"a", "1"}), "the command uses {b}, which is not a declared parameter"},
		{"docker without image", render("baddocker", "main"), "Project configuration (MLproject file) was invalid: Docker environment specified but no image attribute found."},
		{"no command", render("nocommand", "main"), "entry point 'main' has no command"},
		{"missing env file", render("missingenv", "main"), "Project specified python_env file " + mustAbs("testdata/missingenv/nope.yaml") + ", but no such file was found."},
		{"not a folder", render("full/data.csv", "main"), "is not a folder"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
				t.Fatalf("got %v\nwant …%s…", tc.err, tc.want)
			}
			if !errors.Is(tc.err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", tc.err)
			}
			// A value given to a parameter is named as such, not as a
			// broken project.
			param := map[string]bool{"missing required": true, "two missing": true, "int type": true,
				"float type": true, "uri type": true, "missing path": true, "bad default": true, "repeated": true}[tc.name]
			if errors.Is(tc.err, ErrInvalidParameter) != param || strings.HasPrefix(tc.err.Error(), "invalid parameter: ") != param {
				t.Fatalf("error %q: ErrInvalidParameter is %v, want %v", tc.err, !param, param)
			}
			if strings.Contains(tc.err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", tc.err)
			}
		})
	}
}

func mustAbs(p string) string { a, _ := filepath.Abs(p); return a }

func TestDockerEnv(t *testing.T) {
	p := load(t, "docker")
	d := p.Docker
	if p.Name != "docker-example" || d == nil || d.Image != "mlrun-test-base:1" || len(d.Volumes) != 1 || d.Volumes[0] != "/tmp:/host-tmp" {
		t.Fatalf("docker env %+v", d)
	}
	want := []EnvVar{{Name: "NEW_VAR", Value: "value"}, {Name: "COPY_FROM_HOST", FromHost: true}, {Name: "N", Value: "5"}}
	if len(d.Environment) != 3 || d.Environment[0] != want[0] || d.Environment[1] != want[1] || d.Environment[2] != want[2] {
		t.Fatalf("environment %+v", d.Environment)
	}
	if p.EnvType() != "docker" {
		t.Fatalf("env type %q", p.EnvType())
	}
	if f := load(t, "full"); f.EnvType() != "python" || f.PythonEnv != "python_env.yaml" {
		t.Fatalf("python env %q", f.PythonEnv)
	}
}

func TestPyFloatAndQuote(t *testing.T) {
	for f, want := range map[float64]string{0.1: "0.1", 1: "1.0", 1e-5: "1e-05", 1e16: "1e+16", 1e15: "1000000000000000.0", 123.456: "123.456", -0.0001: "-0.0001", 2.5e-7: "2.5e-07"} {
		if got := PyFloat(f); got != want {
			t.Errorf("PyFloat(%v) = %s, want %s", f, got, want)
		}
	}
	for s, want := range map[string]string{"": "''", "abc": "abc", "a b": "'a b'", "it's": `'it'"'"'s'`, "x=1,y:/p@%+-.": "x=1,y:/p@%+-.", "$HOME": "'$HOME'"} {
		if got := Quote(s); got != want {
			t.Errorf("Quote(%q) = %s, want %s", s, got, want)
		}
	}
}
