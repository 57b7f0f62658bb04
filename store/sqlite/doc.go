// Package sqlite is the tracking and registry store on a SQLite file, on
// MLflow's own schema: new databases get MLflow 3.6's (alembic head
// bf29a5ff90ea), and databases MLflow wrote open from 2.17.2's revision
// f5a4f2784254 on (Upgrade brings them to the head).
//
// The queries are the shared SQL store's (store/sqlstore); this package
// adds what is SQLite's: creating and upgrading the schema, the WAL, its
// checkpoints and online backups. Concurrency: the database runs in WAL
// mode with a busy timeout. Writes go through one connection with BEGIN
// IMMEDIATE transactions, so writers in this process queue instead of
// failing with "database is locked", and readers use a separate pool that
// WAL lets run beside the writer. Writes that wait meanwhile are committed
// together (group commit), each under a savepoint of its own: each Store
// call is all or nothing, and is answered once its commit is on disk.
//
// See DESIGN.md beside this file for why it is shaped like this.
package sqlite
