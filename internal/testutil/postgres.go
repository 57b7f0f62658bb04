package testutil

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// PostgresInstall is what a developer installs for the PostgreSQL tests.
const PostgresInstall = "apt-get install postgresql"

// cluster is a throwaway PostgreSQL server, started once for the test
// binary when a test first asks for a database on it.
type cluster struct {
	settings []string // postgres -c settings besides the common ones
	once     sync.Once
	url      string // postgresql://…/postgres of the cluster, "" if none
	err      error
}

var (
	// fast is the tests' cluster: nothing is flushed to disk (fsync,
	// synchronous_commit and full_page_writes off), so tests do not wait
	// for the disk; a crash of the machine would lose it, which for a
	// throwaway cluster does not matter.
	fast = &cluster{settings: []string{"fsync=off", "synchronous_commit=off", "full_page_writes=off"}}
	// durable keeps PostgreSQL's defaults: a commit is answered once its
	// WAL is flushed, as in a deployment. For benchmarks of writes.
	durable = &cluster{}
	pgSeq   atomic.Int64
)

// pgBin finds Debian's PostgreSQL programs (initdb, postgres).
func pgBin() string {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := string(out[:len(out)-1]); fileExists(filepath.Join(d, "initdb")) {
			return d
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if fileExists(filepath.Join(dirs[i], "initdb")) {
			return dirs[i]
		}
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// startCluster makes a throwaway cluster (initdb, trust on loopback, C
// locale) in a temporary folder and starts postgres on a free loopback
// port with settings, as the postgres user when the tests run as root
// (PostgreSQL refuses root). The server dies with the test binary
// (parent-death signal), so nothing is left running.
func startCluster(t testing.TB, settings []string) (string, error) {
	bin := pgBin()
	if bin == "" {
		return "", fmt.Errorf("no PostgreSQL found (%s)", PostgresInstall)
	}
	sweepClusters(os.TempDir(), time.Now())
	dir, err := os.MkdirTemp("", clusterPrefix)
	if err != nil {
		return "", err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", fmt.Errorf("running as root needs the postgres user (%s): %w", PostgresInstall, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "--locale=C", "-E", "UTF8")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %v\n%s", err, out)
	}
	port := FreePort(t)
	args := []string{"-D", data, "-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + dir, "-c", "max_connections=200"}
	for _, setting := range settings {
		args = append(args, "-c", setting)
	}
	srv := exec.Command(filepath.Join(bin, "postgres"), args...)
	srv.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	logf, _ := os.Create(filepath.Join(dir, "postgres.log"))
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		return "", fmt.Errorf("start postgres: %w", err)
	}
	u := fmt.Sprintf("postgresql://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	db, err := sql.Open("pgx", u)
	if err != nil {
		return "", err
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return u, nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			return "", fmt.Errorf("postgres did not accept connections within 60 s: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// clusterPrefix starts the name of a throwaway cluster's folder.
const clusterPrefix = "mlrun-pg-"

// sweepClusters removes the folders of earlier test binaries' clusters
// under root, left behind because a test binary has no hook that runs
// when it exits (each is 50-550 MB; a few days of test runs filled a
// disk). A folder goes when its server is gone: the process named in
// data/postmaster.pid no longer exists, or there is no such file and the
// folder is older than a minute (one made now may be in initdb).
func sweepClusters(root string, now time.Time) {
	dirs, _ := filepath.Glob(filepath.Join(root, clusterPrefix+"*"))
	for _, dir := range dirs {
		if clusterGone(dir, now) {
			os.RemoveAll(dir)
		}
	}
}

// clusterGone says whether dir's cluster has no server running.
func clusterGone(dir string, now time.Time) bool {
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		fi, err := os.Stat(dir)
		return err == nil && now.Sub(fi.ModTime()) > time.Minute
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return false
	}
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

// Postgres returns the URI (postgresql://…) of a new, empty database on a
// real PostgreSQL server started once for the test binary, which flushes
// nothing to disk. Under CI a missing PostgreSQL fails the test; locally
// it is skipped with what to install.
func Postgres(t testing.TB) string {
	t.Helper()
	return fast.database(t)
}

// DurablePostgres is Postgres on a server of its own with PostgreSQL's
// durable defaults (each commit answered once its WAL is flushed): for
// benchmarks of writes, whose numbers must be what a deployment gets.
func DurablePostgres(t testing.TB) string {
	t.Helper()
	return durable.database(t)
}

// database starts c if it is not running and makes a new database on it.
func (c *cluster) database(t testing.TB) string {
	t.Helper()
	c.once.Do(func() { c.url, c.err = startCluster(t, c.settings) })
	if c.err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL under CI (.ci/run should install it): %v", c.err)
		}
		t.Skipf("PostgreSQL not available: %v", c.err)
	}
	db, err := sql.Open("pgx", c.url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := fmt.Sprintf("mlrun_test_%d_%d", os.Getpid(), pgSeq.Add(1))
	if _, err := db.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", c.url)
		if err == nil {
			db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			db.Close()
		}
	})
	u := c.url[:len(c.url)-len("postgres?sslmode=disable")]
	return u + name + "?sslmode=disable"
}
