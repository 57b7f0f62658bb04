package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArtifactsCommands: `mlrun artifacts` does what `mlflow artifacts`
// does, on a local database, a server and PostgreSQL: log-artifact puts a
// file (inside --artifact-path), log-artifacts a folder's contents; list
// prints MLflow's JSON listing; download puts the run's artifacts, a path
// of them or an artifact URI's, where MLflow puts them, and prints where;
// mistakes are one line.
func TestArtifactsCommands(t *testing.T) {
	for name, uri := range trackingURIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Setenv("MLFLOW_TRACKING_URI", uri)
			st, err := openStore(context.Background(), uri, "")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			r, err := st.CreateRun(context.Background(), createRunReq("0"))
			if err != nil {
				t.Fatal(err)
			}
			id := r.Info.RunID
			dir := t.TempDir()
			write := func(rel, content string) string {
				p := filepath.Join(dir, filepath.FromSlash(rel))
				must(t, os.MkdirAll(filepath.Dir(p), 0o755))
				must(t, os.WriteFile(p, []byte(content), 0o644))
				return p
			}
			file := write("f.txt", "hello")
			write("d/a.txt", "A")
			write("d/sub/b.txt", "BB")
			mustRun(t, "artifacts", "log-artifact", "-l", file, "-r", id)
			mustRun(t, "artifacts", "log-artifact", "--local-file", file, "--run-id", id, "--artifact-path", "docs")
			mustRun(t, "artifacts", "log-artifacts", "-l", filepath.Join(dir, "d"), "-r", id, "-a", "model")

			var listing []map[string]any
			out := mustRun(t, "artifacts", "list", "-r", id)
			if err := json.Unmarshal([]byte(out), &listing); err != nil {
				t.Fatalf("list is not JSON: %v\n%s", err, out)
			}
			if got, _ := json.Marshal(listing); string(got) != `[{"is_dir":true,"path":"docs"},{"file_size":5,"is_dir":false,"path":"f.txt"},{"is_dir":true,"path":"model"}]` {
				t.Errorf("list: %s", got)
			}
			if out := mustRun(t, "artifacts", "list", "-r", id, "-a", "model"); !strings.Contains(out, `"path": "model/a.txt"`) || !strings.Contains(out, `"path": "model/sub"`) {
				t.Errorf("list of model:\n%s", out)
			}

			read := func(p string) string {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Errorf("%v", err)
				}
				return string(b)
			}
			dst := t.TempDir()
			for _, tc := range []struct {
				args  []string
				where string
				files map[string]string
			}{
				{[]string{"-r", id, "-d", filepath.Join(dst, "all")}, "all", map[string]string{"f.txt": "hello", "docs/f.txt": "hello", "model/sub/b.txt": "BB"}},
				{[]string{"-r", id, "-a", "model", "-d", filepath.Join(dst, "m")}, "m/model", map[string]string{"a.txt": "A", "sub/b.txt": "BB"}},
				{[]string{"-r", id, "-a", "docs/f.txt", "-d", filepath.Join(dst, "one")}, "one/docs/f.txt", map[string]string{"": "hello"}},
				{[]string{"-u", "runs:/" + id + "/model/sub", "-d", filepath.Join(dst, "u")}, "u/sub", map[string]string{"b.txt": "BB"}},
			} {
				out := strings.TrimSpace(mustRun(t, append([]string{"artifacts", "download"}, tc.args...)...))
				if want := filepath.Join(dst, filepath.FromSlash(tc.where)); out != want {
					t.Errorf("download %v printed %q, want %q", tc.args, out, want)
				}
				for rel, content := range tc.files {
					if got := read(filepath.Join(out, filepath.FromSlash(rel))); got != content {
						t.Errorf("download %v: %s = %q, want %q", tc.args, rel, got, content)
					}
				}
			}

			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"download"}, "give --run-id (with --artifact-path) or --artifact-uri"},
				{[]string{"log-artifact", "-l", filepath.Join(dir, "d"), "-r", id}, "is a folder: use log-artifacts"},
				{[]string{"log-artifacts", "-l", file, "-r", id}, "is not a folder: use log-artifact"},
				{[]string{"list", "-r", "0123456789abcdef0123456789abcdef"}, "not found"},
				{[]string{"download", "-r", id, "-a", "../../etc", "-d", dst}, "'..'"},
				{[]string{"log-artifact", "-l", file}, "--run-id is required"},
			} {
				if out, err := mlrun(t, append([]string{"artifacts"}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("artifacts %v: %v %s, want an error saying %q", tc.args, err, out, tc.want)
				}
			}
		})
	}
	if out := mustRun(t, "ui", "--help"); !strings.Contains(out, "--backend-store-uri") {
		t.Errorf("mlrun ui is not mlrun server:\n%s", out)
	}
}
