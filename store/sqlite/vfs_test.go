package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlrun/mlrun/store"
)

// crashCopy copies the database file and its WAL, as the kernel has them
// now, into a new folder, without the WAL index (-shm): what a process
// killed at this moment leaves, which SQLite recovers from the WAL's
// frames and checksums alone. It returns a connection to the copy.
func crashCopy(t *testing.T, path string) *sql.DB {
	t.Helper()
	dir := t.TempDir()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "copy.db"+suffix), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "copy.db")+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// checkRows checks that db is sound and its table t holds n rows whose
// values sum to sum.
func checkRows(t *testing.T, ctx context.Context, what string, db *sql.DB, n, sum int) {
	t.Helper()
	var ok string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("%s: integrity_check %q, %v", what, ok, err)
	}
	var rows, total int
	if err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(v), 0) FROM t`).Scan(&rows, &total); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if rows != n || total != sum {
		t.Fatalf("%s: %d rows summing to %d, want %d summing to %d", what, rows, total, n, sum)
	}
}

// walPair makes a database in t.TempDir() with table t (id, v, pad): its
// path, one connection through the store's VFS with synchronous=sync,
// and another connection through SQLite's own.
func walPair(t *testing.T, sync string) (path string, w, other *sql.DB) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "w.db")
	w, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_sync="+sync+"&vfs="+vfsName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.SetMaxOpenConns(1)
	other, err = sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	if _, err := w.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)`); err != nil {
		t.Fatal(err)
	}
	return path, w, other
}

