package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/mlrun/mlrun/auth"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
)

// BenchmarkAuthenticatedRequest: runs/get over HTTP on an open server and
// as a READ user of a basic-auth server (credentials checked, user and
// rows loaded, permission decided on every request; the password hash is
// verified once, then remembered while the stored hash is unchanged).
func BenchmarkAuthenticatedRequest(b *testing.B) {
	as := newAuthServer(b, auth.Read)
	f := as.fixture(b, 1, false)
	open := testutil.StartServer(b, false)
	r, err := open.Store.CreateRun(context.Background(), store.CreateRun{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, url, user, run string
	}{{"open", open.URL, "", r.Info.RunID}, {"basic-auth", as.url, "read", f.run}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				req, _ := http.NewRequest("GET", c.url+"/api/2.0/mlflow/runs/get?run_id="+c.run, nil)
				if c.user != "" {
					req.SetBasicAuth(c.user, password(c.user))
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("%v %v", err, resp)
				}
				resp.Body.Close()
			}
		})
	}
}
