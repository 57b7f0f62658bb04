package project_test

import (
	"context"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/project"
)

// gitHTTPServer serves the repositories below root with git's own smart
// HTTP backend (git-http-backend through CGI) on loopback, requiring the
// basic-auth user alice with password s3cret.
func gitHTTPServer(t *testing.T, root string) string {
	t.Helper()
	backend := "/usr/lib/git-core/git-http-backend"
	if _, err := os.Stat(backend); err != nil {
		t.Skip("git-http-backend not found: install git")
	}
	h := &cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "alice" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestGitOverHTTPWithCredentials(t *testing.T) {
	r, _, c2, _ := repoWithHistory(t)
	base := gitHTTPServer(t, filepath.Dir(r.Dir))
	repoPath := "/" + filepath.Base(r.Dir)
	ctx := context.Background()
	withCreds := strings.Replace(base, "http://", "http://alice:s3cret@", 1) + repoPath

	src, err := project.Fetch(ctx, withCreds, project.FetchOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if src.Commit != c2 || strings.Contains(src.URI+src.SourceName+src.RepoURL, "s3cret") {
		t.Fatalf("source %+v", src)
	}
	src.Close()

	_, err = project.Fetch(ctx, base+repoPath, project.FetchOptions{CacheDir: t.TempDir()})
	if err == nil {
		t.Fatal("fetched without credentials")
	}
	_, err = project.Fetch(ctx, strings.Replace(base, "http://", "http://alice:wrong@", 1)+repoPath, project.FetchOptions{CacheDir: t.TempDir()})
	if err == nil || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad password: %v", err)
	}

	t.Setenv("MLRUN_GIT_USERNAME", "alice")
	t.Setenv("MLRUN_GIT_PASSWORD", "s3cret")
	src, err = project.Fetch(ctx, base+repoPath, project.FetchOptions{CacheDir: t.TempDir(), Version: "dev"})
	if err != nil || src.Branch != "dev" {
		t.Fatalf("credentials from the environment: %v", err)
	}
	src.Close()
}
