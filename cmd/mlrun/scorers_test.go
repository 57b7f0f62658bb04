package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScorersCommands: `mlrun scorers` on a local database, a server and
// PostgreSQL: register a serialized scorer from a file as the next
// version, list (MLflow's JSON {"scorers": [names]} with --output json),
// versions, get (the serialized form, or one version), delete one version
// then all; mistakes are one line.
func TestScorersCommands(t *testing.T) {
	for name, uri := range trackingURIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Setenv("MLFLOW_TRACKING_URI", uri)
			exp := newExperiment(t, uri, "judges")
			dir := t.TempDir()
			v1, v2 := filepath.Join(dir, "v1.json"), filepath.Join(dir, "v2.json")
			must(t, os.WriteFile(v1, []byte(`{"name": "quality", "instructions_judge_pydantic_data": {"instructions": "Is {{ outputs }} polite?"}}`), 0o644))
			must(t, os.WriteFile(v2, []byte(`{"name": "quality", "v": 2}`), 0o644))
			if out := mustRun(t, "scorers", "register", "-x", exp, "-n", "quality", v1); !strings.Contains(out, "Registered scorer 'quality' version 1 in experiment "+exp) {
				t.Errorf("register: %s", out)
			}
			mustRun(t, "scorers", "register", "-x", exp, "-n", "quality", v2)
			t.Setenv("MLFLOW_EXPERIMENT_ID", exp) // as mlflow scorers list
			mustRun(t, "scorers", "register", "-n", "safety", v2)

			if out := mustRun(t, "scorers", "list", "--output", "json"); out != "{\n  \"scorers\": [\n    \"quality\",\n    \"safety\"\n  ]\n}\n" {
				t.Errorf("list --output json:\n%s", out)
			}
			if out := mustRun(t, "scorers", "list"); !strings.Contains(out, "quality  2") || !strings.Contains(out, "safety   1") {
				t.Errorf("list:\n%s", out)
			}
			if out := mustRun(t, "scorers", "versions", "-n", "quality"); strings.Count(out, "quality") != 2 {
				t.Errorf("versions:\n%s", out)
			}
			var first map[string]any
			out := mustRun(t, "scorers", "get", "-n", "quality", "--version", "1")
			if err := json.Unmarshal([]byte(out), &first); err != nil || first["name"] != "quality" || first["instructions_judge_pydantic_data"] == nil {
				t.Errorf("get --version 1: %v\n%s", err, out)
			}
			var latest struct {
				Scorer struct {
					ScorerVersion    int    `json:"scorer_version"`
					SerializedScorer string `json:"serialized_scorer"`
				} `json:"scorer"`
			}
			if out := mustRun(t, "scorers", "get", "-n", "quality", "--json"); json.Unmarshal([]byte(out), &latest) != nil || latest.Scorer.ScorerVersion != 2 || latest.Scorer.SerializedScorer != `{"name": "quality", "v": 2}` {
				t.Errorf("get --json:\n%s", out)
			}

			// mlflow scorers register-llm-judge: make_judge's serialization.
			if out := mustRun(t, "scorers", "register-llm-judge", "-n", "polite", "-i", "Is {{ outputs }} polite given {{inputs}}?", "-m", "openai:/gpt-4"); !strings.Contains(out, "Successfully created and registered judge scorer 'polite' in experiment "+exp) {
				t.Errorf("register-llm-judge: %s", out)
			}
			var judge struct {
				Name                 string         `json:"name"`
				SerializationVersion int            `json:"serialization_version"`
				Data                 map[string]any `json:"instructions_judge_pydantic_data"`
				CallSource           *string        `json:"call_source"`
			}
			if out := mustRun(t, "scorers", "get", "-n", "polite"); json.Unmarshal([]byte(out), &judge) != nil || judge.Name != "polite" || judge.SerializationVersion != 1 ||
				judge.Data["instructions"] != "Is {{ outputs }} polite given {{inputs}}?" || judge.Data["model"] != "openai:/gpt-4" || judge.CallSource != nil {
				t.Errorf("the judge as stored:\n%s", out)
			}
			for args, want := range map[string]string{
				"Be polite":                             "at least one of {{ inputs }}",
				"Check {{ outputs }} and {{ context }}": "{{ context }}",
			} {
				if _, err := mlrun(t, "scorers", "register-llm-judge", "-n", "bad", "-i", args); err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("register-llm-judge -i %q: %v, want %q", args, err, want)
				}
			}

			mustRun(t, "scorers", "delete", "-n", "quality", "--version", "1")
			if out := mustRun(t, "scorers", "versions", "-n", "quality", "--json"); strings.Contains(out, `"scorer_version": 1,`) || !strings.Contains(out, `"scorer_version": 2,`) {
				t.Errorf("versions after deleting version 1:\n%s", out)
			}
			if out := mustRun(t, "scorers", "delete", "-n", "quality"); !strings.Contains(out, "Deleted scorer 'quality'") {
				t.Errorf("delete: %s", out)
			}
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"scorers", "get", "-n", "quality"}, "Scorer with name 'quality' not found for experiment " + exp},
				{[]string{"scorers", "delete", "-n", "quality"}, "Scorer with name 'quality' not found"},
				{[]string{"scorers", "get"}, "scorers get: give --name NAME"},
				{[]string{"scorers", "get", "-n", "safety", "--version", "-1"}, "scorer versions start at 1"},
				{[]string{"scorers", "list", "-x", "987654"}, "No Experiment with id=987654 exists"},
				{[]string{"scorers", "list", "--output", "yaml"}, "--output yaml: want table or json"},
				{[]string{"scorers", "register", "-n", "x", filepath.Join(dir, "missing.json")}, "missing.json"},
				{[]string{"scorers", "register", "-n", "x", filepath.Join(dir, "v1.json"), "extra"}, "give the serialized scorer's FILE"},
			} {
				out, err := mlrun(t, tc.args...)
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("mlrun %s: %v (%s), want one line with %q", strings.Join(tc.args, " "), err, out, tc.want)
				}
			}
			os.WriteFile(v1, []byte("not json"), 0o644)
			if _, err := mlrun(t, "scorers", "register", "-n", "x", v1); err == nil || !strings.Contains(err.Error(), "is not JSON") {
				t.Errorf("register of a non-JSON file: %v", err)
			}
		})
	}
}
