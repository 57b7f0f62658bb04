package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/internal/testutil"
)

// authServerProc is a running `mlrun server --app-name basic-auth`.
type authServerProc struct {
	base, bin string
	log       *bytes.Buffer
}

// startAuthServer builds mlrun and starts its server with basic-auth and
// the config file ini, in dir.
func startAuthServer(t *testing.T, dir, ini string) *authServerProc {
	t.Helper()
	bin := filepath.Join(dir, "mlrun")
	if _, err := os.Stat(bin); err != nil {
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	cfg := filepath.Join(dir, "basic_auth.ini")
	if err := os.WriteFile(cfg, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	port := testutil.FreePort(t)
	cmd := exec.Command(bin, "server", "--app-name", "basic-auth", "--port", itoa(port),
		"--backend-store-uri", "sqlite:///"+filepath.Join(dir, "mlflow.db"), "--artifacts-destination", filepath.Join(dir, "art"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MLFLOW_AUTH_CONFIG_PATH="+cfg)
	p := &authServerProc{base: "http://127.0.0.1:" + itoa(port), bin: bin, log: &bytes.Buffer{}}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	up := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "mlrun server listening") {
				up <- true
			}
		}
		close(up)
	}()
	select {
	case ok := <-up:
		if !ok {
			cmd.Wait()
			t.Fatalf("server exited:\n%s", p.log)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not come up:\n%s", p.log)
	}
	return p
}

func (p *authServerProc) do(t *testing.T, user, pw, method, path string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.SetBasicAuth(user, pw)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// mlrun runs the CLI against the server as user.
func (p *authServerProc) mlrun(t *testing.T, user, pw string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(p.bin, args...)
	cmd.Env = append(os.Environ(), "MLFLOW_TRACKING_URI="+p.base, "MLFLOW_TRACKING_USERNAME="+user, "MLFLOW_TRACKING_PASSWORD="+pw)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestBasicAuthServerOnMLflowDatabase starts the real binary on a copy of
// an MLflow-written basic_auth.db (werkzeug scrypt and pbkdf2 hashes):
// its users log in, their rows apply, the admin is left as it was (the
// ini's password is only for a first start), and the CLI manages users
// and permissions.
func TestBasicAuthServerOnMLflowDatabase(t *testing.T) {
	dir := t.TempDir()
	dump, err := os.ReadFile("../../auth/sqlite/testdata/basic_auth.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", filepath.Join(dir, "mlflow-auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(dump)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	p := startAuthServer(t, dir, "[mlflow]\ndefault_permission = READ\ndatabase_uri = sqlite:///mlflow-auth.db\nadmin_username = admin\nadmin_password = not-applied\n")
	if !strings.Contains(p.log.String(), "the admin user still has the default password") {
		t.Errorf("no warning about the default admin password:\n%s", p.log)
	}
	const api = "/api/2.0/mlflow"
	if st, _ := p.do(t, "admin", "not-applied", "GET", api+"/experiments/get?experiment_id=0", nil); st != 401 {
		t.Fatalf("the ini's admin_password replaced the existing admin's: %d", st)
	}
	// alice (scrypt) creates experiment 1, on which the fixture gives her
	// MANAGE and bob (pbkdf2, a password with a colon) READ.
	st, body := p.do(t, "alice", "alice-pw", "POST", api+"/experiments/create", map[string]any{"name": "shared"})
	if st != 200 || !strings.Contains(body, `"experiment_id":"1"`) {
		t.Fatalf("alice creates an experiment: %d %s", st, body)
	}
	if st, body := p.do(t, "bob", "bob:pw with colon", "GET", api+"/experiments/get?experiment_id=1", nil); st != 200 {
		t.Fatalf("bob reads experiment 1: %d %s", st, body)
	}
	if st, body := p.do(t, "bob", "bob:pw with colon", "POST", api+"/runs/create", map[string]any{"experiment_id": "1"}); st != 403 || body != "Permission denied" {
		t.Fatalf("bob (READ) creates a run: %d %s", st, body)
	}
	if st, _ := p.do(t, "carol", "carol-pw", "GET", api+"/experiments/get?experiment_id=0", nil); st != 403 {
		t.Fatalf("carol (NO_PERMISSIONS on 0) reads Default: %d", st)
	}
	// The CLI, as the admin: a user, a grant, and the user logs.
	if out, err := p.mlrun(t, "admin", "password", "users", "create", "dave", "--password", "dave-pw"); err != nil || !strings.Contains(out, "Created user dave") {
		t.Fatalf("users create: %v %s", err, out)
	}
	if out, err := p.mlrun(t, "admin", "password", "permissions", "create", "--experiment-id", "1", "--username", "dave", "--permission", "EDIT"); err != nil || strings.TrimSpace(out) != "EDIT" {
		t.Fatalf("permissions create: %v %s", err, out)
	}
	if out, err := p.mlrun(t, "admin", "password", "users", "get", "dave"); err != nil || !strings.Contains(out, "experiment 1") || !strings.Contains(out, "EDIT") {
		t.Fatalf("users get: %v %s", err, out)
	}
	if st, body := p.do(t, "dave", "dave-pw", "POST", api+"/runs/create", map[string]any{"experiment_id": "1"}); st != 200 {
		t.Fatalf("dave (EDIT) creates a run: %d %s", st, body)
	}
	// Not an admin: the CLI says so in one line and fails.
	out, err := p.mlrun(t, "bob", "bob:pw with colon", "users", "create", "eve", "--password", "x")
	if err == nil || !strings.Contains(out, "403 Permission denied") || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("users create as bob: %v %q", err, out)
	}
	if out, err := p.mlrun(t, "admin", "wrong", "users", "get", "dave"); err == nil || !strings.Contains(out, "MLFLOW_TRACKING_USERNAME") {
		t.Fatalf("wrong password: %v %q", err, out)
	}
	if out, err := p.mlrun(t, "admin", "password", "users", "delete", "dave"); err != nil {
		t.Fatalf("users delete: %v %s", err, out)
	}
	// The database is still MLflow's: dave's row went with dave.
	db, _ = sql.Open("sqlite3", filepath.Join(dir, "mlflow-auth.db"))
	defer db.Close()
	var rows int
	db.QueryRow(`SELECT count(*) FROM experiment_permissions WHERE user_id NOT IN (SELECT id FROM users)`).Scan(&rows)
	if rows != 0 {
		t.Fatalf("%d orphaned permission rows", rows)
	}
}

// TestBasicAuthServerFirstStart: a new auth database gets MLflow's
// schema and the ini's admin, who logs in with the ini's password; a bad
// config stops the server with a message naming the problem.
func TestBasicAuthServerFirstStart(t *testing.T) {
	dir := t.TempDir()
	p := startAuthServer(t, dir, "[mlflow]\ndefault_permission = NO_PERMISSIONS\ndatabase_uri = sqlite:///auth/new.db\nadmin_username = root\nadmin_password = s3cret\n")
	if strings.Contains(p.log.String(), "default password") {
		t.Errorf("warned about a non-default password:\n%s", p.log)
	}
	if st, body := p.do(t, "root", "s3cret", "GET", "/api/2.0/mlflow/users/get?username=root", nil); st != 200 || !strings.Contains(body, `"is_admin":true`) {
		t.Fatalf("the ini's admin: %d %s", st, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "auth", "new.db")); err != nil {
		t.Fatalf("the auth database is not where database_uri says: %v", err)
	}
	if st, _ := p.do(t, "", "", "GET", "/health", nil); st != 200 {
		t.Fatalf("/health: %d", st)
	}
	cfg := filepath.Join(dir, "bad.ini")
	os.WriteFile(cfg, []byte("[mlflow]\ndefault_permission = WRITE\ndatabase_uri = sqlite:///x.db\nadmin_username = a\nadmin_password = b\n"), 0o600)
	cmd := exec.Command(p.bin, "server", "--app-name", "basic-auth", "--port", itoa(testutil.FreePort(t)), "--backend-store-uri", "sqlite:///"+filepath.Join(dir, "b.db"))
	cmd.Env = append(os.Environ(), "MLFLOW_AUTH_CONFIG_PATH="+cfg)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Invalid permission 'WRITE'") {
		t.Fatalf("a bad default_permission: %v %s", err, out)
	}
}

// TestBasicAuthOnPostgres: database_uri = postgresql://… puts MLflow's
// auth tables in PostgreSQL; two servers sharing it see the same users
// (the admin made once, a user created through one logs in on the other).
func TestBasicAuthOnPostgres(t *testing.T) {
	authDB := testutil.Postgres(t)
	ini := "[mlflow]\ndefault_permission = READ\ndatabase_uri = " + authDB + "\nadmin_username = root\nadmin_password = s3cret\n"
	a := startAuthServer(t, t.TempDir(), ini)
	b := startAuthServer(t, t.TempDir(), ini)
	if st, body := a.do(t, "root", "s3cret", "POST", "/api/2.0/mlflow/users/create", map[string]any{"username": "dana", "password": "dana-pw"}); st != 200 {
		t.Fatalf("create a user through server a: %d %s", st, body)
	}
	if st, body := b.do(t, "dana", "dana-pw", "GET", "/api/2.0/mlflow/experiments/search?max_results=1", nil); st != 200 {
		t.Fatalf("the user logs in on server b: %d %s", st, body)
	}
	if st, _ := b.do(t, "dana", "wrong", "GET", "/api/2.0/mlflow/experiments/search?max_results=1", nil); st != 401 {
		t.Fatalf("a wrong password on server b: %d", st)
	}
	db, err := sql.Open("pgx", authDB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rev string
	var admins int
	if err := db.QueryRow(`SELECT version_num FROM alembic_version`).Scan(&rev); err != nil || rev != "8606fa83a998" {
		t.Fatalf("auth revision %q: %v", rev, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM users WHERE username = 'root' AND is_admin`).Scan(&admins); err != nil || admins != 1 {
		t.Fatalf("admin rows %d: %v", admins, err)
	}
}
