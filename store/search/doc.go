// Package search parses MLflow's search grammar: filter strings
// ("metrics.rmse < 1 and params.alpha = '0.5'"), order_by clauses
// ("metrics.`val loss` DESC") and page tokens, for runs, experiments and
// (later) registry searches. It produces plain clause values that a store
// turns into its own query language; it never touches a database.
//
// The grammar is MLflow's (mlflow/utils/search_utils.py, written down in
// shared/spec/search-filter.md): clauses joined by AND, identifiers
// "entity.key" with backtick or double-quoted keys, comparators = != < <= >
// >= LIKE ILIKE, IN and NOT IN lists of quoted strings. Errors are
// store.ErrInvalidArgument with MLflow's wording where it has one.
package search
