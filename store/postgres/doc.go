// Package postgres is the tracking and registry store on a PostgreSQL
// database (postgresql://user:pass@host:port/db, as MLflow takes it),
// on MLflow's schema at the same alembic revision as the SQLite store.
// The queries are store/sqlstore's; this package opens the database with
// pgx, creates or checks the schema under an advisory lock, runs every
// transaction SERIALIZABLE (retried when another server's write
// conflicts) but span ingest (READ COMMITTED under its trace's row
// lock: sqlstore's lockedWrite), and lets several servers share one
// database.
//
// See DESIGN.md beside this file for how the schema was derived and why.
package postgres
