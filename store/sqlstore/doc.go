// Package sqlstore is the tracking and registry store on MLflow's SQL
// schema for any database/sql database: experiments, runs, metrics,
// search, the model registry, logged models, traces, assessments, MLflow
// 3's scorers and evaluation datasets, gc and the file-store import, in SQL that SQLite and PostgreSQL both take
// ('?' placeholders, ON CONFLICT upserts, RETURNING, boolean literals).
//
// What differs between databases is a Dialect: how to list a table's
// columns, defer foreign keys, where NULLs sort, and whether a failed
// write transaction may be retried. store/sqlite and store/postgres open
// their database, create or check its schema, and hand New the pools and
// their Dialect. Each Store call is all or nothing: its own transaction,
// or, with Config.GroupCommit (one group at a time on SQLite's single
// writer, two on PostgreSQL), a savepoint in a transaction shared with
// the writes waiting beside it (group.go); a transaction a Dialect says
// may be retried (a PostgreSQL serialization failure) runs again from
// the start, a group's as each of its writes alone. Span ingest keeps a
// trace's record right with a row lock instead (lockedWrite). A batch of params the
// store has written, logged again with their values, is answered by a
// read instead (logged.go).
package sqlstore
