package sqlstore

import (
	"context"
	"database/sql"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/search"
)

// SearchQuery returns the SQL queries (with their arguments, the LIMIT
// included) a search of the first page runs, for the package's external
// tests.
func (s *Store) SearchQuery(q store.SearchRuns) ([]string, [][]any, error) {
	clauses, err := search.Runs.Parse(q.Filter)
	if err != nil {
		return nil, nil, err
	}
	order, err := search.Runs.ParseOrderBy(q.OrderBy)
	if err != nil {
		return nil, nil, err
	}
	parts, _, err := s.searchQuery(q, clauses, order, search.Token{}, 1000)
	var queries []string
	var args [][]any
	for _, p := range parts {
		queries = append(queries, p.query)
		args = append(args, append(p.args, 1001))
	}
	return queries, args, err
}

// HistoryQuery is the query of a metric's history.
const HistoryQuery = historyQuery

// SetMergeHook makes every merge of a group's writes call f first; nil
// takes it away.
func SetMergeHook(f func()) { testHookMerge = f }

// SetCommitHook makes every group commit call f just before its
// transaction commits; nil takes it away.
func SetCommitHook(f func()) { testHookCommit = f }

// Write runs fn as one write transaction of the store, in its next group
// commit when it has them.
func (s *Store) Write(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	return s.txOp(ctx, nil, fn)
}

// Queued is how many writes wait in the store's group commit queue.
func (s *Store) Queued() int {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.queue)
}
