// Package noop is the yardstick of the small write workloads
// (internal/load): a handler on the same HTTP stack as mlrun's server
// that answers them without a store, and a group commit of nothing but a
// flush, so that a server's rate can be set beside what the machine
// serves at most (Handler alone) and what a store that answers only once
// its writes are durable serves at most (Handler with a Flusher).
// server's BenchmarkServerLoad runs them in process as "noop" and
// "noop-flush"; internal/noopserver serves them in a process of their
// own, for loadgen.
package noop

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mlrun/mlrun/store/sqlite"
)

// Workloads are the load workloads the handler can answer.
var Workloads = map[string]bool{"create-run": true, "log-batch-10": true, "log-param": true, "log-param-10": true, "log-param-10-again": true}

// run is what runs/create answers: a fixed run.
var run = []byte(`{"run":{"info":{"run_id":"0123456789abcdef0123456789abcdef","run_uuid":"0123456789abcdef0123456789abcdef","experiment_id":"1","status":"RUNNING","start_time":1,"lifecycle_stage":"active","artifact_uri":"mlflow-artifacts:/1/0123456789abcdef0123456789abcdef/artifacts"},"data":{}}}`)

// Handler decodes the JSON of every request, calls wait (when not nil;
// its error is a 500), and answers runs/create with a fixed run and
// anything else with {}.
func Handler(wait func() error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if wait != nil {
			if err := wait(); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/runs/create") {
			w.Write(run)
			return
		}
		w.Write([]byte("{}"))
	})
}

// ErrClosed is what Wait returns once the Flusher is closed.
var ErrClosed = errors.New("noop: flusher closed")

// Flusher is a group commit of nothing but what durability costs at
// least: a goroutine takes every Wait pending, writes 4 KiB to a file of
// its own and fsyncs it (what SQLite does to its WAL at each commit,
// without the pages; with the store's read before the flush where that
// helps, see sqlite.FlushReader), then answers them, and takes the next
// group.
type Flusher struct {
	f       *os.File
	fr      *sqlite.FlushReader
	mu      sync.Mutex
	waiting []chan error
	closed  bool
	wake    chan struct{}
	done    chan struct{}
}

// NewFlusher starts a Flusher writing to a file in dir.
func NewFlusher(dir string) (*Flusher, error) {
	f, err := os.Create(filepath.Join(dir, "noop-flush"))
	if err != nil {
		return nil, fmt.Errorf("noop: %w", err)
	}
	fr, err := sqlite.OpenFlushReader(dir)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("noop: %w", err)
	}
	fl := &Flusher{f: f, fr: fr, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go fl.loop()
	return fl, nil
}

// Wait returns once a group commit begun after it was called has
// flushed: nil, or the write's or the flush's error.
func (fl *Flusher) Wait() error {
	c := make(chan error, 1)
	fl.mu.Lock()
	if fl.closed {
		fl.mu.Unlock()
		return ErrClosed
	}
	fl.waiting = append(fl.waiting, c)
	fl.mu.Unlock()
	fl.kick()
	return <-c
}

func (fl *Flusher) kick() {
	select {
	case fl.wake <- struct{}{}:
	default: // already woken
	}
}

func (fl *Flusher) loop() {
	defer close(fl.done)
	page := make([]byte, 4096)
	for off := int64(0); ; off = (off + 4096) % (1 << 20) {
		<-fl.wake
		fl.mu.Lock()
		group, closed := fl.waiting, fl.closed
		fl.waiting = nil
		fl.mu.Unlock()
		if closed {
			for _, c := range group {
				c <- ErrClosed
			}
			return
		}
		if len(group) == 0 {
			continue
		}
		fl.fr.Kick()
		_, err := fl.f.WriteAt(page, off)
		if err == nil {
			err = fl.f.Sync()
		}
		for _, c := range group {
			c <- err
		}
		// More may have come meanwhile, their wake taken.
		fl.kick()
	}
}

// Close stops the Flusher: the waits pending and those to come get
// ErrClosed. It removes its file.
func (fl *Flusher) Close() error {
	fl.mu.Lock()
	already := fl.closed
	fl.closed = true
	fl.mu.Unlock()
	if already {
		return nil
	}
	fl.kick()
	<-fl.done
	fl.fr.Close()
	return errors.Join(fl.f.Close(), os.Remove(fl.f.Name()))
}
