package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/runner/launch"
	"github.com/mlrun/mlrun/store"
)

// TestServerBinary builds mlrun, starts `mlrun server` on a free loopback
// port, uses it, and stops it with SIGTERM: the process must exit 0 after
// a graceful shutdown, having logged one line per request.
func TestServerBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "mlrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// A run an mlrun on this host left RUNNING when it died: the server ends it.
	orphan := orphanRun(t, filepath.Join(dir, "srv.db"))
	cmd := exec.Command(bin, "server", "--port", itoa(port), "--backend-store-uri", "sqlite:///"+filepath.Join(dir, "srv.db"),
		"--artifacts-destination", filepath.Join(dir, "art"))
	cmd.Dir = dir
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	base := "http://127.0.0.1:" + itoa(port)
	var resp *http.Response
	for i := 0; i < 100; i++ {
		if resp, err = http.Get(base + "/api/2.0/mlflow/experiments/get?experiment_id=0"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("server did not come up: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"name":"Default"`) || !strings.Contains(string(b), `"artifact_location":"mlflow-artifacts:/0"`) {
		t.Fatalf("get Default: %d %s", resp.StatusCode, b)
	}
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/api/2.0/mlflow/runs/get?run_id=" + orphan)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), `"status":"FAILED"`) && strings.Contains(string(b), `"end_time"`) {
			break
		}
		if i == 100 {
			t.Fatalf("the orphaned run is not ended: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if exited, err := testutil.WaitExit(cmd, 20*time.Second); !exited {
		t.Fatal("server did not stop on SIGTERM")
	} else if err != nil {
		t.Fatalf("after SIGTERM the server exited with %v", err)
	}
	var log []string
	for l := range lines {
		log = append(log, l)
	}
	all := strings.Join(log, "\n")
	if !strings.Contains(all, "path=/api/2.0/mlflow/experiments/get status=200") || !strings.Contains(all, "shutting down") ||
		!strings.Contains(all, `ended a run left RUNNING by an mlrun that exited" run_id=`+orphan) {
		t.Fatalf("server log:\n%s", all)
	}
	if _, err := os.Stat(filepath.Join(dir, "srv.db")); err != nil {
		t.Fatalf("database not created: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// orphanRun creates, in the SQLite file at path, a RUNNING run whose
// mlrun (this host, a pid that has exited) is gone, and returns its id.
func orphanRun(t *testing.T, path string) string {
	t.Helper()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	st, err := openStore(context.Background(), "sqlite:///"+path, "mlflow-artifacts:/")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := st.CreateRun(context.Background(), store.CreateRun{Tags: []store.Tag{
		{Key: launch.TagRunnerHost, Value: host}, {Key: launch.TagRunnerPID, Value: strconv.Itoa(dead.Process.Pid)}}})
	if err != nil {
		t.Fatal(err)
	}
	return r.Info.RunID
}

// TestServerTakesMLflowFlags: `mlrun server -h HOST -p PORT` as with
// mlflow server (-h is the host, help is --help), and mlflow server's
// flags that mean nothing here are taken with a one-line note.
func TestServerTakesMLflowFlags(t *testing.T) {
	dir := t.TempDir()
	cmd, _, stderr := startMlrunServer(t, buildMlrun(t), dir, "-h", "127.0.0.1", "--workers", "4", "--gunicorn-opts", "--timeout 60",
		"--backend-store-uri", "sqlite:///"+filepath.Join(dir, "m.db"), "--artifacts-destination", filepath.Join(dir, "art"))
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	log := stderr.String()
	if !strings.Contains(log, "--workers is mlflow server's and means nothing here") || !strings.Contains(log, "--gunicorn-opts is mlflow server's") {
		t.Fatalf("no note for the ignored flags:\n%s", log)
	}
	out, err := exec.Command(cmd.Path, "server", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--host value, -h value") {
		t.Fatalf("server --help: %v\n%s", err, out)
	}
}

// TestServerStaticPrefix: --static-prefix is checked as mlflow server
// checks it (a leading '/', no trailing one) before anything is opened,
// and a real server with it serves /api at the root and its UI below it.
func TestServerStaticPrefix(t *testing.T) {
	for prefix, want := range map[string]string{"mlflow": "--static-prefix must begin with a '/'.", "/mlflow/": "--static-prefix should not end with a '/'."} {
		dir := t.TempDir()
		_, err := mlrun(t, "server", "--static-prefix", prefix, "--backend-store-uri", "sqlite:///"+filepath.Join(dir, "m.db"))
		if err == nil || err.Error() != want {
			t.Errorf("--static-prefix %s: %v, want %q", prefix, err, want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("--static-prefix %s: files made before the flag was checked: %v", prefix, entries)
		}
	}
	dir := t.TempDir()
	cmd, base, _ := startMlrunServer(t, buildMlrun(t), dir, "--static-prefix", "/team/mlflow",
		"--backend-store-uri", "sqlite:///"+filepath.Join(dir, "m.db"), "--artifacts-destination", filepath.Join(dir, "art"))
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	for path, code := range map[string]int{"/api/2.0/mlflow/experiments/search?max_results=1": 200, "/team/mlflow/experiments": 200,
		"/team/mlflow/health": 200, "/health": 404, "/experiments": 404} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != code {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, code)
		}
	}
}

// TestServerArtifactsOnly: `mlrun server --artifacts-only` serves the
// artifact proxy and /health, answers every tracking route 503 in plain
// text with MLflow's message, and opens no database; --expose-prometheus
// counts the uploads on /metrics.
func TestServerArtifactsOnly(t *testing.T) {
	bin := buildMlrun(t)
	dir := t.TempDir()
	_, base, stderr := startMlrunServer(t, bin, dir, "--artifacts-only", "--artifacts-destination", filepath.Join(dir, "art"), "--expose-prometheus", filepath.Join(dir, "prom"))
	req, _ := http.NewRequest("PUT", base+"/api/2.0/mlflow-artifacts/artifacts/1/run/model.txt", strings.NewReader("weights"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("upload: %v %v\n%s", err, resp, stderr.String())
	}
	resp.Body.Close()
	if b, err := os.ReadFile(filepath.Join(dir, "art", "1", "run", "model.txt")); err != nil || string(b) != "weights" {
		t.Fatalf("uploaded file: %q %v", b, err)
	}
	resp, err = http.Get(base + "/api/2.0/mlflow/experiments/search")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := "Endpoint: /api/2.0/mlflow/experiments/search disabled due to the mlflow server running in `--artifacts-only` mode."
	if resp.StatusCode != 503 || !strings.Contains(string(b), want) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("tracking route: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `mlflow_http_request_duration_seconds_count{method="PUT",route="/api/2.0/mlflow-artifacts/artifacts",status="200"} 1`; !strings.Contains(string(b), want) {
		t.Fatalf("--expose-prometheus: /metrics lacks %s:\n%s", want, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "mlflow.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("--artifacts-only opened a database: %v", err)
	}
	out, err := exec.Command(bin, "server", "--artifacts-only", "--no-serve-artifacts").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 || !strings.Contains(string(out), "--artifacts-only serves the artifact proxy, and --no-serve-artifacts turns it off") {
		t.Fatalf("--artifacts-only --no-serve-artifacts: %v %s", err, out)
	}
}

// startMlrunServer starts `bin server -p PORT args...` in dir, waits for
// /health to answer 200 (failing the test after 30 s) and returns the
// process, its base URL and its stderr; the process is killed at the end
// of the test.
func startMlrunServer(t *testing.T, bin, dir string, args ...string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	return startMlrunServerEnv(t, bin, dir, nil, args...)
}

// startMlrunServerEnv is startMlrunServer with env added to the process's
// environment.
func startMlrunServerEnv(t *testing.T, bin, dir string, env []string, args ...string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	port := testutil.FreePort(t)
	cmd := exec.Command(bin, append([]string{"server", "-p", itoa(port)}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://127.0.0.1:" + itoa(port)
	health := "/health"
	for i, a := range args {
		if a == "--static-prefix" && i+1 < len(args) {
			health = args[i+1] + health
		}
	}
	waitFor(t, 30*time.Second, "mlrun server did not come up", func() bool {
		resp, err := http.Get(base + health)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	return cmd, base, stderr
}

// TestServerSecurityFromMLflowEnv: `mlrun server` configured as mlflow
// server is in a container, by MLflow's environment variables alone
// (backend store, artifact destination, allowed hosts, CORS origins,
// X-Frame-Options): the listed Host is served and no other, a listed
// origin may write and another may not, and nothing is written for a
// refused request, and the log says why; a bad X-Frame-Options is one
// line and exit 1; by default a server on a non-loopback address says
// which names it serves.
func TestServerSecurityFromMLflowEnv(t *testing.T) {
	bin := buildMlrun(t)
	dir := t.TempDir()
	srv, base, srvLog := startMlrunServerEnv(t, bin, dir, []string{
		"MLFLOW_BACKEND_STORE_URI=sqlite:///" + filepath.Join(dir, "env.db"),
		"MLFLOW_ARTIFACTS_DESTINATION=" + filepath.Join(dir, "env-art"),
		"MLFLOW_SERVER_ALLOWED_HOSTS=mlflow.test:*, 127.0.0.2:*",
		"MLFLOW_SERVER_CORS_ALLOWED_ORIGINS=https://app.test",
		"MLFLOW_SERVER_X_FRAME_OPTIONS=DENY",
	})
	host := "mlflow.test:" + base[strings.LastIndex(base, ":")+1:]
	call := func(host, origin, name string) (int, http.Header) {
		req, _ := http.NewRequest("POST", base+"/api/2.0/mlflow/experiments/create", strings.NewReader(`{"name":"`+name+`"}`))
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	if code, h := call(host, "", "plain"); code != 200 || h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("a listed Host: %d %v", code, h)
	}
	if code, _ := call(strings.TrimPrefix(base, "http://"), "", "by-address"); code != 403 {
		t.Errorf("a Host not listed (the list replaces the defaults): %d", code)
	}
	if code, h := call(host, "https://app.test", "from-app"); code != 200 || h.Get("Access-Control-Allow-Origin") != "https://app.test" {
		t.Errorf("a listed origin: %d %v", code, h)
	}
	if code, _ := call(host, "https://attacker.test", "from-attacker"); code != 403 {
		t.Errorf("another site's page: %d", code)
	}
	srv.Process.Signal(syscall.SIGTERM)
	srv.Wait() // its log is complete
	for _, want := range []string{"request refused: its Host is not among the allowed hosts (--allowed-hosts)", "host=127.0.0.1:", "request refused: its Origin is not among the allowed origins", "origin=https://attacker.test"} {
		if !strings.Contains(srvLog.String(), want) {
			t.Errorf("the server's log lacks %q:\n%s", want, srvLog.String())
		}
	}
	db, err := sql.Open("sqlite3", filepath.Join(dir, "env.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var names []string
	rows, err := db.Query(`SELECT name FROM experiments WHERE name != 'Default' ORDER BY name`)
	if err != nil {
		t.Fatalf("the database of MLFLOW_BACKEND_STORE_URI: %v", err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	if strings.Join(names, ",") != "from-app,plain" {
		t.Errorf("experiments written: %v, want from-app and plain", names)
	}

	out, err := exec.Command(bin, "server", "--x-frame-options", "ALLOWALL", "--backend-store-uri", "sqlite:///"+filepath.Join(dir, "bad.db")).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 || !strings.Contains(string(out), `X-Frame-Options "ALLOWALL": use SAMEORIGIN, DENY or NONE`) || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
		t.Errorf("a bad --x-frame-options: %v %q", err, out)
	}

	cmd, _, stderr := startMlrunServer(t, bin, t.TempDir(), "--host", "0.0.0.0", "--backend-store-uri", "sqlite:///"+filepath.Join(t.TempDir(), "m.db"))
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if !strings.Contains(stderr.String(), "serving requests addressed to localhost and private addresses only") {
		t.Errorf("--host 0.0.0.0 without --allowed-hosts says nothing:\n%s", stderr.String())
	}
}
