package sqlstore

import (
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/search"
)

// SearchQuery returns the SQL a search of the first page runs, for the
// package's external tests.
func (s *Store) SearchQuery(q store.SearchRuns) (string, []any, error) {
	clauses, err := search.Runs.Parse(q.Filter)
	if err != nil {
		return "", nil, err
	}
	order, err := search.Runs.ParseOrderBy(q.OrderBy)
	if err != nil {
		return "", nil, err
	}
	query, args, _, err := s.searchQuery(q, clauses, order, search.Token{}, 1000)
	return query, args, err
}

// HistoryQuery is the query of a metric's history.
const HistoryQuery = historyQuery
