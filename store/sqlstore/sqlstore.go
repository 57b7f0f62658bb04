package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mlrun/mlrun/store"
)

// Queryer runs queries: a *sql.DB, *sql.Conn or *sql.Tx.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Dialect is what differs between the databases the store runs on. The
// SQL itself is shared: '?' placeholders, ON CONFLICT upserts, RETURNING,
// boolean literals, row values; a dialect's driver takes it as it is.
type Dialect interface {
	// Columns lists a table's columns in order, none when it is missing.
	Columns(ctx context.Context, q Queryer, table string) ([]string, error)
	// TablesWithColumn lists the tables that have a column, by name.
	TablesWithColumn(ctx context.Context, tx *sql.Tx, col string) ([]string, error)
	// DeferForeignKeys makes tx check foreign keys only at commit.
	DeferForeignKeys(ctx context.Context, tx *sql.Tx) error
	// Retry reports whether a write transaction that failed with err may
	// be run again from the start (a serialization failure).
	Retry(err error) bool
	// Committed is called after each write transaction commits.
	Committed()
	// NullsLow reports whether NULL sorts below every value (SQLite) or
	// above (PostgreSQL).
	NullsLow() bool
	// RowOrder is an ORDER BY expression giving a table's rows in the
	// order they were written (SQLite's rowid, PostgreSQL's ctid).
	RowOrder() string
	// AfterCopy runs at the end of Copy's transaction into this database
	// (PostgreSQL moves the experiments sequence past the copied ids).
	AfterCopy(ctx context.Context, tx *sql.Tx) error
	// InIDs renders a test that a text column is one of ids (strings):
	// what follows the column, and its arguments. A list on SQLite
	// (" IN (?, …)"); PostgreSQL takes one array its planner does not
	// look into.
	InIDs(ids []any) (string, []any)
	// BeginWrite is called before each write transaction begins.
	BeginWrite(ctx context.Context) error
	// Regexp renders a test that col matches a regular expression (one
	// argument; unanchored, as MLflow's RLIKE).
	Regexp(col string) string
	// JSONAttr renders the text of attributes.<key> in a column holding a
	// span dict (one argument: the key), NULL when absent.
	JSONAttr(col string) string
	// ForUpdate is the clause that ends a SELECT to lock the rows it
	// reads until the transaction ends (PostgreSQL's FOR UPDATE; nothing
	// on SQLite, whose one writer holds the whole database).
	ForUpdate() string
}

// InList is InIDs as a list: " IN (?, …)" and the ids.
func InList(ids []any) (string, []any) {
	return " IN (" + placeholders(len(ids)) + ")", ids
}

// Config is what New needs.
type Config struct {
	// W runs write transactions, R reads; they may be the same pool.
	W, R *sql.DB
	// ArtifactRoot is the root of new experiments' artifact locations
	// (NormalizeRoot's result).
	ArtifactRoot string
	// Revision is the database's alembic revision.
	Revision string
	Dialect  Dialect
	// GroupCommit is how many group commits may run at once; 0 runs each
	// write transaction alone. Write transactions that wait while the
	// group commits are running are run together in the next one (see
	// group): a commit, a round trip and a statement cost per
	// transaction, not per row. 1 for a database with one writer
	// (SQLite); more where writers run in parallel (PostgreSQL).
	GroupCommit int
	// WriterThread has the group commits taken and run by one goroutine
	// on an OS thread of its own (see writer), where GroupCommit is 1;
	// Close stops it.
	WriterThread bool
	// StreamChunk is how many runs' data StreamSearchRuns loads at a
	// time; 0 loads a page's at once. Each load is a few queries: worth
	// splitting where a query costs no round trip (SQLite in process).
	StreamChunk int
}

// Store is the tracking and registry store on MLflow's SQL schema.
type Store struct {
	w, r         *sql.DB
	d            Dialect
	artifactRoot string
	revision     string // the database's alembic revision
	// loggedModels: the database has MLflow 3's logged_models tables (it
	// is at revision 400f98739977 or later); mlrun then serves logged
	// models from them.
	loggedModels bool
	// tracesV3: trace_info has MLflow 3's columns (client_request_id,
	// request_preview, response_preview).
	tracesV3 bool
	// assessments: the database has MLflow 3's assessments table;
	// associations its entity_associations table.
	assessments, associations bool
	// spans: the database has MLflow 3's spans table.
	spans bool
	// webhooks: the database has MLflow 3's webhooks tables (revision
	// 1a0cddfcaa16 on).
	webhooks bool
	// scorers: the database has MLflow 3's scorers tables (revision
	// 534353b11cbc on); scorerTimes: scorer_versions has creation_time.
	scorers, scorerTimes bool
	// evalDatasets: the database has MLflow 3's evaluation dataset tables
	// (revision 71994744cf8e on); recordOutputs: their records have the
	// outputs column (3da73c924c2f on).
	evalDatasets, recordOutputs bool
	// group, when not nil, runs write transactions (GroupCommit).
	group *group
	// streamChunk is Config.StreamChunk.
	streamChunk int
	// logged is the params this store has committed (see logged.go).
	logged loggedParams
	// writes, commits, merged, pending and unchanged count for
	// WriteStats; txTime, commitTime, queueTime and resumeTime sum
	// durations (ns).
	writes, commits, merged, pending, unchanged atomic.Int64
	txTime, commitTime, queueTime, resumeTime   atomic.Int64
}

