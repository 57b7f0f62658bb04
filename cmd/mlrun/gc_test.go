package main

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// TestGC runs `mlrun gc` on a real SQLite file: deleted runs and
// experiments lose their rows and artifacts, everything else stays, and
// the refusals of mlflow gc hold.
func TestGC(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath, root := filepath.Join(dir, "mlflow.db"), filepath.Join(dir, "mlruns")
	uri := "sqlite:///" + dbPath
	st, err := sqlite.Open(ctx, dbPath, sqlite.Options{ArtifactRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	keep, _ := st.CreateExperiment(ctx, "keep", "", nil)
	gone, _ := st.CreateExperiment(ctx, "gone", "", nil)
	newRun := func(exp string) *store.Run {
		r, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
		if err != nil {
			t.Fatal(err)
		}
		must(t, st.LogBatch(ctx, r.Info.RunID, []store.Metric{{Key: "m", Value: 1, Timestamp: 1}}, []store.Param{{Key: "p", Value: "v"}}, []store.Tag{{Key: "t", Value: "v"}}))
		must(t, st.LogInputs(ctx, r.Info.RunID, []store.DatasetInput{{Tags: []store.Tag{{Key: "context", Value: "train"}}, Dataset: store.Dataset{Name: "d", Digest: "x" + r.Info.RunID[:8], SourceType: "local", Source: "{}"}}}))
		a := filepath.Join(root, exp, r.Info.RunID, "artifacts")
		must(t, os.MkdirAll(a, 0o755))
		must(t, os.WriteFile(filepath.Join(a, "model.txt"), []byte("weights"), 0o644))
		return r
	}
	deleted, active, inGone, damaged, proxied := newRun(keep), newRun(keep), newRun(gone), newRun(keep), newRun(keep)
	for _, id := range []string{deleted.Info.RunID, damaged.Info.RunID, proxied.Info.RunID} {
		must(t, st.DeleteRun(ctx, id))
	}
	must(t, st.DeleteExperiment(ctx, gone))
	st.Close()
	db, err := sql.Open("sqlite3", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A damaged artifact_uri pointing at the whole root must not be removed.
	if _, err := db.Exec(`UPDATE runs SET artifact_uri = ? WHERE run_uuid = ?`, root, damaged.Info.RunID); err != nil {
		t.Fatal(err)
	}
	// A run whose artifacts the server proxies: found under --artifacts-destination.
	dest := filepath.Join(dir, "mlartifacts")
	rel := filepath.Join(keep, proxied.Info.RunID, "artifacts")
	must(t, os.MkdirAll(filepath.Join(dest, rel), 0o755))
	must(t, os.WriteFile(filepath.Join(dest, rel, "model.txt"), []byte("weights"), 0o644))
	if _, err := db.Exec(`UPDATE runs SET artifact_uri = ? WHERE run_uuid = ?`, "mlflow-artifacts:/"+filepath.ToSlash(rel), proxied.Info.RunID); err != nil {
		t.Fatal(err)
	}
	rowsOf := func(id string) int {
		n := 0
		for _, table := range []string{"runs", "metrics", "latest_metrics", "params", "tags"} {
			var c int
			db.QueryRow(`SELECT count(*) FROM `+table+` WHERE run_uuid = ?`, id).Scan(&c)
			n += c
		}
		var c int
		db.QueryRow(`SELECT count(*) FROM inputs WHERE destination_id = ?`, id).Scan(&c)
		return n + c
	}
	artifactsOf := func(r *store.Run) bool {
		_, err := os.Stat(filepath.Join(root, r.Info.ExperimentID, r.Info.RunID, "artifacts", "model.txt"))
		return err == nil
	}

	// Refusals change nothing.
	for _, tc := range []struct{ args, want string }{
		{"--run-ids " + active.Info.RunID, "is not in `deleted` lifecycle stage"},
		{"--experiment-ids " + keep, "is not in the deleted lifecycle stage"},
		{"--older-than 1x", "Could not parse any time information from '1x'"},
		{"--run-ids " + deleted.Info.RunID + " --older-than 1d", "is not older than the required age"},
		{"--run-ids 0123456789abcdef0123456789abcdef", "not found"},
	} {
		out, err := mlrun(t, append([]string{"gc", "--backend-store-uri", uri}, strings.Fields(tc.args)...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("gc %s: %v %s, want %q", tc.args, err, out, tc.want)
		}
	}
	// Nothing was deleted long enough ago.
	if out := mustRun(t, "gc", "--backend-store-uri", uri, "--older-than", "1.5d"); out != "" {
		t.Fatalf("gc --older-than 1.5d deleted: %s", out)
	}
	if rowsOf(deleted.Info.RunID) == 0 || !artifactsOf(deleted) {
		t.Fatal("a refused gc deleted something")
	}

	out := mustRun(t, "gc", "--backend-store-uri", uri, "--artifacts-destination", dest)
	for _, want := range []string{
		"Run with ID " + deleted.Info.RunID + " has been permanently deleted.",
		"Run with ID " + inGone.Info.RunID + " has been permanently deleted.",
		"Experiment with ID " + gone + " has been permanently deleted.",
		"Artifacts of run " + damaged.Info.RunID + " left in place",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("gc output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dest, keep, proxied.Info.RunID)); !os.IsNotExist(err) {
		t.Errorf("proxied artifacts of a collected run: %v", err)
	}
	for _, r := range []*store.Run{deleted, inGone, damaged, proxied} {
		if n := rowsOf(r.Info.RunID); n != 0 {
			t.Errorf("run %s still has %d rows", r.Info.RunID, n)
		}
	}
	if artifactsOf(deleted) || artifactsOf(inGone) {
		t.Error("artifacts of deleted runs are still there")
	}
	if rowsOf(active.Info.RunID) != 7 || !artifactsOf(active) || !artifactsOf(damaged) {
		t.Errorf("gc touched what it must keep: %d rows, artifacts %v %v", rowsOf(active.Info.RunID), artifactsOf(active), artifactsOf(damaged))
	}
	var exps, datasets, orphans int
	db.QueryRow(`SELECT count(*) FROM experiments WHERE experiment_id = ?`, gone).Scan(&exps)
	db.QueryRow(`SELECT count(*) FROM datasets WHERE experiment_id = ?`, gone).Scan(&datasets)
	db.QueryRow(`SELECT count(*) FROM input_tags WHERE input_uuid NOT IN (SELECT input_uuid FROM inputs)`).Scan(&orphans)
	if exps+datasets+orphans != 0 {
		t.Errorf("left behind: %d experiment rows, %d datasets, %d input tags", exps, datasets, orphans)
	}
	// The name of a hard-deleted experiment is free again, as users want from gc.
	st, err = sqlite.Open(ctx, dbPath, sqlite.Options{ArtifactRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateExperiment(ctx, "gone", "", nil); err != nil {
		t.Fatalf("recreate gone: %v", err)
	}
	if _, err := st.GetRun(ctx, deleted.Info.RunID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get a collected run: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestGCLocalArtifacts(t *testing.T) {
	g := gc{artifacts: "/srv/mlartifacts"}
	for uri, want := range map[string]string{
		"/data/mlruns/1/abc/artifacts":            "/data/mlruns/1/abc/artifacts",
		"file:///data/mlruns/1/abc/artifacts":     "/data/mlruns/1/abc/artifacts",
		"mlflow-artifacts:/1/abc/artifacts":       "/srv/mlartifacts/1/abc/artifacts",
		"mlflow-artifacts:/../etc/abc":            "error: has a '..' segment",
		"mlflow-artifacts:/1/%2e%2e/%2e%2e/x/abc": "error: has a '..' segment",
		"/data/mlruns/1/abc/artifacts#/../../etc": "error: fragment",
		"s3://bucket/1/abc/artifacts":             "error: not on this machine",
	} {
		got, err := g.localArtifacts(uri)
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != want && !(strings.HasPrefix(want, "error: ") && strings.Contains(got, strings.TrimPrefix(want, "error: "))) {
			t.Errorf("%s: %q, want %q", uri, got, want)
		}
	}
	if d, err := (gc{}).localArtifacts("mlflow-artifacts:/1/abc"); err == nil {
		t.Errorf("mlflow-artifacts without a destination: %s", d)
	}
}

// TestGCS3Artifacts: `mlrun gc` deletes a deleted run's artifacts in S3
// (an s3:// experiment, and mlflow-artifacts:/ runs with an S3
// --artifacts-destination): the run's whole folder goes, a run whose name
// starts the same, the active run and the other objects stay.
func TestGCS3Artifacts(t *testing.T) {
	ctx := context.Background()
	s3srv := testutil.StartS3(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "mlflow.db")
	st, err := sqlite.Open(ctx, dbPath, sqlite.Options{ArtifactRoot: s3srv.URI("root")})
	if err != nil {
		t.Fatal(err)
	}
	proxiedExp, err := st.CreateExperiment(ctx, "proxied", "mlflow-artifacts:/proxied", nil)
	if err != nil {
		t.Fatal(err)
	}
	bucket := func(key string) string { return filepath.Join(s3srv.Dir, s3srv.Bucket, filepath.FromSlash(key)) }
	put := func(key string) {
		must(t, os.MkdirAll(filepath.Dir(bucket(key)), 0o755))
		must(t, os.WriteFile(bucket(key), []byte("weights"), 0o644))
	}
	newRun := func(exp, keyPrefix string) string {
		r, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
		if err != nil {
			t.Fatal(err)
		}
		put(keyPrefix + "/" + r.Info.RunID + "/artifacts/model/model.pkl")
		return r.Info.RunID
	}
	gone, kept := newRun("0", "root/0"), newRun("0", "root/0")
	goneProxied := newRun(proxiedExp, "dest/proxied")
	put("root/0/" + gone + "x/artifacts/other.txt") // a folder whose name starts with the run's
	must(t, st.DeleteRun(ctx, gone))
	must(t, st.DeleteRun(ctx, goneProxied))
	st.Close()
	out := mustRun(t, "gc", "--backend-store-uri", "sqlite:///"+dbPath, "--artifacts-destination", s3srv.URI("dest"))
	if strings.Contains(out, "left in place") || strings.Contains(out, "not deleted") {
		t.Fatalf("gc:\n%s", out)
	}
	for key, want := range map[string]bool{
		"root/0/" + gone: false, "dest/proxied/" + goneProxied: false,
		"root/0/" + kept + "/artifacts/model/model.pkl": true, "root/0/" + gone + "x/artifacts/other.txt": true,
	} {
		_, err := os.Stat(bucket(key))
		if exists := err == nil; exists != want {
			t.Errorf("s3 %s: exists %v, want %v", key, exists, want)
		}
	}
}

// TestGCLoggedModels runs `mlrun gc` on a copy of the database MLflow 3.6
// wrote (and its artifacts), in SQLite and copied into PostgreSQL: a
// deleted logged model goes with its rows and artifact folder; one a
// registered version keeps its files in stays until that version is
// deleted; the refusals change nothing.
func TestGCLoggedModels(t *testing.T) {
	const (
		v1Model = "m-bd2ded587a44407892455c38615f9805" // m version 1, active
		v2Model = "m-9e24c3ed6f294f13a0b8a2bb7a42de1c" // m version 2
	)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			b, err := os.ReadFile("../../../shared/testdata/mlflow-3.6/mlflow.db")
			if err != nil {
				t.Fatalf("the MLflow 3.6 fixture is missing: %v", err)
			}
			must(t, os.WriteFile(filepath.Join(dir, "mlflow.db"), b, 0o644))
			art := filepath.Join(dir, "mlartifacts")
			if out, err := exec.Command("cp", "-r", "../../../shared/testdata/mlflow-3.6/mlartifacts", art).CombinedOutput(); err != nil {
				t.Fatalf("copy artifacts: %v %s", err, out)
			}
			uri, driver := "sqlite:///"+filepath.Join(dir, "mlflow.db"), "sqlite3"
			if backend == "postgres" {
				uri, driver = testutil.Postgres(t), "pgx"
				mustRun(t, "db", "copy", "sqlite:///"+filepath.Join(dir, "mlflow.db"), uri)
			}
			st, err := openStore(ctx, uri, "")
			if err != nil {
				t.Fatal(err)
			}
			lm := st.(store.LoggedModels)
			extra, err := lm.CreateLoggedModel(ctx, store.LoggedModel{ExperimentID: "1", Name: "extra", SourceRunID: "f1346045419f4ab790e0776d3edb60c3",
				Params: []store.Param{{Key: "C", Value: "0.5"}}, Tags: []store.Tag{{Key: "note", Value: "unused"}}})
			if err != nil {
				t.Fatal(err)
			}
			if want := "mlflow-artifacts:/1/models/" + extra.ModelID + "/artifacts"; extra.ArtifactURI != want {
				t.Fatalf("artifact location %s, want %s", extra.ArtifactURI, want)
			}
			extraDir := filepath.Join(art, "1", "models", extra.ModelID)
			must(t, os.MkdirAll(filepath.Join(extraDir, "artifacts"), 0o755))
			must(t, os.WriteFile(filepath.Join(extraDir, "artifacts", "MLmodel"), []byte("flavors: {}\n"), 0o644))
			must(t, lm.DeleteLoggedModel(ctx, extra.ModelID))
			must(t, lm.DeleteLoggedModel(ctx, v2Model))
			st.Close()

			db, err := sql.Open(driver, strings.TrimPrefix(uri, "sqlite:///"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rowsOf := func(id string) int {
				n := 0
				for _, table := range []string{"logged_models", "logged_model_params", "logged_model_tags", "logged_model_metrics"} {
					var c int
					if err := db.QueryRow(`SELECT count(*) FROM ` + table + ` WHERE model_id = '` + id + `'`).Scan(&c); err != nil {
						t.Fatal(err)
					}
					n += c
				}
				return n
			}
			has := func(id string) bool {
				_, err := os.Stat(filepath.Join(art, "1", "models", id, "artifacts", "MLmodel"))
				return err == nil
			}
			v1Rows, v2Rows := rowsOf(v1Model), rowsOf(v2Model)
			if v1Rows < 2 || v2Rows < 2 || rowsOf(extra.ModelID) != 3 || !has(v1Model) || !has(v2Model) || !has(extra.ModelID) {
				t.Fatalf("before gc: rows %d %d %d", v1Rows, v2Rows, rowsOf(extra.ModelID))
			}

			gc := func(args ...string) (string, error) {
				return mlrun(t, append([]string{"gc", "--backend-store-uri", uri, "--artifacts-destination", art}, args...)...)
			}
			for _, tc := range []struct{ args, want string }{
				{"--logged-model-ids " + v1Model, "is not in `deleted` lifecycle stage"},
				{"--logged-model-ids " + v2Model, `holds the files of registered model "m" version 2: delete that version first`},
				{"--logged-model-ids m-0123456789abcdef0123456789abcdef", "Logged model with ID 'm-0123456789abcdef0123456789abcdef' not found."},
				{"--logged-model-ids " + extra.ModelID + " --older-than 1d", "is not older than the required age"},
			} {
				if out, err := gc(strings.Fields(tc.args)...); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("gc %s: %v %s, want %q", tc.args, err, out, tc.want)
				}
			}
			if rowsOf(extra.ModelID) != 3 || !has(extra.ModelID) {
				t.Fatal("a refused gc deleted something")
			}

			out, err := gc()
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{
				"Logged model with ID " + extra.ModelID + " has been permanently deleted.",
				"Logged model " + v2Model + ` left in place: registered model "m" version 2 keeps its files there.`,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("gc output lacks %q:\n%s", want, out)
				}
			}
			if _, err := os.Stat(extraDir); !os.IsNotExist(err) {
				t.Errorf("the collected model's folder: %v", err)
			}
			if n := rowsOf(extra.ModelID); n != 0 {
				t.Errorf("the collected model has %d rows left", n)
			}
			if rowsOf(v1Model) != v1Rows || rowsOf(v2Model) != v2Rows || !has(v1Model) || !has(v2Model) {
				t.Fatal("gc touched a model it must keep")
			}

			// Once version 2 is deleted, its logged model can go too.
			st, err = openStore(ctx, uri, "")
			if err != nil {
				t.Fatal(err)
			}
			must(t, st.(registry.Store).DeleteModelVersion(ctx, "m", "2"))
			st.Close()
			// The destination from mlflow gc's variable this time.
			t.Setenv("MLFLOW_ARTIFACTS_DESTINATION", art)
			if out := mustRun(t, "gc", "--backend-store-uri", uri, "--logged-model-ids", v2Model); !strings.Contains(out, "Logged model with ID "+v2Model+" has been permanently deleted.") {
				t.Fatalf("gc of the unregistered model: %s", out)
			}
			if rowsOf(v2Model) != 0 || has(v2Model) || rowsOf(v1Model) != v1Rows || !has(v1Model) {
				t.Fatalf("after collecting %s: its rows %d, files %v; %s rows %d, files %v", v2Model, rowsOf(v2Model), has(v2Model), v1Model, rowsOf(v1Model), has(v1Model))
			}
		})
	}
}

// TestGCThroughTrackingServer: as mlflow gc's documentation has it, with
// MLFLOW_TRACKING_URI naming the tracking server (and the database given
// as --backend-store-uri), the proxied artifacts of a collected run are
// deleted through the server's artifact proxy; its other runs' stay. The
// server alone, without the database, is one line naming the flag.
func TestGCThroughTrackingServer(t *testing.T) {
	ctx := context.Background()
	srv := testutil.StartServer(t, true)
	put := func() *store.Run {
		r, err := srv.Store.CreateRun(ctx, store.CreateRun{ExperimentID: "0"})
		if err != nil {
			t.Fatal(err)
		}
		rel, ok := strings.CutPrefix(r.Info.ArtifactURI, "mlflow-artifacts:/")
		if !ok {
			t.Fatalf("artifact URI %s", r.Info.ArtifactURI)
		}
		dir := filepath.Join(srv.Artifacts, filepath.FromSlash(rel), "model")
		must(t, os.MkdirAll(dir, 0o755))
		must(t, os.WriteFile(filepath.Join(dir, "model.pkl"), []byte("weights"), 0o644))
		return r
	}
	gone, kept := put(), put()
	must(t, srv.Store.DeleteRun(ctx, gone.Info.RunID))
	folder := func(r *store.Run) string { return filepath.Join(srv.Artifacts, r.Info.ExperimentID, r.Info.RunID) }

	t.Setenv("MLFLOW_TRACKING_URI", srv.URL)
	if out, err := mlrun(t, "gc"); err == nil || !strings.Contains(err.Error(), "gc works on a database: give --backend-store-uri (the tracking URI "+srv.URL+" is a server") {
		t.Fatalf("gc with only a server: %v %s", err, out)
	}
	out := mustRun(t, "gc", "--backend-store-uri", "sqlite:///"+filepath.Join(srv.Dir, "mlflow.db"))
	if !strings.Contains(out, "Run with ID "+gone.Info.RunID+" has been permanently deleted.") || strings.Contains(out, "left in place") || strings.Contains(out, "not deleted") {
		t.Fatalf("gc:\n%s", out)
	}
	if _, err := os.Stat(folder(gone)); !os.IsNotExist(err) {
		t.Errorf("the collected run's proxied artifacts: %v", err)
	}
	if _, err := os.Stat(filepath.Join(folder(kept), "artifacts", "model", "model.pkl")); err != nil {
		t.Errorf("another run's artifacts: %v", err)
	}
}
