package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// TestReadBeforeFlush: with MLRUN_SQLITE_READ_BEFORE_FLUSH=on, writes
// spread over time make reads (at most one per few milliseconds), the
// writes land, and the reads' file leaves nothing in the database's
// folder, open or not, once the store is closed; off makes none; another value is an error that names it, and
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
// one-block write flushed 300 µs after the previous flush, with no
// reads from the disk, and with a direct (uncached) read of another
// file every 3 ms, as the SQLite store makes them. It reports the
// flush's median time, and whether auto turns the reads on here (1).
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
			name = "reads-every-3ms"
		}
		b.Run(name, func(b *testing.B) {
			w, err := os.Create(filepath.Join(dir, "w"))
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			r, err := os.OpenFile(filepath.Join(dir, "r"), os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			block := make([]byte, 2*4096)
			if _, err := r.Write(block); err != nil || r.Sync() != nil {
				b.Fatal(err)
			}
			rfd, err := unix.Open(r.Name(), unix.O_RDONLY|unix.O_DIRECT, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer unix.Close(rfd)
			aligned := block[4096-int(uintptr(unsafe.Pointer(&block[0]))%4096):][:4096]
			flushes := make([]time.Duration, 0, b.N)
			var lastRead time.Time
			for i := 0; i < b.N; i++ {
				if _, err := w.WriteAt(block[:4096], 0); err != nil {
					b.Fatal(err)
				}
				time.Sleep(300 * time.Microsecond)
				if reads && time.Since(lastRead) >= 3*time.Millisecond {
					if _, err := unix.Pread(rfd, aligned, 0); err != nil {
						b.Fatal(err)
					}
					lastRead = time.Now()
				}
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
