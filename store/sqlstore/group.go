package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// maxGroup bounds how many write transactions one group commit carries.
const maxGroup = 128

// group is a group commit. A write request spends most of its time
// waiting for the others' commits, and each commit costs the same
// whatever it carries (a WAL append and an fsync on SQLite, a round trip
// and a WAL flush on PostgreSQL). So a writer that finds a way free (a
// leader) takes every write waiting at that moment and runs them in one
// transaction, each under a savepoint of its own: one that fails is
// rolled back to its savepoint alone and gets its error; the others
// commit. Every caller is answered after the commit. Writes that insert
// run data (CreateRun, LogBatch) are first run merged, a few statements
// for all of them (see merge). The leader then hands the lead to the
// first write that arrived meanwhile, which takes the next group, and
// yields to it.
//
// Where the database has one writer (SQLite), a goroutine of the
// store's on an OS thread of its own takes the groups instead of the
// requests' goroutines (see writer); after the store closes, the leaders
// do again.
//
// At most maxLeaders groups run at once: one where the database has one
// writer (SQLite); a few where writers run in parallel (PostgreSQL), so
// that the database works on one group while another waits for its
// commit's round trip. (A large write, which gains little from sharing
// a commit, runs there beside the groups: see largeWrite.)
//
// When the transaction itself fails (its commit, a savepoint, an error
// that ends the transaction: SQLite rolls back on a full disk or an I/O
// error; a write's failure the dialect says may be retried: a PostgreSQL
// serialization failure dooms the whole transaction), each of the
// group's writes runs again alone, in a transaction of its own (retried
// as the dialect says), and gets its own result.
type group struct {
	s          *Store
	maxLeaders int // groups that may run at once
	mu         sync.Mutex
	queue      []*job // waiting, in arrival order
	leaders    int    // groups running now
	// writer, when not nil, takes and commits the groups on an OS
	// thread of its own (Config.WriterThread); else the leaders do.
	writer *writer
	closed bool // the writer has stopped
}

// job is one write transaction waiting in a group.
type job struct {
	ctx context.Context // the caller's, without its cancellation
	fn  txFunc
	op  any // a write the group may merge (see merge), or nil
	err error
	// next says what the waiting caller does: true, it is done (err is
	// its result); false, it leads the next group.
	next chan bool
	// queued is when the job was queued; answered, when its group had
	// committed and the answers began (WriteStats' QueueTime and
	// ResumeTime).
	queued, answered time.Time
}

// do runs fn in the next group commit and returns its result; a
// largeWrite, or a lockedWrite at READ COMMITTED, runs alone where
// several groups may run (see each).
func (g *group) do(ctx context.Context, op any, fn txFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, large := op.(largeWrite); large {
		if g.maxLeaders > 1 {
			return g.s.alone(ctx, fn)
		}
		op = nil // joins a group, not merged
	}
	if _, locked := op.(lockedWrite); locked {
		if g.maxLeaders > 1 {
			return g.s.aloneAt(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, fn)
		}
		op = nil
	}
	j := &job{ctx: context.WithoutCancel(ctx), fn: fn, op: op, next: make(chan bool, 1), queued: time.Now()}
	if g.writer != nil && g.writer.queue(j) {
		g.resumed(j)
		return j.err
	}
	g.mu.Lock()
	lead := g.leaders < g.maxLeaders
	if lead {
		g.leaders++
	} else {
		g.queue = append(g.queue, j)
	}
	g.mu.Unlock()
	if !lead {
		if done := <-j.next; done {
			g.resumed(j)
			return j.err
		}
	}
	g.lead(j)
	return j.err
}

// yieldsAlone is how many times a leader that finds no other write
// waiting lets the other runnable goroutines go first. Under load, the
// lead often passes to a write that arrived alone during the last
// commit, while other requests are still being read and decoded: 36 %
// of create-run's groups were of one write, each paying a whole commit
// (20 clients, ServerLoad). Yielding twice lets those requests join the
// group (14 % alone); with nothing else to run a yield returns at once.
const yieldsAlone = 2

// lead runs own (a leader's write is never in the queue) and the writes
// waiting as one group, answers them, and passes the lead on: to the
// first write that arrived meanwhile, taken off the queue, or back to the
// group when none did. Every queued write leaves the queue once, under
// mu: in a group (its answer is true) or with the lead (false).
func (g *group) lead(own *job) {
	g.yieldWhileQueued(0)
	batch := g.take([]*job{own}, maxGroup-1)
	g.commit(batch)
	g.answer(batch[1:])
	g.mu.Lock()
	passed := len(g.queue) > 0
	if passed {
		next := g.queue[0]
		g.queue = append(g.queue[:0], g.queue[1:]...)
		g.dequeued(next, time.Now())
		next.next <- false
	} else {
		g.leaders--
	}
	g.mu.Unlock()
	if passed {
		// The next leader, readied last, runs now: the writer is never
		// idle while this request writes its response (create-run and
		// log-batch-10 +12-15 %, the others +4-5 %, 3 alternating rounds).
		runtime.Gosched()
	}
}

