// Package store holds mlrun's tracking domain: experiments, runs, params,
// metrics, tags and dataset inputs, the Store interface every tracking
// backend implements, the error kinds they return, and MLflow's validation
// rules and limits (validate.go), kept in one table so every backend checks
// the same things.
//
// Implementations live in child packages named after what they wrap:
// store/sqlite (MLflow's own SQL schema on SQLite) and store/rest (a client
// of any MLflow-compatible tracking server). store/storetest is the
// conformance suite they all pass; store/search parses MLflow's filter and
// order_by grammar. The switch from a tracking URI to an implementation is
// in cmd/mlrun.
//
// Stores know nothing of HTTP or MLflow error codes: they return plain
// errors whose kind is one of ErrNotFound, ErrAlreadyExists,
// ErrInvalidArgument or ErrInvalidState (match with errors.Is). The server
// maps kinds to MLflow's error_code in one place (server/errors.go).
package store
