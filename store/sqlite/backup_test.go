package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// TestBackupWhileWriting: a backup taken while a writer logs batches is a
// whole, consistent database with the runs written before it.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "m.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			r, err := s.CreateRun(ctx, store.CreateRun{})
			if err != nil {
				t.Error(err)
				return
			}
			var ms []store.Metric
			for i := 0; i < 100; i++ {
				ms = append(ms, store.Metric{Key: "m", Value: float64(i), Timestamp: int64(i), Step: int64(i)})
			}
			if err := s.LogBatch(ctx, r.Info.RunID, ms, nil, nil); err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	}()
	for written.Load() < 20 {
		time.Sleep(5 * time.Millisecond)
	}
	before := written.Load()
	dest := filepath.Join(dir, "backup.db")
	if err := s.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if err := s.Backup(ctx, dest); err == nil {
		t.Fatal("a backup over an existing file was not refused")
	}
	db, err := sql.Open("sqlite3", dest)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	db.QueryRow(`PRAGMA integrity_check`).Scan(&ok)
	var runs, partial int
	db.QueryRow(`SELECT count(*) FROM runs`).Scan(&runs)
	db.QueryRow(`SELECT count(*) FROM runs r WHERE (SELECT count(*) FROM metrics m WHERE m.run_uuid = r.run_uuid) NOT IN (0, 100)`).Scan(&partial)
	if ok != "ok" || int64(runs) < before || partial != 0 {
		t.Fatalf("backup: integrity %q, %d runs (at least %d written before), %d half-logged", ok, runs, before, partial)
	}
	if b, err := sqlite.Open(ctx, dest, sqlite.Options{}); err != nil {
		t.Fatalf("the backup does not open: %v", err)
	} else {
		b.Close()
	}
}

// TestQuietDatabaseFileHoldsItsData: once writes pause, the WAL is
// checkpointed, so copying the .db file alone (what 'cp mlflow.db' does
// while the server runs) carries the data.
func TestQuietDatabaseFileHoldsItsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "m.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.CreateRun(ctx, store.CreateRun{})
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "copy.db")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(copyPath)
		os.WriteFile(copyPath, b, 0o644)
		db, _ := sql.Open("sqlite3", "file:"+copyPath+"?mode=ro")
		var n int
		db.QueryRow(`SELECT count(*) FROM runs WHERE run_uuid = ?`, r.Info.RunID).Scan(&n)
		db.Close()
		if n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("20 s after the last write, a copy of the .db file still lacks the run: the WAL was not checkpointed")
		}
	}
}
