package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// TestReadBeforeFlush: with MLRUN_SQLITE_READ_BEFORE_FLUSH=on, writes
// spread over time make reads (at most one per few milliseconds), the
// writes land, and the reads' file leaves nothing in the database's
// folder, open or not, once the store is closed; auto measures whether
// they help at the first write, not at open; off makes none; another value is an error that names it, and
// no database is made.
func TestReadBeforeFlush(t *testing.T) {
	ctx := context.Background()
	t.Run("on", func(t *testing.T) {
		t.Setenv("MLRUN_SQLITE_READ_BEFORE_FLUSH", "on")
		dir := t.TempDir()
		s, err := sqlite.Open(ctx, filepath.Join(dir, "m.db"), sqlite.Options{ArtifactRoot: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		start := time.Now()
		for i := 0; i < 20; i++ {
			r, err := s.CreateRun(ctx, store.CreateRun{})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.Info.RunID)
			time.Sleep(5 * time.Millisecond)
		}
		// Reads are asked for at most every 3 ms: no more than the
		// writes' span allows, and at least a few.
		reads := s.FlushReads()
		if most := int64(time.Since(start)/(3*time.Millisecond)) + 1; reads < 5 || reads > most {
			t.Errorf("%d reads for 20 writes 5 ms apart, want 5 to %d", reads, most)
		}
		for _, id := range ids {
			if _, err := s.GetRun(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s.Close() // a second Close is harmless
		// A write after Close (a request still in flight) is an error,
		// not a panic of the reader's.
		time.Sleep(4 * time.Millisecond) // past readEvery: it would read
		if _, err := s.CreateRun(ctx, store.CreateRun{}); err == nil || !strings.Contains(err.Error(), "database is closed") {
			t.Errorf("a write after Close: %v, want the closed database's error", err)
		}
		fds, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range fds {
			if l, _ := os.Readlink("/proc/self/fd/" + fd.Name()); strings.HasPrefix(l, dir+"/") {
				t.Errorf("%s still open after Close", l)
			}
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), "m.db") {
				t.Errorf("%s left in the database's folder", e.Name())
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		t.Setenv("MLRUN_SQLITE_READ_BEFORE_FLUSH", "off")
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"), sqlite.Options{ArtifactRoot: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.CreateRun(ctx, store.CreateRun{}); err != nil {
			t.Fatal(err)
		}
		if n := s.FlushReads(); n != -1 {
			t.Errorf("off: a reader that made %d reads", n)
		}
	})
	t.Run("auto measures at the first write", func(t *testing.T) {
		t.Setenv("MLRUN_SQLITE_READ_BEFORE_FLUSH", "auto")
		sqlite.ForgetFlushReads()
		before := sqlite.FlushMeasurements()
		dir := t.TempDir()
		s, err := sqlite.Open(ctx, filepath.Join(dir, "m.db"), sqlite.Options{ArtifactRoot: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if n := sqlite.FlushMeasurements() - before; n != 0 {
			t.Fatalf("%d measurements at open, before any write", n)
		}
		for i := 0; i < 3; i++ {
			if _, err := s.CreateRun(ctx, store.CreateRun{}); err != nil {
				t.Fatal(err)
			}
		}
		// Close waits for the reader's goroutine, which measures at the
		// first write (and, if it found no help, not again for 10 s).
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if n := sqlite.FlushMeasurements() - before; n != 1 {
			t.Fatalf("%d measurements after three writes, want 1", n)
		}
		on, _ := sqlite.FlushReadsMeasured(dir)
		t.Logf("reads before flushes help here: %v", on)
	})
	t.Run("bad value", func(t *testing.T) {
		t.Setenv("MLRUN_SQLITE_READ_BEFORE_FLUSH", "yes")
		path := filepath.Join(t.TempDir(), "m.db")
		_, err := sqlite.Open(ctx, path, sqlite.Options{ArtifactRoot: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), `MLRUN_SQLITE_READ_BEFORE_FLUSH="yes": want auto, on or off`) {
			t.Fatalf("got %v, want the variable's bad value named", err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("a database was made: %v", err)
		}
	})
}

// BenchmarkFlushAfterPause is what reads before flushes are for: a
// one-block write flushed 300 µs after the previous flush, without
// reads from the disk, and with the store's FlushReader kicked before
// each flush (a direct read of its own file at most every 3 ms). It
// reports the flush's median time, and whether auto turns the reads on
// here (1).
//
//	go test -run '^$' -bench FlushAfterPause ./store/sqlite/
func BenchmarkFlushAfterPause(b *testing.B) {
	dir := b.TempDir()
	on, err := sqlite.FlushReadsHelp(dir)
	if err != nil {
		b.Skipf("no direct reads in %s: %v", dir, err)
	}
	for _, reads := range []bool{false, true} {
		name := "no-reads"
		if reads {
			name = "flush-reader"
		}
		b.Run(name, func(b *testing.B) {
			var fr *sqlite.FlushReader
			if reads {
				b.Setenv("MLRUN_SQLITE_READ_BEFORE_FLUSH", "on")
				if fr, err = sqlite.OpenFlushReader(dir); err != nil || fr == nil {
					b.Fatalf("no FlushReader: %v", err)
				}
				defer fr.Close()
			}
			w, err := os.Create(filepath.Join(dir, "w"))
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			block := make([]byte, 4096)
			flushes := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				if _, err := w.WriteAt(block, 0); err != nil {
					b.Fatal(err)
				}
				time.Sleep(300 * time.Microsecond)
				fr.Kick()
				t := time.Now()
				if err := w.Sync(); err != nil {
					b.Fatal(err)
				}
				flushes = append(flushes, time.Since(t))
			}
			slices.Sort(flushes)
			b.ReportMetric(float64(flushes[len(flushes)/2].Microseconds()), "flush-µs")
			auto := 0.0
			if on {
				auto = 1
			}
			b.ReportMetric(auto, "auto-on")
		})
	}
}
