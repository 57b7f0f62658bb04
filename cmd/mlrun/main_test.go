package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/runner"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/postgres"
	"github.com/mlrun/mlrun/store/sqlite"
	"github.com/urfave/cli/v2"
)

// mlrun runs the CLI in process and returns what it printed.
func mlrun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	w := &runner.LockedWriter{W: &out} // tune's trials and the backend write at once
	app.Writer, app.ErrWriter = w, w
	err := app.RunContext(context.Background(), permute(app, append([]string{"mlrun"}, args...)))
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := mlrun(t, args...)
	if err != nil {
		t.Fatalf("mlrun %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// postgresURI is a new PostgreSQL database whose Default experiment keeps
// its artifacts in dir (not in the package's ./mlruns).
func postgresURI(t *testing.T, dir string) string {
	uri := testutil.Postgres(t)
	st, err := postgres.Open(context.Background(), uri, postgres.Options{ArtifactRoot: filepath.Join(dir, "pg-mlruns")})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	return uri
}

// newExperiment creates an experiment in the store at uri and returns
// its id; its artifacts go to the test's folder (a server's, to the
// server's destination).
func newExperiment(t *testing.T, uri, name string) string {
	t.Helper()
	st, err := openStore(context.Background(), uri, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id, err := st.CreateExperiment(context.Background(), name, testArtifactLocation(t, uri), nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// testArtifactLocation is where a test's new experiment keeps its
// artifacts: a folder of the test for a database ("" for a server, which
// decides), so no test writes into the package's folder.
func testArtifactLocation(t *testing.T, uri string) string {
	if isHTTP(uri) {
		return ""
	}
	return filepath.Join(t.TempDir(), "artifacts")
}

// trackingURIs returns a local SQLite URI and the URI of an in-process
// mlrun server over another SQLite file, so each test runs on both.
func trackingURIs(t *testing.T) map[string]string {
	// The CLI's commands open a database, they do not create one; its
	// artifact root is in the test's folder, not ./mlruns of the package.
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "local.db"), sqlite.Options{ArtifactRoot: filepath.Join(dir, "mlruns")})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	local := "sqlite:///" + filepath.Join(dir, "local.db")
	return map[string]string{
		"sqlite":   local,
		"http":     testutil.StartServer(t, true).URL,
		"postgres": postgresURI(t, dir),
	}
}

// TestTypoedDatabaseIsAnError: a sqlite: path that does not exist is an
// error naming it (MLflow: "unable to open database file"), and no file
// or folder is made; only server, run and db init create a database.
func TestTypoedDatabaseIsAnError(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "mlfow.db")
	for _, args := range [][]string{{"experiments", "list"}, {"runs", "list", "--experiment-id", "0"}, {"models", "list"}, {"experiments", "create", "-n", "x"}, {"gc", "--backend-store-uri", "sqlite:///" + typo}} {
		if args[0] != "gc" {
			args = append(args, "--tracking-uri", "sqlite:///"+typo)
		}
		out, err := mlrun(t, args...)
		if err == nil || !strings.Contains(err.Error(), "unable to open database file "+typo) {
			t.Errorf("mlrun %s: %v %s", strings.Join(args, " "), err, out)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files were created: %v", entries)
	}
}

func TestExperimentsAndRuns(t *testing.T) {
	for name, uri := range trackingURIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Setenv("MLFLOW_TRACKING_URI", uri)
			t.Chdir(t.TempDir())
			out := mustRun(t, "experiments", "create", "--experiment-name", "cli-exp")
			if !strings.Contains(out, "with id 1") {
				t.Fatalf("create: %s", out)
			}
			if out := mustRun(t, "experiments", "list"); !strings.Contains(out, "cli-exp") || !strings.Contains(out, "Default") {
				t.Fatalf("list: %s", out)
			}
			// mlflow experiments search --max-results, mlflow experiments get --output json.
			var some struct{ Experiments []map[string]any }
			if err := json.Unmarshal([]byte(mustRun(t, "experiments", "search", "--max-results", "1", "--json")), &some); err != nil || len(some.Experiments) != 1 {
				t.Fatalf("search --max-results 1: %v %v", err, some)
			}
			if out := mustRun(t, "experiments", "get", "-x", "1", "--output", "json"); !strings.Contains(out, `"experiment_id": "1"`) {
				t.Fatalf("get --output json: %s", out)
			}
			if _, err := mlrun(t, "experiments", "get", "-x", "1", "--output", "yaml"); err == nil || !strings.Contains(err.Error(), "want table or json") {
				t.Fatalf("get --output yaml: %v", err)
			}
			mustRun(t, "experiments", "rename", "--experiment-id", "1", "--new-name", "renamed")
			out = mustRun(t, "experiments", "get", "--experiment-name", "renamed", "--json")
			var got struct {
				Experiment struct{ ExperimentID, Name string }
			}
			json.Unmarshal([]byte(strings.ReplaceAll(out, "experiment_id", "ExperimentID")), &got)
			if got.Experiment.ExperimentID != "1" || got.Experiment.Name != "renamed" {
				t.Fatalf("get --json: %s", out)
			}
			mustRun(t, "experiments", "delete", "1")
			if out := mustRun(t, "experiments", "list", "--view", "deleted_only"); !strings.Contains(out, "renamed") {
				t.Fatalf("deleted list: %s", out)
			}
			mustRun(t, "experiments", "restore", "--experiment-id", "1")

			// A shell step logs into its run with no library.
			st, err := openStore(context.Background(), uri, "")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			r, err := st.CreateRun(context.Background(), createRunReq("1"))
			if err != nil {
				t.Fatal(err)
			}
			t.Setenv("MLFLOW_RUN_ID", r.Info.RunID)
			mustRun(t, "log", "param", "alpha", "0.5")
			mustRun(t, "log", "metric", "--step", "3", "rmse", "0.25")
			mustRun(t, "log", "metric", "rmse", "-0.5", "--step", "4") // flags after arguments, a negative value
			mustRun(t, "log", "tag", "stage", "dev")
			os.MkdirAll("outdir/sub", 0o755)
			os.WriteFile("outdir/sub/b.txt", []byte("bee"), 0o644)
			os.WriteFile("a.txt", []byte("hello"), 0o644)
			mustRun(t, "log", "artifact", "a.txt")
			mustRun(t, "log", "artifact", "--artifact-path", "extra", "outdir")

			out = mustRun(t, "runs", "get", r.Info.RunID)
			for _, want := range []string{"param alpha", "0.5", "metric rmse", "-0.5 (step 4)", "tag stage", "dev"} {
				if !strings.Contains(out, want) {
					t.Fatalf("runs get lacks %q:\n%s", want, out)
				}
			}
			repo, err := artifactRepo(st, r.Info.ArtifactURI)
			if err != nil {
				t.Fatal(err)
			}
			for path, want := range map[string]string{"a.txt": "hello", "extra/outdir/sub/b.txt": "bee"} {
				rc, _, err := repo.Open(context.Background(), path)
				if err != nil {
					t.Fatalf("artifact %s: %v", path, err)
				}
				b, _ := io.ReadAll(rc)
				rc.Close()
				if string(b) != want {
					t.Fatalf("artifact %s = %q", path, b)
				}
			}
			if out := mustRun(t, "runs", "list", "--experiment-id", "1", "--filter", "params.alpha = '0.5'"); !strings.Contains(out, r.Info.RunID) {
				t.Fatalf("runs list --filter: %s", out)
			}
			mustRun(t, "runs", "delete", "--run-id", r.Info.RunID)
			if out := mustRun(t, "runs", "list", "--experiment-id", "1"); strings.Contains(out, r.Info.RunID) {
				t.Fatalf("deleted run still listed: %s", out)
			}
			mustRun(t, "runs", "restore", r.Info.RunID)
			if out := mustRun(t, "runs", "list", "-x", "1", "--json"); !strings.Contains(out, r.Info.RunID) {
				t.Fatalf("restored run not listed: %s", out)
			}
		})
	}
}

