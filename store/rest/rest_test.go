package rest_test

import (
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/rest"
	"github.com/mlrun/mlrun/store/storetest"
)

// open serves a fresh SQLite store through an in-process mlrun server and
// returns the REST client of it.
func open(t *testing.T) store.Store {
	t.Helper()
	s, err := rest.Open(testutil.StartServer(t, true).URL, rest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open)
}
