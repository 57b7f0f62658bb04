package pipreq

import (
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// cases are requirements with how Python's packaging (23.0, Debian's
// python3-packaging) writes them back; TestStringMatchesPackaging checks
// each against it.
var cases = map[string]string{
	"pandas":                                           "pandas",
	"Pandas >= 1.0 , <2":                               "Pandas<2,>=1.0",
	"numpy (>=1.20,<2)":                                "numpy<2,>=1.20",
	"requests[socks, security]==2.31":                  "requests[security,socks]==2.31",
	"pkg @ https://example.com/pkg-1.0.whl":            "pkg@ https://example.com/pkg-1.0.whl",
	"pkg @ https://e.com/x.whl ; python_version>'3.8'": `pkg@ https://e.com/x.whl ; python_version > "3.8"`,
	`foo>=1; python_version < "3.10" and (sys_platform=='linux' or os_name == "nt")`: `foo>=1; python_version < "3.10" and (sys_platform == "linux" or os_name == "nt")`,
	"x===1.0+local":     "x===1.0+local",
	"scikit_learn~=1.2": "scikit_learn~=1.2",
	"a.b-c_d":           "a.b-c_d",
	"b>=1,>=1":          "b>=1",
	"c[]":               "c",
	`d ; extra == "x"`:  `d; extra == "x"`,
	"  mlflow==3.6.0  ": "mlflow==3.6.0",
}

func TestString(t *testing.T) {
	for in, want := range cases {
		r, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if got := r.String(); got != want {
			t.Errorf("Parse(%q).String() = %q, want %q", in, got, want)
		}
	}
}

// TestStringMatchesPackaging: the cases as Python's packaging itself
// writes them, so the table above cannot drift from it.
func TestStringMatchesPackaging(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import packaging.requirements").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s lacks packaging under CI (.ci/run installs python3-packaging): %v", py, err)
		}
		t.Skipf("%s lacks packaging: apt-get install python3-packaging", py)
	}
	var ins []string
	for in := range cases {
		ins = append(ins, in)
	}
	b, _ := json.Marshal(ins)
	cmd := exec.Command(py, "-c", `import json, sys
from packaging.requirements import Requirement
print(json.dumps([str(Requirement(s)) for s in json.load(sys.stdin)]))`)
	cmd.Stdin = strings.NewReader(string(b))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for i, in := range ins {
		if cases[in] != got[i] {
			t.Errorf("%q: packaging writes %q, the table says %q", in, got[i], cases[in])
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "does not start with a package name",
		"==1.0":                    "does not start with a package name",
		"pandas=1.0":               `invalid version specifier "=1.0"`,
		"pandas[x":                 "unclosed '['",
		"pandas[x y]":              `invalid extra "x y"`,
		"numpy (>=1":               "unclosed '('",
		"pkg @ ":                   "expected a URL",
		"pkg @ https://x y":        "expected ';'",
		"pkg; python_version > '3": "invalid marker",
		"pkg;":                     "empty marker",
	} {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want %q", in, err, want)
		}
	}
}

func mustList(t *testing.T, ss ...string) []Requirement {
	t.Helper()
	rs, err := ParseList(ss)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestAdd(t *testing.T) {
	old := []string{"mlflow==3.6.0", "cloudpickle==2.2.0", "# a comment", "-c constraints.txt", "Scikit_Learn==1.2.1"}
	got := Add(old, mustList(t, "scikit-learn==1.5.0", "Pandas>=2", "pandas<3", "requests[socks]", "requests[security]"))
	want := []string{"mlflow==3.6.0", "cloudpickle==2.2.0", "# a comment", "-c constraints.txt", "scikit-learn==1.5.0", "pandas<3,>=2", "requests[security,socks]"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Add = %q,\nwant %q", got, want)
	}
	// A package listed twice is replaced once.
	if got := Add([]string{"a==1", "b", "a==2"}, mustList(t, "a==3")); !reflect.DeepEqual(got, []string{"a==3", "b"}) {
		t.Fatalf("Add over a repeat = %q", got)
	}
}

func TestRemove(t *testing.T) {
	kept, missing := Remove([]string{"mlflow==3.6.0", "scikit-learn==1.2.1", "numpy<2", "", "# kept"}, mustList(t, "scikit_learn>=9", "NumPy", "torch"))
	if !reflect.DeepEqual(kept, []string{"mlflow==3.6.0", "# kept"}) || !reflect.DeepEqual(missing, []string{"torch"}) {
		t.Fatalf("Remove = %q, %q", kept, missing)
	}
}

func TestParseListNamesEveryBadOne(t *testing.T) {
	_, err := ParseList([]string{"ok==1", "bad=1", "==2"})
	if err == nil || !strings.Contains(err.Error(), `"bad=1"`) || !strings.Contains(err.Error(), `"==2"`) {
		t.Fatalf("ParseList: %v", err)
	}
	rs := mustList(t, " Pandas==2 ")
	if rs[0].Name != "pandas" {
		t.Fatalf("name not lowercased: %+v", rs[0])
	}
}

// FuzzParse: Parse never panics, and what it writes reads back the same.
func FuzzParse(f *testing.F) {
	for in := range cases {
		f.Add(in)
	}
	f.Add("pkg @ file:///tmp/x ; (a == 'b')")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		out := r.String()
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) wrote %q, which does not parse: %v", s, out, err)
		}
		if again.String() != out {
			t.Fatalf("Parse(%q) wrote %q, read back as %q", s, out, again.String())
		}
	})
}

func TestSplitList(t *testing.T) {
	for in, want := range map[string][]string{
		"x==1.0":                     {"x==1.0"},
		"x==1.0,y>=2,<3, z":          {"x==1.0", "y>=2,<3", "z"},
		"a[b,c]==1,d":                {"a[b,c]==1", "d"},
		"mlflow>=2.8, !=2.9.0,numpy": {"mlflow>=2.8,!=2.9.0", "numpy"},
	} {
		if got := SplitList(in); !reflect.DeepEqual(got, want) {
			t.Errorf("SplitList(%q) = %q, want %q", in, got, want)
		}
	}
}