// TestWALBufferCommitsWhole: through the store's VFS, with either
// sync setting, every commit's frames are in the file when the commit
// returns: another connection reads them, and a copy of the files as a
// killed process would leave them recovers every committed row. The
// transactions are of one page, of several, of more than the buffer
// holds, and one that spills pages into the WAL before its commit and
// then changes them again (SQLite then rewrites frames in place, reads
// them back and rewrites their checksums).
func TestWALBufferCommitsWhole(t *testing.T) {
	if vfsName == "" {
		t.Fatal("the store's VFS is not registered")
	}
	for _, sync := range []string{"FULL", "NORMAL"} {
		t.Run(sync, func(t *testing.T) {
			ctx := context.Background()
			path, w, other := walPair(t, sync)
			n, sum := 0, 0
			check := func(what string) {
				t.Helper()
				checkRows(t, ctx, what+": another connection", other, n, sum)
				checkRows(t, ctx, what+": the files after a kill", crashCopy(t, path), n, sum)
			}
			insert := func(what string, rows, padding int) {
				t.Helper()
				tx, err := w.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				for range rows {
					n++
					sum += n
					if _, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (?, ?, printf('%.*c', ?, 'x'))`, n, n, padding); err != nil {
						t.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
				check(what)
			}
			insert("one row", 1, 10)
			insert("a few pages", 100, 100)
			before := readVFSCounts()
			insert("past the buffer", 2000, 300)
			after := readVFSCounts()
			// Some 150 frames of two writes each, out in 64 KiB parts.
			if writes, flushes := after.writes-before.writes, after.flushes-before.flushes; writes < 300 || flushes == 0 || writes < 8*flushes {
				t.Errorf("a transaction of 2,000 rows: %d WAL writes, written out in %d", writes, flushes)
			}
			for i := range 20 {
				insert(fmt.Sprint("small commit ", i), 3, 10)
			}

			// A page cache of 10 pages: the transaction's pages go to
			// the WAL before its commit, and the update changes them
			// again.
			if _, err := w.ExecContext(ctx, `PRAGMA cache_size = 10`); err != nil {
				t.Fatal(err)
			}
			tx, err := w.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			first := n + 1
			for range 1000 {
				n++
				sum += n
				if _, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (?, ?, printf('%.*c', 300, 'y'))`, n, n); err != nil {
					t.Fatal(err)
				}
			}
			// The first rows' pages went to the WAL long ago; the last
			// ones' (but the ten in the cache) just now, still in the
			// buffer: reading them back must find what was written.
			res, err := tx.ExecContext(ctx, `UPDATE t SET v = v + 1 WHERE id BETWEEN ? AND ? OR id > ?`, first, first+99, n-400)
			if err != nil {
				t.Fatal(err)
			}
			if k, _ := res.RowsAffected(); k != 500 {
				t.Fatalf("%d rows updated", k)
			}
			sum += 500
			var inTx int
			if err := tx.QueryRowContext(ctx, `SELECT sum(v) FROM t`).Scan(&inTx); err != nil || inTx != sum {
				t.Fatalf("the transaction reads a sum of %d (%v), want %d", inTx, err, sum)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			check("spilled and changed again")
			if _, err := w.ExecContext(ctx, `PRAGMA cache_size = -2000`); err != nil {
				t.Fatal(err)
			}
			insert("after the spill", 5, 10)
		})
	}
}

// TestWALBufferRandomTransactions: through the store's VFS, with either
// sync setting, a run of random transactions (inserts, updates and
// deletes of random sizes; some rolled back whole, some with a savepoint
// rolled back; some with a page cache of ten pages, so that pages go to
// the WAL before the commit and are read back) leaves, after each one,
// what a model of it says: in another connection, and in a copy of the
// files as a killed process would leave them.
func TestWALBufferRandomTransactions(t *testing.T) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		t.Run(sync, func(t *testing.T) {
			ctx := context.Background()
			path, w, other := walPair(t, sync)
			rng := rand.New(rand.NewPCG(1, uint64(len(sync))))
			model := map[int]int{} // id → v
			next := 1
			exec := func(tx *sql.Tx, q string, args ...any) {
				t.Helper()
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			// change makes one random change in tx and in m.
			change := func(tx *sql.Tx, m map[int]int) {
				switch k := rng.IntN(10); {
				case k < 6 || len(m) == 0:
					rows, pad := 1+rng.IntN(1500), 10+rng.IntN(400)
					for range rows {
						exec(tx, `INSERT INTO t VALUES (?, ?, printf('%.*c', ?, 'x'))`, next, next, pad)
						m[next] = next
						next++
					}
				case k < 8: // often the last rows, whose pages may be in the buffer
					a := 1 + rng.IntN(next)
					if rng.IntN(2) == 0 {
						a = max(1, next-rng.IntN(800))
					}
					b := a + rng.IntN(600)
					exec(tx, `UPDATE t SET v = v + 1, pad = pad || 'y' WHERE id BETWEEN ? AND ?`, a, b)
					for id := a; id <= b; id++ {
						if v, ok := m[id]; ok {
							m[id] = v + 1
						}
					}
				default:
					a := 1 + rng.IntN(next)
					b := a + rng.IntN(300)
					exec(tx, `DELETE FROM t WHERE id BETWEEN ? AND ?`, a, b)
					for id := a; id <= b; id++ {
						delete(m, id)
					}
				}
			}
			for i := range 60 {
				cache := "-2000"
				if rng.IntN(3) == 0 {
					cache = "10"
				}
				if _, err := w.ExecContext(ctx, `PRAGMA cache_size = `+cache); err != nil {
					t.Fatal(err)
				}
				tx, err := w.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				m := maps.Clone(model)
				for range 1 + rng.IntN(3) {
					change(tx, m)
				}
				if rng.IntN(4) == 0 { // a savepoint's changes undone
					exec(tx, `SAVEPOINT s`)
					change(tx, maps.Clone(m))
					exec(tx, `ROLLBACK TO s`)
					exec(tx, `RELEASE s`)
				}
				what := fmt.Sprint("transaction ", i, " (committed)")
				if rng.IntN(4) == 0 {
					if err := tx.Rollback(); err != nil {
						t.Fatal(err)
					}
					what = fmt.Sprint("transaction ", i, " (rolled back)")
				} else {
					if err := tx.Commit(); err != nil {
						t.Fatal(err)
					}
					model = m
				}
				sum := 0
				for _, v := range model {
					sum += v
				}
				checkRows(t, ctx, what+": another connection", other, len(model), sum)
				checkRows(t, ctx, what+": the files after a kill", crashCopy(t, path), len(model), sum)
			}
		})
	}
}

