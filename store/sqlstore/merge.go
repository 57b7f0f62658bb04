package sqlstore

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/mlrun/mlrun/store"
)

// Merged writes. Of a group commit's writes, the plain inserts of run
// data, CreateRun and LogBatch (without a logged model's metrics), run
// as one set of statements for all of them: their checks in one query
// (the experiments, the runs), then one multi-row insert per table and
// one latest_metrics upsert per (run, key), under one savepoint. This is
// the "multi-row inserts across the transaction": a few
// statements a group instead of five or six a write.
//
// Each write keeps its own outcome. A write its check refuses (an
// unknown or deleted experiment or run) is left out and runs alone after
// (where it gets its error, from the same checks). When a merged
// statement fails, or a param was there already (the same value is
// fine, another one an error: only the write alone can tell), the merged
// writes are rolled back to the savepoint and each runs alone. The
// writes of a group were all in flight at once, so running the merged
// ones first is an order they could have had.

// createOp is a CreateRun that a group may merge: run (its id, name,
// user, start time and tags set) and the tags to write; the merge fills
// in the experiment and artifact URI as the write alone would.
type createOp struct {
	run   *store.Run
	expID string
	tags  []store.Tag
}

// batchOp is a LogBatch, its input validated and normalized, that a
// group may merge: one of at most mergeRows rows.
type batchOp struct {
	runID  string
	params []store.Param
	pts    []point
	tags   []store.Tag
}

// largeWrite is a write of more than mergeRows rows: its time goes to its
// rows, not to its commit, so it gains little from a group commit. Where
// writers run in parallel (GroupCommit > 1) it runs alone, beside the
// groups, so that large batches still use every core the database has;
// with one writer it joins a group (it would wait for the commits anyway).
type largeWrite struct{}

// lockedWrite is a write that keeps its object's record consistent with
// a row lock it takes first (a SELECT ending in the dialect's ForUpdate),
// not through serializable isolation. Where writers run in parallel
// (PostgreSQL) it runs alone at READ COMMITTED, so that writes of other
// objects never fail it: serializable isolation's predicate locks cover
// index pages, and span writes of different traces, each reading its
// trace's spans and inserting one, failed each other and ran again one
// by one (log-span, 20 clients: 1.2-1.5 writes a group commit, against
// 5-6 for other writes). With one writer it joins a group.
type lockedWrite struct{}

// mergeRows is the most rows (metrics, params and tags) a LogBatch may
// have to be merged. Merging saves statements, and a batch of many rows
// spends its time on the rows: log-batch-500 was 12 % slower merged
// (four alternating runs of ServerLoad/sqlite/log-batch-500).
const mergeRows = 100

// testHookMerge, set by tests, is called by every merge of two writes or
// more before it touches the database.
var testHookMerge func()

