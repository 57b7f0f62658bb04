package sqlstore

import (
	"runtime"
	"sync"
)

// writer is the goroutine, on an OS thread of its own, that takes and
// commits the groups where the database has one writer
// (Config.WriterThread). Without it each group is led by a request's
// goroutine, which hands the lead to the next: the writer's work moves
// from thread to thread, and each of those threads also runs HTTP
// handlers, so the kernel sees CPU-bound threads and lets them wait for
// a core. A thread that runs only the transactions, and sleeps in every
// fsync and when no write waits, is woken ahead of them: under
// log-param-10 (20 clients, 2 cores; /proc/…/task/…/schedstat) the
// writer's thread waited 0.13-0.16 ms for a core per ms it ran, the
// leaders' threads about 0.7 (store/sqlite/DESIGN.md has the rates). A
// goroutine of its own not locked to its thread served no more than the
// leaders did: it is the thread that matters. On PostgreSQL, where a
// write mostly waits for the server, two such threads served 13-16 %
// less than its two leaders: it keeps them.
//
// Writes queue in the group (do) and wake the writer, which takes every
// write waiting (up to maxGroup) as one group, answers them after the
// commit, and goes on while writes wait.
type writer struct {
	g     *group
	wake  chan struct{} // a write was queued (buffered: one is enough)
	quit  chan struct{}
	start sync.Once
	stop  sync.Once
}

func newWriter(g *group) *writer {
	return &writer{g: g, wake: make(chan struct{}, 1), quit: make(chan struct{})}
}

// queue queues j for the writer and returns when it is answered; false
// when the writer has stopped (j is not queued, and the caller runs it).
func (w *writer) queue(j *job) bool {
	w.start.Do(func() { go w.loop() })
	g := w.g
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	g.queue = append(g.queue, j)
	g.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default: // already woken
	}
	<-j.next
	return true
}

func (w *writer) loop() {
	runtime.LockOSThread()
	// Unlocked before the goroutine ends, so that the thread goes back
	// to the runtime: a goroutine that ends locked ends its thread, and
	// a child process forked from that thread before (a step's
	// supervisor, a test's PostgreSQL) would get its parent-death
	// signal.
	defer runtime.UnlockOSThread()
	g := w.g
	for {
		select {
		case <-w.wake:
		case <-w.quit:
			// Writes queued before the store closed are answered (their
			// transactions fail on the closed database); none can be
			// queued after.
			g.mu.Lock()
			g.closed = true
			g.mu.Unlock()
			for w.commitWaiting() {
			}
			return
		}
		for w.commitWaiting() {
		}
	}
}

// commitWaiting commits the writes waiting as one group and answers
// them; false when none was waiting. A write that finds itself alone
// first lets the other runnable goroutines go (see yieldsAlone), so that
// requests being decoded join it.
func (w *writer) commitWaiting() bool {
	g := w.g
	g.yieldWhileQueued(1)
	batch := g.take(nil, maxGroup)
	if len(batch) == 0 {
		return false
	}
	g.commit(batch)
	g.answer(batch)
	return true
}

// close stops the writer, once the writes queued are answered; later
// writes run on their callers' goroutines.
func (w *writer) close() { w.stop.Do(func() { close(w.quit) }) }
