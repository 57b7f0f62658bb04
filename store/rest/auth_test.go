package rest_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/rest"
	"github.com/mlrun/mlrun/store/sqlite"
)

// authServer is a real mlrun server behind a check of the Authorization
// header, as a reverse proxy in front of a tracking server would do.
func authServer(t *testing.T, check func(*http.Request) bool) string {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(st, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !check(r) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); st.Close() })
	return srv.URL
}

func TestCredentialsFromEnvironment(t *testing.T) {
	ctx := context.Background()
	t.Run("token", func(t *testing.T) {
		url := authServer(t, func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer s3cret" })
		t.Setenv("MLFLOW_TRACKING_TOKEN", "s3cret")
		s, err := rest.Open(url, rest.OptionsFromEnv())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetExperiment(ctx, "0"); err != nil {
			t.Fatalf("with token: %v", err)
		}
		t.Setenv("MLFLOW_TRACKING_TOKEN", "wrong")
		s, _ = rest.Open(url, rest.OptionsFromEnv())
		if _, err := s.GetExperiment(ctx, "0"); err == nil {
			t.Fatal("a wrong token was accepted")
		}
	})
	t.Run("basic", func(t *testing.T) {
		url := authServer(t, func(r *http.Request) bool {
			u, p, ok := r.BasicAuth()
			return ok && u == "alice" && p == "pw"
		})
		t.Setenv("MLFLOW_TRACKING_USERNAME", "alice")
		t.Setenv("MLFLOW_TRACKING_PASSWORD", "pw")
		s, err := rest.Open(url, rest.OptionsFromEnv())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetExperiment(ctx, "0"); err != nil {
			t.Fatalf("with basic auth: %v", err)
		}
		_, err = s.GetRun(ctx, "0123456789abcdef0123456789abcdef")
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("remote not-found: %v", err)
		}
	})
}

func TestBadURI(t *testing.T) {
	for _, u := range []string{"ftp://x", "http://", "not a uri"} {
		if _, err := rest.Open(u, rest.Options{}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

func TestInsecureTLS(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(server.New(st, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(func() { srv.Close(); st.Close() })
	ctx := context.Background()
	s, _ := rest.Open(srv.URL, rest.OptionsFromEnv())
	if _, err := s.GetExperiment(ctx, "0"); err == nil {
		t.Fatal("a self-signed certificate was accepted without MLFLOW_TRACKING_INSECURE_TLS")
	}
	t.Setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
	s, _ = rest.Open(srv.URL, rest.OptionsFromEnv())
	if _, err := s.GetExperiment(ctx, "0"); err != nil {
		t.Fatalf("with MLFLOW_TRACKING_INSECURE_TLS=true: %v", err)
	}
}