// yieldWhileQueued lets the other runnable goroutines go first while
// the queue holds n writes, yieldsAlone times at most.
func (g *group) yieldWhileQueued(n int) {
	for range yieldsAlone {
		g.mu.Lock()
		alone := len(g.queue) == n
		g.mu.Unlock()
		if !alone {
			return
		}
		runtime.Gosched()
	}
}

// take appends up to n of the writes waiting to batch, taking them off
// the queue.
func (g *group) take(batch []*job, n int) []*job {
	g.mu.Lock()
	defer g.mu.Unlock()
	n = min(len(g.queue), n)
	if n > 0 {
		now := time.Now()
		for _, j := range g.queue[:n] {
			g.dequeued(j, now)
		}
	}
	batch = append(batch, g.queue[:n]...)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	return batch
}

// dequeued counts the time j waited in the queue, which it left at now.
func (g *group) dequeued(j *job, now time.Time) { g.s.queueTime.Add(int64(now.Sub(j.queued))) }

// answer tells the callers of batch, committed, that they are done.
func (g *group) answer(batch []*job) {
	now := time.Now()
	for _, j := range batch {
		j.answered = now
		j.next <- true
	}
}

// resumed counts the time since j was answered: its caller runs again.
func (g *group) resumed(j *job) { since(&g.s.resumeTime, j.answered) }

// commit runs batch in one transaction, or each alone when that fails.
func (g *group) commit(batch []*job) {
	if len(batch) > 1 {
		if err := g.tryGroup(batch); err == nil {
			return
		}
	}
	for _, j := range batch {
		j.err = g.s.alone(j.ctx, j.run)
	}
}

// testHookCommit, set by tests, is called by every group commit just
// before its transaction commits.
var testHookCommit func()

// tryGroup runs batch in one transaction, each job under a savepoint.
// An error is the transaction's own: then nothing of it is committed and
// the jobs' results mean nothing.
func (g *group) tryGroup(batch []*job) error {
	ctx := context.Background()
	defer since(&g.s.txTime, time.Now())
	if err := g.s.d.BeginWrite(ctx); err != nil {
		return err
	}
	tx, err := g.s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// A panic before the commit, outside the jobs' own work (which run
	// recovers), is the transaction's failure: it is rolled back, so the
	// one writer connection is not left inside it, and each job runs
	// alone.
	var alone []*job
	if err := guard(func() (err error) {
		alone, err = g.runAll(ctx, tx, batch)
		return err
	}); err != nil {
		tx.Rollback()
		return err
	}
	if testHookCommit != nil {
		testHookCommit()
	}
	commit := time.Now()
	err = tx.Commit()
	since(&g.s.commitTime, commit)
	if err != nil {
		return err
	}
	g.s.merged.Add(int64(len(batch) - len(alone)))
	g.s.commits.Add(1)
	g.s.d.Committed()
	return nil
}

// runAll runs batch's writes in tx: the mergeable ones merged, the others
// (returned) each under a savepoint. An error is the transaction's.
func (g *group) runAll(ctx context.Context, tx *sql.Tx, batch []*job) ([]*job, error) {
	exec := func(q string) error {
		_, err := tx.ExecContext(ctx, q)
		return err
	}
	alone, err := g.s.merge(ctx, tx, batch)
	if err != nil {
		return nil, err
	}
	for _, j := range alone {
		if err := exec(`SAVEPOINT mlrun_write`); err != nil {
			return nil, err
		}
		if j.err = j.run(j.ctx, tx); j.err != nil {
			if g.s.d.Retry(j.err) {
				return nil, j.err // the transaction is doomed: all alone
			}
			// Fails when the error ended the transaction.
			if err := exec(`ROLLBACK TO mlrun_write`); err != nil {
				return nil, err
			}
		}
		if err := exec(`RELEASE mlrun_write`); err != nil {
			return nil, err
		}
	}
	return alone, nil
}

// run runs the job's work in tx; a panic is its error, not the group's
// end (the leader answers the others).
func (j *job) run(ctx context.Context, tx *sql.Tx) error {
	return guard(func() error { return j.fn(ctx, tx) })
}

// guard runs fn; a panic in it is its error ("internal error: …").
func guard(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
	}()
	return fn()
}
