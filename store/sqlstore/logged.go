package sqlstore

import (
	"context"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mlrun/mlrun/store"
)

// Params logged again. MLflow accepts a param logged again with the value
// it has (a retried request, a script run again, a resumed run), and
// nothing changes. Such a batch needs no write transaction: when every
// param of a params-only batch is one this store has written (or seen
// written) with that value, LogBatch first reads, in one statement on a
// reader, whether the run is active and holds each of them with that
// value, and if so answers at once. The read decides, not the memory of
// what was written: a param written elsewhere, a run deleted or gone, a
// changed value all go on to the write, which answers as it always has.
// On SQLite this keeps such batches off the one writer.

// loggedBits is log2 of the size of loggedParams' table: 65,536 hashes,
// 512 KiB.
const loggedBits = 16

// loggedParams remembers (run, key, value) hashes of params committed
// with that value, in a table of 1<<loggedBits hashes where each hash has
// two places (from two parts of it) and the last one in a place stays: a
// hash found is a hint that the read is worth making (a collision costs a
// read), a hash pushed out of both places only means the write answers,
// as it would have. With one place, two params of one 10-param batch
// shared it about once in 1,500 fresh stores, and that batch logged again
// went to the writer (a test saw it); with two, both places of one of
// them taken is about once in a million. No lock, no allocation after
// the first.
type loggedParams struct {
	once  sync.Once
	seed  maphash.Seed
	slots []atomic.Uint64
}

func (l *loggedParams) init() {
	l.once.Do(func() {
		l.seed = maphash.MakeSeed()
		l.slots = make([]atomic.Uint64, 1<<loggedBits)
	})
}

// hash is p's hash in run runID, never 0 (an empty place).
func (l *loggedParams) hash(runID string, p store.Param) uint64 {
	var h maphash.Hash
	h.SetSeed(l.seed)
	h.WriteString(runID)
	h.WriteByte(0)
	h.WriteString(p.Key)
	h.WriteByte(0)
	h.WriteString(p.Value)
	return h.Sum64() | 1
}

// places are hash h's two places in the table.
func places(h uint64) (uint64, uint64) {
	return h >> (64 - loggedBits), (h >> (64 - 2*loggedBits)) & (1<<loggedBits - 1)
}

// add records params as committed to run runID.
func (l *loggedParams) add(runID string, params []store.Param) {
	l.init()
	for _, p := range params {
		h := l.hash(runID, p)
		a, b := places(h)
		l.slots[a].Store(h)
		l.slots[b].Store(h)
	}
}

// all reports whether every one of params (at least one) was added for
// run runID and is still remembered.
func (l *loggedParams) all(runID string, params []store.Param) bool {
	l.init()
	if len(params) == 0 {
		return false
	}
	for _, p := range params {
		h := l.hash(runID, p)
		if a, b := places(h); l.slots[a].Load() != h && l.slots[b].Load() != h {
			return false
		}
	}
	return true
}

// loggedAgain reports whether params (of a params-only batch) are all
// logged already, with these values, to active run runID: when this store
// has committed each of them and the read says so. It counts such a batch
// as unchanged.
func (s *Store) loggedAgain(ctx context.Context, runID string, params []store.Param) bool {
	if !s.logged.all(runID, params) || !paramsStored(ctx, s.r, runID, params) {
		return false
	}
	s.unchanged.Add(1)
	return true
}

// paramsStored reports whether run runID is active and holds every one of
// params (distinct keys) with its value: one statement on q (one
// snapshot) answering one row, the run's stage and how many of params it
// holds with their values. Anything else, an error included, is false:
// the write decides.
func paramsStored(ctx context.Context, q querier, runID string, params []store.Param) bool {
	args := make([]any, 0, 3*len(params)+1)
	for _, p := range params {
		args = append(args, p.Key, p.Value)
	}
	for _, p := range params {
		args = append(args, p.Key)
	}
	args = append(args, runID)
	var stage string
	var same int
	err := q.QueryRowContext(ctx, `SELECT r.lifecycle_stage, (SELECT count(CASE WHEN p.value = CASE p."key"`+
		strings.Repeat(" WHEN ? THEN ?", len(params))+` END THEN 1 END)
		FROM params p WHERE p.run_uuid = r.run_uuid AND p."key" IN (`+placeholders(len(params))+`))
		FROM runs r WHERE r.run_uuid = ?`, args...).Scan(&stage, &same)
	return err == nil && stage == store.LifecycleActive && same == len(params)
}