func TestCLIErrorsAreOneLine(t *testing.T) {
	for name, uri := range trackingURIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Setenv("MLFLOW_TRACKING_URI", uri)
			t.Setenv("MLFLOW_RUN_ID", "")
			for _, args := range [][]string{
				{"runs", "get", "0123456789abcdef0123456789abcdef"},
				{"experiments", "get", "77"},
				{"log", "param", "a", "b"},
				{"log", "metric", "m", "not-a-number", "--run-id", "0123456789abcdef0123456789abcdef"},
				{"experiments", "create"},
				{"runs", "list", "--filter", "metrics.x = 'y'"},
			} {
				_, err := mlrun(t, args...)
				if err == nil || strings.Contains(err.Error(), "\n") || err.Error() == "" {
					t.Errorf("%v: got %q, want a one-line error", args, err)
				}
			}
		})
	}
	// A PostgreSQL server that does not answer: one line, no password.
	_, err := mlrun(t, "experiments", "list", "--tracking-uri", "postgresql://mlflow:s3cret@127.0.0.1:1/mlflow")
	if err == nil || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("unreachable postgres URI: %v", err)
	}
	if _, err := mlrun(t, "experiments", "list", "--tracking-uri", "mysql://x/y"); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Fatalf("mysql URI: %v", err)
	}
}

