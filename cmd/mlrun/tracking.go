package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/artifact/proxied"
	"github.com/mlrun/mlrun/artifact/s3"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/postgres"
	"github.com/mlrun/mlrun/store/rest"
	"github.com/mlrun/mlrun/store/sqlite"
)

// DefaultTrackingURI is used without a flag or MLFLOW_TRACKING_URI
// (MLflow's own default since 3.7).
const DefaultTrackingURI = "sqlite:///mlflow.db"

// sqlitePath returns the file of a sqlite:// URI: sqlite:///rel.db is
// relative, sqlite:////abs.db absolute.
func sqlitePath(uri string) (string, bool) {
	if !strings.HasPrefix(uri, "sqlite://") {
		return "", false
	}
	p := strings.TrimPrefix(uri, "sqlite://")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	p = strings.TrimPrefix(p, "/")
	return p, p != ""
}

// openStore turns a tracking URI into a store. artifactRoot is the root of
// new experiments' artifacts for a local store ("" means ./mlruns).
func openStore(ctx context.Context, uri, artifactRoot string) (store.Store, error) {
	if uri == "" {
		uri = DefaultTrackingURI
	}
	if p, ok := sqlitePath(uri); ok {
		return sqlite.Open(ctx, p, sqlite.Options{ArtifactRoot: artifactRoot})
	}
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("tracking URI %q does not parse: %w", uri, err)
	}
	switch u.Scheme {
	case "http", "https":
		return rest.Open(uri, rest.OptionsFromEnv())
	case "postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg", "postgresql+pg8000":
		return postgres.Open(ctx, uri, postgres.Options{ArtifactRoot: artifactRoot})
	case "mysql", "mssql":
		return nil, fmt.Errorf("tracking URI scheme %q is not supported: use sqlite:///mlflow.db, postgresql://… or an http:// server", u.Scheme)
	case "", "file":
		return nil, fmt.Errorf("file-store tracking URIs (%s) are not supported: copy the store into SQLite with 'mlrun db import-filestore %s' and use sqlite:///mlflow.db", uri, strings.TrimPrefix(uri, "file://"))
	}
	return nil, fmt.Errorf("unknown tracking URI scheme %q: use sqlite:///path.db, postgresql://user:pass@host:port/db or http(s)://host:port", u.Scheme)
}

// openExistingStore is openStore for the commands that must not create
// a database (all but mlrun server, mlrun run and mlrun db init): a
// sqlite:/// path that does not exist is an error, as MLflow's "unable to
// open database file", not a new empty database hiding a typo.
func openExistingStore(ctx context.Context, uri string) (store.Store, error) {
	if uri == "" {
		uri = DefaultTrackingURI
	}
	if p, ok := sqlitePath(uri); ok {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("unable to open database file %s (tracking URI %s): it does not exist; 'mlrun db init', 'mlrun server' and 'mlrun run' create one", p, uri)
		}
	}
	return openStore(ctx, uri, "")
}

// artifactRepo returns the repository of a run's artifacts for its
// artifact URI, through artifact's one resolver: a local folder (any: the
// CLI works on its user's own files), or the artifact proxy of the
// tracking server (mlflow-artifacts:/ and a server's proxy URLs).
func artifactRepo(st store.Store, artifactURI string) (artifact.Repository, error) {
	r := &artifact.Resolver{
		Open:  true,
		Local: func(dir string) artifact.Repository { return local.New(dir) },
		S3:    s3.Open,
		Remote: func(base, prefix string) (artifact.Repository, error) {
			c, err := rest.New(base, rest.OptionsFromEnv())
			if err != nil {
				return nil, err
			}
			return proxied.New(c, prefix), nil
		},
	}
	if rs, ok := st.(proxied.Doer); ok {
		r.Proxy = func(prefix string) (artifact.Repository, error) { return proxied.New(rs, prefix), nil }
	} else {
		r.Proxy = func(string) (artifact.Repository, error) {
			return nil, fmt.Errorf("artifact URI %s needs a tracking server: set --tracking-uri http://host:port", artifactURI)
		}
	}
	return r.Resolve(artifactURI)
}

// isHTTP reports whether uri names a tracking server (http:// or https://).
func isHTTP(uri string) bool {
	return strings.HasPrefix(uri, "http://") || strings.HasPrefix(uri, "https://")
}

// isPostgres reports whether uri names a PostgreSQL database, as MLflow
// (SQLAlchemy) writes it: postgresql://, postgres://, postgresql+driver://.
func isPostgres(uri string) bool {
	scheme, _, ok := strings.Cut(uri, "://")
	scheme, _, _ = strings.Cut(scheme, "+")
	return ok && (scheme == "postgresql" || scheme == "postgres")
}