// WriteStats counts a store's write transactions since it was opened.
type WriteStats struct {
	// Writes is how many write calls went to a write transaction,
	// Commits how many transactions committed them (fewer when writes
	// were grouped); Merged is how many writes were committed merged with
	// others (see merge); Pending is how many write calls are in
	// progress now. Unchanged is how many write calls a read answered
	// instead, as there was nothing to write (params logged again with
	// their values: logged.go); they are not among Writes.
	Writes, Commits, Merged, Pending, Unchanged int64
	// TxTime is the time spent in write transactions, from BEGIN to the
	// end of COMMIT (or the rollback), summed over them: where one
	// transaction runs at a time (SQLite's one writer), its rate is the
	// share of the time the writer is busy, and near 1 writes queue.
	// CommitTime is the part spent in COMMIT: on SQLite writing the
	// changed pages to the WAL and syncing it, on PostgreSQL a round trip
	// and its WAL flush.
	TxTime, CommitTime time.Duration
	// QueueTime is the time group-committed writes waited in the queue
	// for a group to take them, summed over them: how long writes wait
	// for the writer. ResumeTime is, for the writes another goroutine
	// committed and answered (SQLite's writer thread answers every
	// write; a leader, the others of its group), the time from their
	// group's commit to the caller running again: the wait for a CPU
	// of a request whose answer is ready.
	QueueTime, ResumeTime time.Duration
}

// WriteStats returns the store's write counts and times.
func (s *Store) WriteStats() WriteStats {
	return WriteStats{Writes: s.writes.Load(), Commits: s.commits.Load(), Merged: s.merged.Load(), Pending: s.pending.Load(),
		Unchanged: s.unchanged.Load(), TxTime: time.Duration(s.txTime.Load()), CommitTime: time.Duration(s.commitTime.Load()),
		QueueTime: time.Duration(s.queueTime.Load()), ResumeTime: time.Duration(s.resumeTime.Load())}
}

// since adds the time since start to d (one of the summed times).
func since(d *atomic.Int64, start time.Time) { d.Add(int64(time.Since(start))) }

var _ store.Store = (*Store)(nil)

// New returns the store of an open database whose schema is in place,
// noting which of MLflow 3's tables and columns it has.
func New(ctx context.Context, cfg Config) (*Store, error) {
	s := &Store{w: cfg.W, r: cfg.R, d: cfg.Dialect, artifactRoot: cfg.ArtifactRoot, revision: cfg.Revision, streamChunk: cfg.StreamChunk}
	if cfg.GroupCommit > 0 {
		s.group = &group{s: s, maxLeaders: cfg.GroupCommit}
		if cfg.WriterThread && cfg.GroupCommit == 1 {
			s.group.writer = newWriter(s.group)
		}
	}
	has := func(table string) ([]string, error) { return s.d.Columns(ctx, s.r, table) }
	n := 0
	for _, t := range []string{"logged_models", "logged_model_params", "logged_model_tags"} {
		cols, err := has(t)
		if err != nil {
			return nil, err
		}
		if len(cols) > 0 {
			n++
		}
	}
	s.loggedModels = n == 3
	cols, err := has("trace_info")
	if err != nil {
		return nil, err
	}
	s.tracesV3 = slices.Contains(cols, "client_request_id")
	if cols, err = has("assessments"); err != nil {
		return nil, err
	}
	s.assessments = len(cols) > 0
	if cols, err = has("entity_associations"); err != nil {
		return nil, err
	}
	s.associations = len(cols) > 0
	if cols, err = has("spans"); err != nil {
		return nil, err
	}
	s.spans = len(cols) > 0
	if cols, err = has("webhook_events"); err != nil {
		return nil, err
	}
	s.webhooks = len(cols) > 0
	if cols, err = has("scorer_versions"); err != nil {
		return nil, err
	}
	s.scorers, s.scorerTimes = len(cols) > 0, slices.Contains(cols, "creation_time")
	if cols, err = has("evaluation_dataset_records"); err != nil {
		return nil, err
	}
	s.evalDatasets, s.recordOutputs = len(cols) > 0, slices.Contains(cols, "outputs")
	return s, nil
}

// Revision returns the database's alembic revision.
func (s *Store) Revision() string { return s.revision }

