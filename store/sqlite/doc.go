// Package sqlite is the tracking store on a SQLite file, on MLflow's own
// schema: the 18 tables MLflow 2.17.2 creates, stamped with its alembic
// head f5a4f2784254, so MLflow can open an mlrun database and mlrun can
// open MLflow's (at that revision or a later one it knows).
//
// Concurrency: the database runs in WAL mode with a busy timeout. Writes go
// through one connection with BEGIN IMMEDIATE transactions, so writers in
// this process queue instead of failing with "database is locked", and
// readers use a separate pool that WAL lets run beside the writer. Each
// Store call is one transaction: a log-batch is all or nothing.
//
// See DESIGN.md beside this file for how search paging works.
package sqlite