// merge runs batch's mergeable writes as one, in tx, and returns the
// writes left to run alone. An error is the transaction's.
func (s *Store) merge(ctx context.Context, tx *sql.Tx, batch []*job) ([]*job, error) {
	var merged, left []*job
	for _, j := range batch {
		if j.op != nil {
			merged = append(merged, j)
		} else {
			left = append(left, j)
		}
	}
	if len(merged) < 2 {
		return batch, nil
	}
	if testHookMerge != nil {
		testHookMerge()
	}
	merged, refused, err := s.checkMerged(ctx, tx, merged)
	if err != nil && s.d.Retry(err) {
		return nil, err // the transaction is doomed
	}
	if err != nil || len(merged) < 2 {
		return batch, nil // each alone says what it is
	}
	left = append(left, refused...)
	if _, err := tx.ExecContext(ctx, `SAVEPOINT mlrun_merged`); err != nil {
		return nil, err
	}
	if ok, err := writeMerged(ctx, tx, merged); !ok || err != nil {
		if err != nil && s.d.Retry(err) {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO mlrun_merged`); err != nil {
			return nil, err
		}
		left = batch
	}
	if _, err := tx.ExecContext(ctx, `RELEASE mlrun_merged`); err != nil {
		return nil, err
	}
	return left, nil
}

// checkMerged reads the experiments of the merged creates and the runs of
// the merged batches in one query each, fills in the creates' runs, and
// splits off the writes whose check fails.
func (s *Store) checkMerged(ctx context.Context, tx *sql.Tx, merged []*job) (ok, refused []*job, err error) {
	type exp struct{ loc, stage string }
	exps := map[int64]*exp{}
	runs := map[string]string{} // run id → lifecycle stage
	var expArgs, runArgs []any
	for _, j := range merged {
		switch op := j.op.(type) {
		case *createOp:
			if n, err := parseExperimentID(op.expID); err == nil && exps[n] == nil {
				exps[n] = &exp{}
				expArgs = append(expArgs, n)
			}
		case *batchOp:
			if _, seen := runs[op.runID]; !seen {
				runs[op.runID] = ""
				runArgs = append(runArgs, op.runID)
			}
		}
	}
	if len(expArgs) > 0 {
		rows, err := tx.QueryContext(ctx, `SELECT experiment_id, artifact_location, lifecycle_stage FROM experiments WHERE experiment_id IN (`+placeholders(len(expArgs))+`)`, expArgs...)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var n int64
			var loc, stage sql.NullString
			if err := rows.Scan(&n, &loc, &stage); err != nil {
				rows.Close()
				return nil, nil, err
			}
			exps[n].loc, exps[n].stage = loc.String, stage.String
			if !stage.Valid {
				exps[n].stage = store.LifecycleActive
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	if len(runArgs) > 0 {
		in, inArgs := s.d.InIDs(runArgs)
		rows, err := tx.QueryContext(ctx, `SELECT run_uuid, lifecycle_stage FROM runs WHERE run_uuid`+in, inArgs...)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var id, stage string
			if err := rows.Scan(&id, &stage); err != nil {
				rows.Close()
				return nil, nil, err
			}
			runs[id] = stage
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	for _, j := range merged {
		switch op := j.op.(type) {
		case *createOp:
			n, err := parseExperimentID(op.expID)
			if err != nil || exps[n].stage != store.LifecycleActive {
				refused = append(refused, j)
				continue
			}
			op.run.Info.ExperimentID = strconv.FormatInt(n, 10)
			op.run.Info.ArtifactURI = joinURI(exps[n].loc, op.run.Info.RunID+"/artifacts")
		case *batchOp:
			if runs[op.runID] != store.LifecycleActive {
				refused = append(refused, j)
				continue
			}
		}
		ok = append(ok, j)
	}
	return ok, refused, nil
}

// writeMerged writes the merged writes' rows, a multi-row statement per
// table; false when a param was there already with another value.
func writeMerged(ctx context.Context, tx *sql.Tx, merged []*job) (bool, error) {
	var (
		runArgs, paramArgs []any
		pts                []runPoint
		newTags, tags      tagSet
	)
	for _, j := range merged {
		switch op := j.op.(type) {
		case *createOp:
			ri := op.run.Info
			expN, _ := strconv.ParseInt(ri.ExperimentID, 10, 64)
			runArgs = append(runArgs, ri.RunID, ri.RunName, ri.UserID, ri.StartTime, ri.ArtifactURI, expN)
			newTags.add(ri.RunID, op.tags)
		case *batchOp:
			for _, p := range op.params {
				paramArgs = append(paramArgs, p.Key, p.Value, op.runID)
			}
			for _, p := range op.pts {
				pts = append(pts, runPoint{op.runID, p})
			}
			tags.add(op.runID, op.tags)
		}
	}
	if len(runArgs) > 0 {
		if _, err := insertRows(ctx, tx, insertRun, runValues, "", 6, runArgs); err != nil {
			return false, err
		}
		if err := newTags.write(ctx, tx, false); err != nil {
			return false, err
		}
	}
	if len(paramArgs) > 0 {
		allNew, err := insertParams(ctx, tx, paramArgs)
		if err != nil {
			return false, err
		}
		if !allNew {
			// Some were there: fine if each has the value given (logged
			// again, as a retried request does), else each write runs
			// alone and the one changing a value is refused.
			have, err := storedParams(ctx, tx, paramArgs)
			if err != nil {
				return false, err
			}
			for i := 0; i < len(paramArgs); i += 3 {
				if have[[2]string{paramArgs[i+2].(string), paramArgs[i].(string)}] != paramArgs[i+1].(string) {
					return false, nil
				}
			}
		}
	}
	if err := insertMetrics(ctx, tx, pts); err != nil {
		return false, err
	}
	if err := tags.write(ctx, tx, true); err != nil {
		return false, err
	}
	return true, nil
}