// ArtifactRoot returns the root of new experiments' artifact locations.
func (s *Store) ArtifactRoot() string { return s.artifactRoot }

// Close stops the writer (Config.WriterThread); the databases are their
// opener's to close, after.
func (s *Store) Close() error {
	if s.group != nil && s.group.writer != nil {
		s.group.writer.close()
	}
	return nil
}

// NormalizeRoot returns an artifact root as new experiments get it: a
// URI as it is (a file:// one without trailing slashes), a local path
// made absolute; "" is ./mlruns.
func NormalizeRoot(root string) (string, error) {
	if root == "" {
		root = "mlruns"
	}
	if strings.Contains(root, "://") || strings.HasSuffix(strings.SplitN(root, "/", 2)[0], ":") {
		if strings.HasPrefix(root, "file://") {
			return strings.TrimRight(root, "/"), nil
		}
		return root, nil
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("artifact root %s: %w", root, err)
	}
	return abs, nil
}

// EnsureDefaultExperiment creates the Default experiment (id 0) in tx
// when it is missing, with its artifact location below root.
func EnsureDefaultExperiment(ctx context.Context, tx *sql.Tx, root string) error {
	var has int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM experiments WHERE experiment_id = 0`).Scan(&has); err != nil {
		return err
	}
	if has > 0 {
		return nil
	}
	now := nowMillis()
	_, err := tx.ExecContext(ctx, `INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (0, 'Default', ?, 'active', ?, ?)`,
		joinURI(root, "0"), now, now)
	if err != nil {
		return fmt.Errorf("create the Default experiment: %w", err)
	}
	return nil
}

// maxRetries bounds how often a write transaction is run again after a
// serialization failure; with the backoff below that is about 10 s of
// contention on one row (dozens of clients creating versions of one model
// at once) before the error reaches the client.
const maxRetries = 100

// txFunc is the work of a write transaction. It gets the context to run
// its statements with: the caller's, without its cancellation when the
// transaction is shared (a group's), since cancelling a statement of a
// SQLite transaction can roll the whole transaction back.
type txFunc func(ctx context.Context, tx *sql.Tx) error

// tx runs fn in a write transaction of its own, or in a group commit's
// (under a savepoint of its own: all or nothing all the same). fn must do
// nothing outside the transaction, since it may run again: alone, after
// its group's transaction failed as a whole, or when the dialect says
// its failure may be retried (another transaction's conflicting write).
// Retries back off exponentially, with jitter so that contenders spread
// out, up to 100 ms apart. tx returns once fn's work is committed.
func (s *Store) tx(ctx context.Context, fn txFunc) error {
	return s.txOp(ctx, nil, fn)
}

// txOp is tx for a write that a group commit may merge with others of
// its kind (op: a *createOp or *batchOp; see merge), or a largeWrite;
// fn is the write alone, as for tx.
func (s *Store) txOp(ctx context.Context, op any, fn txFunc) error {
	s.writes.Add(1)
	s.pending.Add(1)
	defer s.pending.Add(-1)
	if s.group != nil {
		return s.group.do(ctx, op, fn)
	}
	return s.alone(ctx, fn)
}

// alone runs fn in a transaction of its own, again while the dialect says
// its failure may be retried.
func (s *Store) alone(ctx context.Context, fn txFunc) error {
	return s.aloneAt(ctx, nil, fn)
}

// aloneAt is alone in transactions begun with opts (nil: the database's
// default isolation).
func (s *Store) aloneAt(ctx context.Context, opts *sql.TxOptions, fn txFunc) error {
	for attempt := 0; ; attempt++ {
		err := s.tryTx(ctx, opts, fn)
		if err == nil || attempt == maxRetries || !s.d.Retry(err) || ctx.Err() != nil {
			return err
		}
		wait := min(time.Millisecond<<min(attempt, 7), 100*time.Millisecond)
		select {
		case <-time.After(wait/2 + rand.N(wait)):
		case <-ctx.Done():
			return err
		}
	}
}

// tryTx runs fn in a transaction of its own and commits it. A panic in fn
// is its error ("internal error: …"), after the transaction is rolled
// back: no connection is left inside it, holding its locks.
func (s *Store) tryTx(ctx context.Context, opts *sql.TxOptions, fn txFunc) error {
	defer since(&s.txTime, time.Now())
	if err := s.d.BeginWrite(ctx); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx, err := s.w.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := guard(func() error { return fn(ctx, tx) }); err != nil {
		tx.Rollback()
		return err
	}
	commit := time.Now()
	err = tx.Commit()
	since(&s.commitTime, commit)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.commits.Add(1)
	s.d.Committed()
	return nil
}

func nowMillis() int64 { return time.Now().UnixMilli() }

// joinURI joins a URI or path and a relative part with one '/'.
func joinURI(base, rel string) string {
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(rel, "/")
}
