package testutil

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestSweepClusters: the folders of clusters whose server is gone are
// removed; a running server's folder, one being made, and anything not a
// cluster's are kept.
func TestSweepClusters(t *testing.T) {
	root := t.TempDir()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	cluster := func(name, pid string, age time.Duration) string {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
		if pid != "" {
			// postmaster.pid: the pid, then the data folder, start time…
			if err := os.WriteFile(filepath.Join(dir, "data", "postmaster.pid"), []byte(pid+"\n"+dir+"/data\n1765000000\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		old := time.Now().Add(-age)
		if err := os.Chtimes(dir, old, old); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	exited := cluster(clusterPrefix+"1", strconv.Itoa(gone.Process.Pid), time.Hour)
	running := cluster(clusterPrefix+"2", strconv.Itoa(os.Getpid()), time.Hour)
	stopped := cluster(clusterPrefix+"3", "", time.Hour)
	making := cluster(clusterPrefix+"4", "", time.Second)
	other := cluster("other-1", strconv.Itoa(gone.Process.Pid), time.Hour)

	sweepClusters(root, time.Now())

	for dir, want := range map[string]bool{exited: false, running: true, stopped: false, making: true, other: true} {
		_, err := os.Stat(dir)
		if kept := err == nil; kept != want {
			t.Errorf("%s: kept %v, want %v (%v)", filepath.Base(dir), kept, want, err)
		}
	}
}

// TestDurablePostgres: the benchmarks' cluster flushes each commit (as a
// deployment does); the tests' flushes nothing. Both serve a new database.
func TestDurablePostgres(t *testing.T) {
	for _, c := range []struct {
		name string
		uri  func(testing.TB) string
		want string
	}{
		{"Postgres", Postgres, "off"},
		{"DurablePostgres", DurablePostgres, "on"},
	} {
		db, err := sql.Open("pgx", c.uri(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, setting := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
			var v string
			if err := db.QueryRow("SHOW " + setting).Scan(&v); err != nil {
				t.Fatalf("%s: SHOW %s: %v", c.name, setting, err)
			}
			if v != c.want {
				t.Errorf("%s: %s = %s, want %s", c.name, setting, v, c.want)
			}
		}
		var tables int
		if err := db.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil || tables != 0 {
			t.Errorf("%s: %d tables (%v), want a new, empty database", c.name, tables, err)
		}
	}
}
