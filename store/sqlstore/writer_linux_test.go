package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWritesRunOnTheWriterThread: on SQLite every write transaction,
// grouped or alone, runs on one OS thread of the store's, whichever
// request's goroutine led its group (here each writer's goroutine has a
// thread of its own). Close gives the thread back to the runtime rather
// than ending it (an ended thread sends the parent-death signal to the
// children forked from it), and stores opened and closed one after the
// other do not keep a writer goroutine (and its thread) each.
func TestWritesRunOnTheWriterThread(t *testing.T) {
	ctx := context.Background()
	st, _ := sqliteExperiment(t, "thread")
	var mu sync.Mutex
	tids := map[int]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for range 50 {
				if err := st.Write(ctx, func(context.Context, *sql.Tx) error {
					mu.Lock()
					tids[unix.Gettid()]++
					mu.Unlock()
					return nil
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(tids) != 1 {
		t.Fatalf("writes ran on %d threads (thread id: writes): %v", len(tids), tids)
	}
	var tid int
	for tid = range tids {
	}
	task := fmt.Sprintf("/proc/self/task/%d", tid)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		time.Sleep(10 * time.Millisecond)
		if _, err := os.Stat(task); err != nil {
			t.Fatalf("the writer's thread ended after Close: %v", err)
		}
	}
	// A write after Close is not left waiting for the stopped writer:
	// it fails on the closed database.
	after := make(chan error, 1)
	go func() { after <- st.Write(ctx, func(context.Context, *sql.Tx) error { return nil }) }()
	select {
	case err := <-after:
		if err == nil || !strings.Contains(err.Error(), "database is closed") {
			t.Fatalf("a write after Close: %v, want the closed database's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write after Close still waits 10 s later")
	}

	// Each store's writer goroutine holds its thread until Close.
	before := runtime.NumGoroutine()
	for i := range 30 {
		st, _ := sqliteExperiment(t, fmt.Sprint("thread", i))
		if err := st.Write(ctx, func(context.Context, *sql.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before+10; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("30 stores opened and closed in turn: %d goroutines 5 s after, %d before", runtime.NumGoroutine(), before)
		}
	}
}

// TestCloseAnswersQueuedWrites: writes queued for the writer when the
// store closes are answered (the one running commits; the one waiting
// fails on the closed database), none is left waiting.
func TestCloseAnswersQueuedWrites(t *testing.T) {
	ctx := context.Background()
	st, _ := sqliteExperiment(t, "close")
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- st.Write(ctx, func(context.Context, *sql.Tx) error { <-release; return nil })
	}()
	waitPending(t, st, 1)
	second := make(chan error, 1)
	go func() { second <- st.Write(ctx, func(context.Context, *sql.Tx) error { return nil }) }()
	waitPending(t, st, 2)
	closed := make(chan error, 1)
	go func() { closed <- st.Close() }()
	time.Sleep(20 * time.Millisecond) // Close waits for the running write
	close(release)
	for name, ch := range map[string]chan error{"running": first, "queued": second, "Close": closed} {
		select {
		case err := <-ch:
			if name == "queued" {
				if err == nil || !strings.Contains(err.Error(), "database is closed") {
					t.Errorf("the queued write: %v, want the closed database's error", err)
				}
			} else if err != nil {
				t.Errorf("the %s write: %v", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the %s write still waits 10 s later", name)
		}
	}
}
