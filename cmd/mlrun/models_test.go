package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/store"
)

// TestModelsEndToEnd registers a run's logged model, stages and aliases
// it, and downloads it back by models:/ URIs, on SQLite and over HTTP.
func TestModelsEndToEnd(t *testing.T) {
	for name, uri := range trackingURIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Setenv("MLFLOW_TRACKING_URI", uri)
			t.Setenv("MLFLOW_REGISTRY_URI", "")
			t.Chdir(t.TempDir())
			st, err := openStore(context.Background(), uri, "")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var runs []string
			for i, content := range []string{"weights-v1", "weights-v2"} {
				r, err := st.CreateRun(context.Background(), store.CreateRun{})
				if err != nil {
					t.Fatal(err)
				}
				runs = append(runs, r.Info.RunID)
				os.MkdirAll("model/sub", 0o755)
				os.WriteFile("model/MLmodel", []byte("flavors: {}\n"), 0o644)
				os.WriteFile("model/sub/weights.bin", []byte(content), 0o644)
				mustRun(t, "log", "artifact", "--run-id", r.Info.RunID, "model")
				out := mustRun(t, "models", "register", "runs:/"+r.Info.RunID+"/model", "--name", "wine", "--tag", "v="+content)
				if !strings.Contains(out, "version") || !strings.Contains(out, []string{"1", "2"}[i]) {
					t.Fatalf("register: %s", out)
				}
			}
			mustRun(t, "models", "transition", "wine", "1", "production")
			mustRun(t, "models", "transition", "wine", "2", "Production", "--archive-existing")
			mustRun(t, "models", "alias", "set", "wine", "champion", "1")
			mustRun(t, "models", "alias", "set", "wine", "champion", "2") // moved
			mustRun(t, "models", "alias", "set", "wine", "old", "1")
			mustRun(t, "models", "tag", "wine", "owner", "ceo")
			mustRun(t, "models", "tag", "--version", "2", "wine", "validated", "true")

			if out := squash(mustRun(t, "models", "get", "wine")); !strings.Contains(out, "alias champion version 2") || !strings.Contains(out, "latest Production version 2") || !strings.Contains(out, "tag owner ceo") {
				t.Fatalf("get: %s", out)
			}
			out := mustRun(t, "models", "versions", "wine")
			if !strings.Contains(out, "Archived") || !strings.Contains(out, "Production") || !strings.Contains(out, runs[1]) {
				t.Fatalf("versions: %s", out)
			}
			if out := mustRun(t, "models", "get", "models:/wine@champion"); !strings.Contains(out, "tag validated") || !strings.Contains(out, runs[1]) {
				t.Fatalf("get by alias: %s", out)
			}
			if out := mustRun(t, "models", "list"); !strings.Contains(out, "wine") || !strings.Contains(out, "champion→2") {
				t.Fatalf("list: %s", out)
			}
			for uri, want := range map[string]string{
				"models:/wine@champion":       "weights-v2",
				"models:/wine@old":            "weights-v1",
				"models:/wine/1":              "weights-v1",
				"models:/wine/Production":     "weights-v2",
				"models:/wine/archived":       "weights-v1",
				"models:/wine/latest":         "weights-v2",
				"runs:/" + runs[0] + "/model": "weights-v1",
			} {
				dst := filepath.Join(t.TempDir(), "dl")
				mustRun(t, "models", "download", uri, "-d", dst)
				b, err := os.ReadFile(filepath.Join(dst, "sub", "weights.bin"))
				if err != nil || string(b) != want {
					t.Fatalf("download %s: %q %v", uri, b, err)
				}
				if _, err := os.Stat(filepath.Join(dst, "MLmodel")); err != nil {
					t.Fatalf("download %s: no MLmodel", uri)
				}
			}
			for _, bad := range [][]string{
				{"models", "download", "models:/wine@nobody", "-d", t.TempDir()},
				{"models", "download", "models:/nope/1", "-d", t.TempDir()},
				{"models", "download", "models:/wine/Staging", "-d", t.TempDir()},
				{"models", "transition", "wine", "1", "Shipped"},
				{"models", "alias", "set", "wine", "latest", "1"},
				{"models", "get", "ghost"},
			} {
				if _, err := mlrun(t, bad...); err == nil || strings.Contains(err.Error(), "\n") {
					t.Errorf("%v: %v", bad, err)
				}
			}
		})
	}
}

