package inputexample_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/mlrun/mlrun/internal/inputexample"
)

const mlflow36Model = "../../../shared/testdata/mlflow-3.6/mlartifacts/1/models/m-bd2ded587a44407892455c38615f9805/artifacts"

// TestAgreesWithMLflow36: the serving example MLflow 3.6's log_model wrote
// for an iris DataFrame, read back, gives MLflow's own files byte for byte
// and the inputs of the signature MLflow inferred.
func TestAgreesWithMLflow36(t *testing.T) {
	want := func(name string) string {
		b, err := os.ReadFile(filepath.Join(mlflow36Model, name))
		if err != nil {
			t.Fatalf("the MLflow 3.6 fixture is missing: %v", err)
		}
		return string(b)
	}
	e, err := inputexample.Read(filepath.Join(mlflow36Model, inputexample.ServingFile))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := e.Write(dir)
	if err != nil || len(files) != 2 {
		t.Fatalf("write: %v %v", files, err)
	}
	for _, f := range files {
		got, _ := os.ReadFile(filepath.Join(dir, f))
		if string(got) != want(f) {
			t.Errorf("%s:\n%s\nMLflow 3.6 wrote:\n%s", f, got, want(f))
		}
	}
	var mm struct {
		Signature struct{ Inputs string } `yaml:"signature"`
		Info      map[string]any          `yaml:"saved_input_example_info"`
	}
	if err := yaml.Unmarshal([]byte(want("MLmodel")), &mm); err != nil {
		t.Fatal(err)
	}
	if got := e.Schema(); got != mm.Signature.Inputs {
		t.Errorf("schema:\n%s\nMLflow 3.6 inferred:\n%s", got, mm.Signature.Inputs)
	}
	for k, v := range inputexample.Info() {
		if mm.Info[k] != v {
			t.Errorf("saved_input_example_info %s = %v, MLflow 3.6 wrote %v", k, v, mm.Info[k])
		}
	}
}

// TestTypes: columns typed as pandas reads them, from records and CSV.
func TestTypes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	for path, want := range map[string]string{
		write("records.json", `{"dataframe_records": [{"n": 1, "x": 2, "s": "a\u00e9", "b": true}, {"x": 1.5, "n": 2, "b": false, "s": "b", "late": 3}]}`): `[{"type": "long", "name": "n", "required": true}, {"type": "double", "name": "x", "required": true}, {"type": "string", "name": "s", "required": true}, {"type": "boolean", "name": "b", "required": true}, {"type": "double", "name": "late", "required": false}]` +
			"\n" + `{"columns": ["n", "x", "s", "b", "late"], "data": [[1, 2.0, "a\u00e9", true, null], [2, 1.5, "b", false, 3.0]]}`,
		write("frame.csv", "n,x,s,b\n1,2,a,True\n2,,b,false\n"): `[{"type": "long", "name": "n", "required": true}, {"type": "double", "name": "x", "required": false}, {"type": "string", "name": "s", "required": true}, {"type": "boolean", "name": "b", "required": true}]` +
			"\n" + `{"columns": ["n", "x", "s", "b"], "data": [[1, 2.0, "a", true], [2, null, "b", false]]}`,
		// pandas' NA tokens are missing; a column with text is text, "007"
		// and all; " 2 " is a number; TRUE a boolean.
		write("pandas.csv", "n,z,b,s\nNA,007,TRUE,1\n2,abc,NA, 2 \n"): `[{"type": "double", "name": "n", "required": false}, {"type": "string", "name": "z", "required": true}, {"type": "boolean", "name": "b", "required": false}, {"type": "long", "name": "s", "required": true}]` +
			"\n" + `{"columns": ["n", "z", "b", "s"], "data": [[null, "007", true, 1], [2.0, "abc", null, 2]]}`,
	} {
		e, err := inputexample.Read(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out := t.TempDir()
		if _, err := e.Write(out); err != nil {
			t.Fatal(err)
		}
		split, _ := os.ReadFile(filepath.Join(out, inputexample.ExampleFile))
		if got := e.Schema() + "\n" + string(split); got != want {
			t.Errorf("%s:\n%s\nwant\n%s", filepath.Base(path), got, want)
		}
	}
}

// TestBadExamples: each is refused with a line naming what is wrong.
func TestBadExamples(t *testing.T) {
	dir := t.TempDir()
	for body, want := range map[string]string{
		`[1, 2]`:                               "not a JSON object",
		`{"inputs": [[1, 2]]}`:                 "want exactly one of dataframe_split or dataframe_records",
		`{"dataframe_split": {"data": [[1]]}}`: "columns are missing",
		`{"dataframe_split": {"columns": ["a", "b"], "data": [[1]]}}`: "row 0 has 1 values for 2 columns",
		`{"dataframe_split": {"columns": ["a"], "data": []}}`:         "no rows",
		`{"dataframe_records": [{"a": 1}, {"a": "x"}]}`:               `column "a" mixes kinds of values`,
		`{"dataframe_records": [{"a": [1, 2]}]}`:                      "only columns of numbers, strings and booleans",
		`{"dataframe_records": [{"a": null}]}`:                        `column "a" has no values`,
		`{"dataframe_records": [{"a": 123456789012345678901234}]}`:    "does not fit a 64-bit integer",
		`{"dataframe_split": `:                                        "not a JSON object",
	} {
		p := filepath.Join(dir, "ex.json")
		os.WriteFile(p, []byte(body), 0o644)
		e, err := inputexample.Read(p)
		if err == nil {
			_, err = e.Write(t.TempDir())
		}
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line with %q", body, err, want)
		}
	}
	if _, err := inputexample.Read(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}
