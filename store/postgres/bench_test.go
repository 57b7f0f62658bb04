package postgres_test

import (
	"database/sql"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/storetest"
)

// BenchmarkSearchRunsBySize is the experiment-size curve on PostgreSQL
// (storetest.SearchRunsBySize): a page of 1,000 runs with all their data
// from experiments of 1,000, 10,000 and 100,000 runs, each in a new
// database of a real server, analyzed once written (as autovacuum would
// have by then).
//
//	go test -run '^$' -bench SearchRunsBySize -benchtime 5x ./store/postgres/
func BenchmarkSearchRunsBySize(b *testing.B) {
	storetest.SearchRunsBySize(b, func(b *testing.B) (store.Store, *sql.DB) {
		return testutil.PostgresStore(b)
	}, "ANALYZE")
}
