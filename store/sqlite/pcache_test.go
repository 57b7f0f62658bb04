package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// pcacheDB is one connection to a new WAL database in t.TempDir() with
// the writer's page cache, and a table shaped like params; sync is its
// synchronous setting, vfs its VFS ("" for SQLite's default).
func pcacheDB(t testing.TB, sync, vfs string) (*sql.DB, context.Context) {
	t.Helper()
	ctx := context.Background()
	dsn := "file:" + filepath.Join(t.TempDir(), "p.db") + "?_journal_mode=WAL&_cache_size=-65536&_sync=" + sync
	if vfs != "" {
		dsn += "&vfs=" + vfs
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(ctx, `CREATE TABLE params ("key" TEXT, value TEXT, run_uuid TEXT, PRIMARY KEY ("key", run_uuid));
		CREATE INDEX index_params_run_uuid ON params (run_uuid)`); err != nil {
		t.Fatal(err)
	}
	return db, ctx
}

// logParams commits n transactions of ten params each, spread over 20
// runs (as log-param-10 writes them): inserts in the middle of both
// indexes, whose pages split.
func logParams(t testing.TB, ctx context.Context, db *sql.DB, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if _, err := db.ExecContext(ctx, paramsInsert(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// paramsInsert is the insert of request i's ten params.
func paramsInsert(i int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO params VALUES `)
	for j := range 10 {
		if j > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "('q%d_%d', 'some value', '0193a5c0%024x')", i, j, i%20)
	}
	return q.String()
}

// commitGroup commits requests i to i+8's params in one transaction, as
// a group commit of nine log-param-10 requests.
func commitGroup(b *testing.B, ctx context.Context, db *sql.DB, i int) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	for j := range 9 {
		if _, err := tx.ExecContext(ctx, paramsInsert(i+j)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// checkParams checks that the database is sound and holds the rows
// logParams wrote for [0, n).
func checkParams(t *testing.T, ctx context.Context, db *sql.DB, n int) {
	t.Helper()
	var ok string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q, %v", ok, err)
	}
	var rows int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM params WHERE value = 'some value'`).Scan(&rows); err != nil || rows != 10*n {
		t.Fatalf("%d rows (%v), want %d", rows, err, 10*n)
	}
}

// TestPageCacheSkipsEmptyTruncations: commits whose page splits moved a
// page through the pending-byte page's number do not make SQLite's page
// cache truncate (a scan of its whole hash table) at every commit after;
// a truncation with pages to drop (a rolled-back transaction that grew
// the database) still drops them, and the data stays sound.
func TestPageCacheSkipsEmptyTruncations(t *testing.T) {
	if !pcacheInstalled {
		t.Fatal("the page cache wrapper is not installed (SQLite was initialized before this package's init)")
	}
	db, ctx := pcacheDB(t, "FULL", "")
	logParams(t, ctx, db, 0, 20) // the first pages
	before := readPcacheCounts()
	const commits = 2000
	logParams(t, ctx, db, 20, commits)
	after := readPcacheCounts()
	if after.borrows == before.borrows {
		t.Fatal("no page split moved a page through the pending-byte page's number: the test does not test anything")
	}
	if passed := after.passed - before.passed; passed != 0 {
		t.Errorf("%d truncations of %d commits passed to SQLite's cache, which had no page to drop (%d page moves through the pending-byte page)",
			passed, commits, after.borrows-before.borrows)
	}
	if skipped := after.skipped - before.skipped; skipped < commits {
		t.Errorf("%d truncations skipped in %d commits", skipped, commits)
	}
	checkParams(t, ctx, db, 20+commits)

	// A transaction that grows the database by many pages and rolls
	// back: its pages must leave the cache (else the next write would
	// find them there, stale).
	before = readPcacheCounts()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO params SELECT "key" || 'x', zeroblob(3000), run_uuid FROM params`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if after := readPcacheCounts(); after.passed == before.passed {
		t.Error("the rollback's truncation was skipped: the cache may keep pages past the database's end")
	}
	logParams(t, ctx, db, 20+commits, 500)
	checkParams(t, ctx, db, 20+commits+500)
}

// BenchmarkCommitAfterSplits: group commits of nine requests of ten
// params each (a group of log-param-10's, 20 clients) into a database of
// 200,000 params whose pages are in the writer's cache, SQLite's page cache
// alone (every commit after a page split scans its whole hash table)
// against the wrapper's skipping. Without fsync (synchronous=OFF), so
// that the disk's time does not hide the CPU's.
func BenchmarkCommitAfterSplits(b *testing.B) {
	for _, bc := range []struct {
		name string
		skip bool
	}{{"sqlite-alone", false}, {"skip-empty", true}} {
		b.Run(bc.name, func(b *testing.B) {
			db, ctx := pcacheDB(b, "OFF", "")
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, `WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < 199999)
				INSERT INTO params SELECT 'q' || (n / 10) || '_' || (n % 10), 'some value', printf('0193a5c0%024x', (n / 10) % 20) FROM i`); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			// Every page of both indexes in the cache, as a long-running
			// writer's is.
			for _, q := range []string{`SELECT count(*) FROM params INDEXED BY sqlite_autoindex_params_1`, `SELECT count(*) FROM params INDEXED BY index_params_run_uuid`, `SELECT count(value) FROM params`} {
				var n int
				if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
			setPcacheSkip(bc.skip)
			defer setPcacheSkip(true)
			before := readPcacheCounts()
			i := 20000
			for b.Loop() {
				commitGroup(b, ctx, db, i)
				i += 9
			}
			after := readPcacheCounts()
			b.ReportMetric(float64(after.passed-before.passed)/float64(b.N), "truncations/op")
			b.ReportMetric(float64(after.borrows-before.borrows)/float64(b.N), "borrows/op")
		})
	}
}
