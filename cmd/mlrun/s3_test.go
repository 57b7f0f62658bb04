package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
)

// api calls a real server's REST API and decodes the JSON answer.
func api(t *testing.T, base, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, out
}

func newRun(t *testing.T, base, exp string) string {
	t.Helper()
	code, out := api(t, base, "POST", "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": exp, "start_time": 1})
	if code != 200 {
		t.Fatalf("runs/create: %d %v", code, out)
	}
	return out["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
}

// TestS3Artifacts: a real mlrun server on a real S3 server (versitygw),
// both ways MLflow's are set up. Proxied (--artifacts-destination s3://…):
// a client with no S3 credentials at all logs and reads artifacts through
// the server, and they land in the bucket below the prefix. Direct
// (--default-artifact-root s3://…): the client writes to S3 itself, and the
// server lists and serves what is there, but only inside its S3 roots.
func TestS3Artifacts(t *testing.T) {
	s3srv := testutil.StartS3(t)
	bin := buildMlrun(t)
	file := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(file, []byte("kept in S3\n"), 0o644)
	object := func(key string) string {
		b, err := os.ReadFile(filepath.Join(s3srv.Dir, s3srv.Bucket, filepath.FromSlash(key)))
		if err != nil {
			t.Fatalf("object %s is not in the bucket: %v", key, err)
		}
		return string(b)
	}
	downloaded := func(uri string) string {
		dst := t.TempDir()
		mustRun(t, "models", "download", uri, "-d", dst)
		b, err := os.ReadFile(filepath.Join(dst, "notes.txt"))
		if err != nil {
			t.Fatalf("download %s: %v", uri, err)
		}
		return string(b)
	}

	t.Run("proxied", func(t *testing.T) {
		dir := t.TempDir()
		cmd, base, stderr := startMlrunServer(t, bin, dir, "--backend-store-uri", "sqlite:///"+filepath.Join(dir, "m.db"),
			"--artifacts-destination", s3srv.URI("proxied"))
		defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
		// The client has no S3 credentials, nor an endpoint.
		for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MLFLOW_S3_ENDPOINT_URL"} {
			t.Setenv(k, "")
		}
		t.Setenv("MLFLOW_TRACKING_URI", base)
		run := newRun(t, base, "0")
		mustRun(t, "log", "artifact", file, "--run-id", run, "-a", "docs")
		if got := object("proxied/0/" + run + "/artifacts/docs/notes.txt"); got != "kept in S3\n" {
			t.Fatalf("the object holds %q", got)
		}
		if got := downloaded("runs:/" + run + "/docs"); got != "kept in S3\n" {
			t.Fatalf("read back through the proxy: %q\n%s", got, stderr)
		}
		code, out := api(t, base, "GET", "/api/2.0/mlflow/artifacts/list?run_id="+run+"&path=docs", nil)
		if code != 200 || !strings.Contains(jsonText(out), `"path":"docs/notes.txt"`) {
			t.Fatalf("artifacts/list: %d %v", code, out)
		}
	})

	t.Run("direct", func(t *testing.T) {
		dir := t.TempDir()
		cmd, base, stderr := startMlrunServer(t, bin, dir, "--backend-store-uri", "sqlite:///"+filepath.Join(dir, "m.db"),
			"--default-artifact-root", s3srv.URI("direct"))
		defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
		t.Setenv("MLFLOW_TRACKING_URI", base)
		code, out := api(t, base, "POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "team"})
		if code != 200 {
			t.Fatalf("experiments/create: %d %v", code, out)
		}
		exp := out["experiment_id"].(string)
		run := newRun(t, base, exp)
		mustRun(t, "log", "artifact", file, "--run-id", run)
		if got := object("direct/" + exp + "/" + run + "/artifacts/notes.txt"); got != "kept in S3\n" {
			t.Fatalf("the object holds %q", got)
		}
		if got := downloaded("runs:/" + run + "/notes.txt"); got != "kept in S3\n" {
			t.Fatalf("read back from S3: %q", got)
		}
		// The server reads its S3 root: the listing and the UI's download.
		code, out = api(t, base, "GET", "/api/2.0/mlflow/artifacts/list?run_id="+run, nil)
		if code != 200 || !strings.Contains(jsonText(out), `"path":"notes.txt"`) || !strings.Contains(jsonText(out), `"root_uri":"s3://mlrun-test/direct/`) {
			t.Fatalf("artifacts/list: %d %v\n%s", code, out, stderr)
		}
		resp, err := http.Get(base + "/get-artifact?run_id=" + run + "&path=notes.txt")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "kept in S3\n" {
			t.Fatalf("/get-artifact: %d %q", resp.StatusCode, b)
		}
		// A location elsewhere in the bucket is not the server's to read.
		code, out = api(t, base, "POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "elsewhere", "artifact_location": s3srv.URI("private")})
		if code != 200 {
			t.Fatalf("experiments/create: %d %v", code, out)
		}
		other := newRun(t, base, out["experiment_id"].(string))
		code, out = api(t, base, "GET", "/api/2.0/mlflow/artifacts/list?run_id="+other, nil)
		if code != 403 || out["error_code"] != "PERMISSION_DENIED" {
			t.Fatalf("a run stored outside the server's S3 roots: %d %v", code, out)
		}
	})
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