// TestReadsMLflowRegistry reads the registry of a database written by
// MLflow 2.17.2 (shared/testdata), through the CLI.
func TestReadsMLflowRegistry(t *testing.T) {
	src, err := os.Open(filepath.Join("..", "..", "..", "shared", "testdata", "mlflow-2.17.2", "mlflow.db"))
	if err != nil {
		t.Fatalf("the MLflow 2.17.2 fixture is missing: %v", err)
	}
	defer src.Close()
	db := filepath.Join(t.TempDir(), "mlflow.db")
	dst, _ := os.Create(db)
	io.Copy(dst, src)
	dst.Close()
	t.Setenv("MLFLOW_TRACKING_URI", "sqlite:///"+db)
	out := squash(mustRun(t, "models", "get", "wine-model"))
	for _, want := range []string{"ElasticNet on wine", "alias champion version 3", "latest Production version 2", "latest Archived version 1", "latest None version 3", "tag owner ceo"} {
		if !strings.Contains(out, want) {
			t.Fatalf("wine-model lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(t, "models", "get", "models:/wine-model@champion")
	if !strings.Contains(out, "validated") || !strings.Contains(out, "adfd7e841dfc43b986c2dfa2142c63d4") {
		t.Fatalf("champion: %s", out)
	}
	// mlrun writes a new version after MLflow's three.
	out = squash(mustRun(t, "models", "register", "s3://bucket/models/wine/4", "--name", "wine-model"))
	if !strings.Contains(out, "version 4") {
		t.Fatalf("register after MLflow's versions: %s", out)
	}
}

// squash folds runs of spaces, for checking table output.
func squash(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func TestImportFileStore(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	src := filepath.Join("..", "..", "..", "shared", "testdata", "mlflow-2.17.2", "filestore", "mlruns")
	if err := os.CopyFS(root, os.DirFS(src)); err != nil {
		t.Fatalf("copy the MLflow 2.17.2 file store fixture: %v", err)
	}
	db := "sqlite:///" + filepath.Join(t.TempDir(), "m.db")
	out := mustRun(t, "db", "import-filestore", "--target", db, root)
	if !strings.Contains(out, "Imported 1 experiments, 1 runs (4 metric points), 1 models (1 versions)") {
		t.Fatalf("import: %s", out)
	}
	t.Setenv("MLFLOW_TRACKING_URI", db)
	if out := squash(mustRun(t, "runs", "get", "9399d0b10cd649a8b2cc8fd4b1e0ffcf")); !strings.Contains(out, "param path/like x") || !strings.Contains(out, "run_name fs-run") {
		t.Fatalf("imported run: %s", out)
	}
	if out := squash(mustRun(t, "models", "get", "fs-model")); !strings.Contains(out, "alias best version 1") {
		t.Fatalf("imported model: %s", out)
	}
	if _, err := mlrun(t, "runs", "list", "--tracking-uri", root); err == nil || !strings.Contains(err.Error(), "import-filestore") {
		t.Fatalf("file store URI: %v", err)
	}
	// MLflow 3.7's name and flags; --source may be the folder holding mlruns/.
	db2 := "sqlite:///" + filepath.Join(t.TempDir(), "m2.db")
	if out := mustRun(t, "migrate-filestore", "--source", filepath.Dir(root), "--target", db2); !strings.Contains(out, "Imported 1 experiments, 1 runs (4 metric points), 1 models (1 versions) from "+root) {
		t.Fatalf("migrate-filestore: %s", out)
	}
	if out := squash(mustRun(t, "runs", "get", "9399d0b10cd649a8b2cc8fd4b1e0ffcf", "--tracking-uri", db2)); !strings.Contains(out, "run_name fs-run") {
		t.Fatalf("migrated run: %s", out)
	}
	if _, err := mlrun(t, "migrate-filestore", "--source", root, "--target", "postgresql://x@y/z"); err == nil || !strings.Contains(err.Error(), "must be a SQLite URI starting with 'sqlite:///'") {
		t.Fatalf("a non-SQLite target: %v", err)
	}
}

// TestSingleFileModel: a version whose source is one file (the wine
// example logs model.json) downloads by alias and by runs:/ into the
// destination folder; a source that holds nothing is refused and leaves
// no version; a failed download leaves no empty folder.
func TestSingleFileModel(t *testing.T) {
	uri := trackingURIs(t)["sqlite"]
	st, err := openStore(context.Background(), uri, "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.CreateRun(context.Background(), store.CreateRun{ExperimentID: "0"})
	if err != nil {
		t.Fatal(err)
	}
	repo, err := artifactRepo(st, r.Info.ArtifactURI)
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Put(context.Background(), "model.json", strings.NewReader(`{"weights": [1, 2]}`)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	run := r.Info.RunID
	if _, err := mlrun(t, "models", "register", "runs:/"+run+"/model", "--name", "wine", "--tracking-uri", uri); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("registering a source that holds nothing: %v", err)
	}
	mustRun(t, "models", "register", "runs:/"+run+"/model.json", "--name", "wine", "--tracking-uri", uri)
	mustRun(t, "models", "alias", "set", "wine", "champion", "1", "--tracking-uri", uri)
	for _, src := range []string{"models:/wine@champion", "models:/wine/1", "runs:/" + run + "/model.json"} {
		dst := filepath.Join(t.TempDir(), "champion")
		mustRun(t, "models", "download", src, "-d", dst, "--tracking-uri", uri)
		if b, err := os.ReadFile(filepath.Join(dst, "model.json")); err != nil || !strings.Contains(string(b), "weights") {
			t.Fatalf("download %s: %v %q", src, err, b)
		}
	}
	dst := filepath.Join(t.TempDir(), "none")
	if _, err := mlrun(t, "models", "download", "runs:/"+run+"/nothing", "-d", dst, "--tracking-uri", uri); err == nil {
		t.Fatal("downloading nothing succeeded")
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatalf("a failed download left %s behind", dst)
	}
}