// TestLargeUndoRollsBack: an undo past the 8 MiB SQLite keeps in memory
// goes to a temporary file, written in parts, and a rollback to the
// savepoint reads it back: every row as it was.
func TestLargeUndoRollsBack(t *testing.T) {
	if stmtSpill != 8<<20 {
		t.Fatalf("SQLite keeps %d bytes of a statement journal in memory, want 8 MiB (it was initialized before this package)", stmtSpill)
	}
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "u.db")+"?_journal_mode=WAL&_sync=FULL&vfs="+vfsName)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	const rows = 12000 // of 1 kB
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT NOT NULL);
		WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < ?)
		INSERT INTO t SELECT n, printf('%.*c', 1000, 'a') FROM i`, rows); err != nil {
		t.Fatal(err)
	}
	before := readVFSCounts()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{`SAVEPOINT s`, `UPDATE t SET x = printf('%.*c', 1000, 'b')`, `ROLLBACK TO s`, `RELEASE s`, `UPDATE t SET x = 'c' WHERE id = 1`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if split := readVFSCounts().split - before.split; split == 0 {
		t.Error("no sub-journal write was split: the undo stayed in memory, and the test tests nothing")
	}
	var ok string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check %q, %v", ok, err)
	}
	var as, cs int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE x = printf('%.*c', 1000, 'a')), count(*) FILTER (WHERE x = 'c') FROM t`).Scan(&as, &cs); err != nil {
		t.Fatal(err)
	}
	if as != rows-1 || cs != 1 {
		t.Fatalf("%d rows as they were and %d changed after the savepoint, want %d and 1", as, cs, rows-1)
	}
}

// TestStoreWritesThroughWALBuffer: the store's writes go through the
// store's VFS.
func TestStoreWritesThroughWALBuffer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, filepath.Join(dir, "mlflow.db"), Options{ArtifactRoot: filepath.Join(dir, "mlruns")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "0"})
	if err != nil {
		t.Fatal(err)
	}
	before := readVFSCounts()
	ps := make([]store.Param, 100)
	for i := range ps {
		ps[i] = store.Param{Key: fmt.Sprint("p", i), Value: fmt.Sprintf("%0500d", i)}
	}
	if err := s.LogBatch(ctx, r.Info.RunID, nil, ps, nil); err != nil {
		t.Fatal(err)
	}
	after := readVFSCounts()
	if writes, flushes := after.writes-before.writes, after.flushes-before.flushes; writes < 20 || flushes == 0 || writes < 4*flushes {
		t.Errorf("a log-batch of 100 params: %d WAL writes through the VFS, %d written out", writes, flushes)
	}
}

// TestWALPagesCounted: WALPages counts every page the store's commits
// append to the WAL, as the WAL file's growth shows: a new run, and ten
// params into it, each one commit of a few pages.
func TestWALPagesCounted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "mlflow.db")
	s, err := Open(ctx, path, Options{ArtifactRoot: filepath.Join(dir, "mlruns")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// An empty WAL, so that its frames are the next commits'.
	if _, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	frames := func() int64 {
		t.Helper()
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() == 0 {
			return 0
		}
		// The WAL's 32-byte header, then frames of a 24-byte header and
		// a 4 KiB page.
		return (fi.Size() - 32) / (24 + 4096)
	}
	var runID string
	for _, w := range []struct {
		what  string
		write func() error
	}{
		{"a new run", func() error {
			r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "0"})
			if err == nil {
				runID = r.Info.RunID
			}
			return err
		}},
		{"ten params", func() error {
			ps := make([]store.Param, 10)
			for i := range ps {
				ps[i] = store.Param{Key: fmt.Sprint("p", i), Value: "v"}
			}
			return s.LogBatch(ctx, runID, nil, ps, nil)
		}},
	} {
		f0, p0 := frames(), s.WALPages()
		if err := w.write(); err != nil {
			t.Fatalf("%s: %v", w.what, err)
		}
		f, p := frames()-f0, s.WALPages()-p0
		if f == 0 || p != f {
			t.Errorf("%s: WALPages counted %d pages, the WAL grew by %d frames", w.what, p, f)
		}
	}
}

// BenchmarkWALWrites: group commits of nine requests of ten params each
// (a group of log-param-10's, 20 clients), through SQLite's default VFS
// (two writes a WAL frame) against the store's, which gathers them. Without fsync
// (synchronous=OFF), so that the disk's time does not hide the CPU's.
func BenchmarkWALWrites(b *testing.B) {
	for _, bc := range []struct{ name, vfs string }{{"sqlite-vfs", ""}, {"gathered", vfsName}} {
		b.Run(bc.name, func(b *testing.B) {
			db, ctx := pcacheDB(b, "OFF", bc.vfs)
			logParams(b, ctx, db, 0, 2000)
			i := 2000
			for b.Loop() {
				commitGroup(b, ctx, db, i)
				i += 9
			}
		})
	}
}