func TestSqlitePath(t *testing.T) {
	for uri, want := range map[string]string{
		"sqlite:///mlflow.db":       "mlflow.db",
		"sqlite:////abs/mlflow.db":  "/abs/mlflow.db",
		"sqlite:///sub/dir/x.db?a=": "sub/dir/x.db",
	} {
		if got, ok := sqlitePath(uri); !ok || got != want {
			t.Errorf("%s: %q", uri, got)
		}
	}
}

func createRunReq(exp string) store.CreateRun { return store.CreateRun{ExperimentID: exp} }

func TestPermute(t *testing.T) {
	app := newApp()
	for in, want := range map[string]string{
		"mlrun run proj -e quick -P a=1":                "mlrun run -e quick --param-list a=1 -- proj",
		"mlrun run proj -P=a=1 --param-list b=2 -P c=3": "mlrun run --param-list=a=1 --param-list b=2 --param-list c=3 -- proj",
		"mlrun traces search -x 1 --no-include-spans":   "mlrun traces search -x 1 --include-spans=false",
		"mlrun models serve -m m --no-conda":            "mlrun models serve -m m --no-conda",
		"mlrun run proj --no-such-flag":                 "mlrun run --no-such-flag -- proj",
		"mlrun log metric rmse -0.5 --step 4":           "mlrun log metric --step 4 -- rmse -0.5",
		"mlrun run --backend docker proj --build-image": "mlrun run --backend docker --build-image -- proj",
		"mlrun experiments list":                        "mlrun experiments list",
	} {
		if got := strings.Join(permute(app, strings.Fields(in)), " "); got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
}

// TestUnknownCommands: an unknown command or subcommand is one line
// with the nearest name and exit code 2 (it was "No help topic", exit
// 3); `experiments search` is MLflow's name for list.
func TestUnknownCommands(t *testing.T) {
	for args, want := range map[string]string{
		"foo":               `unknown command "foo" (mlrun --help`,
		"experimnts list":   `unknown command "experimnts", did you mean "experiments"?`,
		"experiments serch": `unknown command "serch" for mlrun experiments, did you mean "search"?`,
		"models frobnicate": `unknown command "frobnicate" for mlrun models`,
	} {
		_, err := mlrun(t, strings.Fields(args)...)
		var ec cli.ExitCoder
		if err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, &ec) || ec.ExitCode() != 2 {
			t.Errorf("mlrun %s: %v, want exit 2 with %q", args, err, want)
		}
	}
	uri := trackingURIs(t)["sqlite"]
	if out := mustRun(t, "experiments", "search", "--tracking-uri", uri); !strings.Contains(out, "Default") {
		t.Fatalf("experiments search: %q", out)
	}
}

// waitFor polls cond every 20 ms and fails the test if it is not true
// within d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("after %s: %s", d, what)
		}
	}
}

// TestVersion: `mlrun --version` as `mlflow --version`, while run's own
// --version/-v (a git version) is untouched.
func TestVersion(t *testing.T) {
	out := mustRun(t, "--version")
	if !strings.HasPrefix(out, "mlrun, version ") || !strings.Contains(out, "(speaks MLflow 3.6.0)") {
		t.Fatalf("--version: %q", out)
	}
	if _, err := mlrun(t, "run", t.TempDir(), "-v", "nope", "--tracking-uri", "sqlite:///"+filepath.Join(t.TempDir(), "x.db")); err == nil || strings.Contains(err.Error(), "mlrun, version") {
		t.Fatalf("run -v: %v", err)
	}
}
