package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/artifact/s3"
	"github.com/mlrun/mlrun/auth"
	authpostgres "github.com/mlrun/mlrun/auth/postgres"
	"github.com/mlrun/mlrun/auth/sqlauth"
	authsqlite "github.com/mlrun/mlrun/auth/sqlite"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/registry/webhook"
	"github.com/mlrun/mlrun/runner/launch"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/postgres"
)

func serverCommand() *cli.Command {
	return &cli.Command{
		Name:    "server",
		Aliases: []string{"ui"}, // mlflow ui is mlflow server
		Usage:   "run the tracking server (MLflow's REST API)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "backend-store-uri", EnvVars: []string{"MLFLOW_BACKEND_STORE_URI"}, Value: DefaultTrackingURI, Usage: "where runs are stored: sqlite:///path.db or postgresql://user:pass@host:port/db"},
			&cli.StringFlag{Name: "registry-store-uri", EnvVars: []string{"MLFLOW_REGISTRY_STORE_URI", "MLFLOW_REGISTRY_URI"}, Usage: "model registry store (default: the backend store)"},
			&cli.StringFlag{Name: "default-artifact-root", EnvVars: []string{"MLFLOW_DEFAULT_ARTIFACT_ROOT"}, Usage: "artifact root of new experiments (default: mlflow-artifacts:/ when serving artifacts, else ./mlruns)"},
			&cli.BoolFlag{Name: "serve-artifacts", EnvVars: []string{"MLFLOW_SERVE_ARTIFACTS"}, Value: true, Usage: "serve artifacts through the proxy (/api/2.0/mlflow-artifacts)"},
			&cli.BoolFlag{Name: "no-serve-artifacts", Usage: "do not serve artifacts"},
			&cli.StringFlag{Name: "artifacts-destination", EnvVars: []string{"MLFLOW_ARTIFACTS_DESTINATION"}, Value: "./mlartifacts", Usage: "where proxied artifacts are stored: a local folder or s3://bucket/prefix"},
			&cli.StringSliceFlag{Name: "allowed-artifact-roots", Usage: "more local folders or s3://bucket/prefix locations whose run artifacts the server may read and write (comma-separated or repeated); runs stored elsewhere get 403"},
			&cli.Int64Flag{Name: "max-upload-size", Value: server.DefaultUploadLimit, Usage: "largest artifact upload the proxy takes, in bytes"},
			&cli.BoolFlag{Name: "artifacts-only", EnvVars: []string{"MLFLOW_ARTIFACTS_ONLY"}, Usage: "serve only the artifact proxy (and /health, /version): no tracking, no database opened (but with --app-name, for permissions)"},
			&cli.StringFlag{Name: "expose-prometheus", EnvVars: []string{"MLFLOW_EXPOSE_PROMETHEUS"}, Usage: "serve Prometheus metrics on /metrics (the folder MLflow needs for its workers is taken and not used: one process keeps them in memory)"},
			&cli.StringFlag{Name: "app-name", Usage: "basic-auth: MLflow's basic-auth app (users and permissions; config from MLFLOW_AUTH_CONFIG_PATH)"},
			&cli.StringFlag{Name: "host", Aliases: []string{"h"}, EnvVars: []string{"MLFLOW_HOST"}, Value: "127.0.0.1", Usage: "address to listen on"},
			&cli.StringFlag{Name: "allowed-hosts", EnvVars: []string{"MLFLOW_SERVER_ALLOWED_HOSTS"}, Usage: "comma-separated Host headers served (patterns with * and ?; '*' every one) against DNS rebinding (default: localhost and private addresses)"},
			&cli.StringFlag{Name: "cors-allowed-origins", EnvVars: []string{"MLFLOW_SERVER_CORS_ALLOWED_ORIGINS"}, Usage: "comma-separated origins of web pages (e.g. https://app.example.com, patterns with *; '*' all) that may change data and read answers, besides localhost's and the server's own"},
			&cli.StringFlag{Name: "x-frame-options", EnvVars: []string{"MLFLOW_SERVER_X_FRAME_OPTIONS"}, Usage: "X-Frame-Options of every answer: SAMEORIGIN (default; DENY for the UI's pages), DENY or NONE (pages of other sites may embed the UI)"},
			&cli.BoolFlag{Name: "disable-security-middleware", EnvVars: []string{"MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE"}, Usage: "DANGEROUS: no Host validation, cross-site writes allowed, no security headers"},
			&cli.StringFlag{Name: "static-prefix", EnvVars: []string{"MLFLOW_STATIC_PREFIX"}, Usage: "serve the UI, /ajax-api and the helper routes (/health, /version, /get-artifact) under this path, e.g. /mlflow; /api stays at the root, as in MLflow"},
			// mlflow server's flags that mean nothing for one Go process:
			// taken, and said so in one line.
			&cli.StringFlag{Name: "workers", Aliases: []string{"w"}, EnvVars: []string{"MLFLOW_WORKERS"}, Usage: "ignored (mlflow's worker count; mlrun serves every request concurrently)"},
			&cli.StringFlag{Name: "gunicorn-opts", EnvVars: []string{"MLFLOW_GUNICORN_OPTS"}, Usage: "ignored (mlflow's gunicorn options)"},
			&cli.StringFlag{Name: "uvicorn-opts", EnvVars: []string{"MLFLOW_UVICORN_OPTS"}, Usage: "ignored (mlflow's uvicorn options)"},
			&cli.StringFlag{Name: "waitress-opts", Usage: "ignored (mlflow's waitress options)"},
			&cli.BoolFlag{Name: "dev", Usage: "ignored (mlflow's debug reloader)"},
			&cli.IntFlag{Name: "port", Aliases: []string{"p"}, EnvVars: []string{"MLFLOW_PORT"}, Value: 5000, Usage: "port to listen on"},
		},
		Action: runServer,
	}
}

func runServer(c *cli.Context) error {
	for _, f := range []string{"workers", "gunicorn-opts", "uvicorn-opts", "waitress-opts", "dev"} {
		if c.IsSet(f) {
			fmt.Fprintf(c.App.ErrWriter, "mlrun: --%s is mlflow server's and means nothing here (one Go process serves every request concurrently); ignored\n", f)
		}
	}
	prefix := c.String("static-prefix")
	if prefix != "" && !strings.HasPrefix(prefix, "/") {
		return errors.New("--static-prefix must begin with a '/'.")
	}
	if strings.HasSuffix(prefix, "/") {
		return errors.New("--static-prefix should not end with a '/'.")
	}
	serve := c.Bool("serve-artifacts") && !c.Bool("no-serve-artifacts")
	root := c.String("default-artifact-root")
	if root == "" {
		if serve {
			root = "mlflow-artifacts:/"
		} else {
			root = "./mlruns"
		}
	}
	if strings.HasPrefix(root, "mlflow-artifacts:") && !serve {
		return errors.New("--default-artifact-root mlflow-artifacts:/ needs --serve-artifacts")
	}
	artifactsOnly := c.Bool("artifacts-only")
	if artifactsOnly && !serve {
		return errors.New("--artifacts-only serves the artifact proxy, and --no-serve-artifacts turns it off: give one of them")
	}
	var st store.Store
	if !artifactsOnly || c.String("app-name") != "" { // permissions are by experiment: the store is needed
		var err error
		if st, err = openStore(c.Context, c.String("backend-store-uri"), root); err != nil {
			return err
		}
		defer st.Close()
	}
	opts := server.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)), UploadLimit: c.Int64("max-upload-size"), ArtifactsOnly: artifactsOnly, StaticPrefix: prefix}
	if c.IsSet("expose-prometheus") {
		opts.Metrics = server.NewMetrics()
	}
	if opts.UploadLimit <= 0 {
		return fmt.Errorf("--max-upload-size %d: want a positive number of bytes", opts.UploadLimit)
	}
	if ru := c.String("registry-store-uri"); ru != "" && ru != c.String("backend-store-uri") && !artifactsOnly {
		rs, err := openStore(c.Context, ru, root)
		if err != nil {
			return fmt.Errorf("registry store: %w", err)
		}
		defer rs.Close()
		reg, ok := rs.(registry.Store)
		if !ok {
			return fmt.Errorf("--registry-store-uri %s has no model registry", ru)
		}
		opts.Registry = reg
	}
	if serve {
		dest := c.String("artifacts-destination")
		loc, err := artifact.ParseURI(dest)
		switch {
		case err != nil:
			return fmt.Errorf("--artifacts-destination: %w", err)
		case loc.Kind == artifact.S3:
			// The server proxies: clients need no S3 credentials, it uses
			// its own (MLflow's S3 environment).
			if opts.Artifacts, err = s3.Open(loc.Base, loc.Path); err != nil {
				return fmt.Errorf("--artifacts-destination %s: %w", dest, err)
			}
		case loc.Kind == artifact.Local:
			opts.Artifacts = local.New(loc.Path)
			opts.ArtifactRoots = append(opts.ArtifactRoots, loc.Path)
		default:
			return fmt.Errorf("--artifacts-destination %s: want a local folder or s3://bucket/prefix", dest)
		}
	}
	if loc, err := artifact.ParseURI(root); err == nil && loc.Kind == artifact.Local {
		opts.ArtifactRoots = append(opts.ArtifactRoots, loc.Path)
	} else if err == nil && loc.Kind == artifact.S3 {
		opts.S3Roots = append(opts.S3Roots, root)
	}
	for _, r := range c.StringSlice("allowed-artifact-roots") {
		loc, err := artifact.ParseURI(r)
		switch {
		case err == nil && loc.Kind == artifact.Local:
			opts.ArtifactRoots = append(opts.ArtifactRoots, loc.Path)
		case err == nil && loc.Kind == artifact.S3:
			opts.S3Roots = append(opts.S3Roots, r)
		default:
			return fmt.Errorf("--allowed-artifact-roots %s: want a local folder or s3://bucket/prefix", r)
		}
	}
	switch app := c.String("app-name"); app {
	case "":
	case "basic-auth":
		a, err := openAuth(c.Context, opts.Logger)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		opts.Auth = a
	default:
		return fmt.Errorf("--app-name %s: the only app is basic-auth", app)
	}
	g, err := guard(c)
	if err != nil {
		return err
	}
	opts.Guard = g
	if !artifactsOnly {
		wo, err := webhook.OptionsFromEnv()
		if err != nil {
			return err
		}
		wo.Logger = opts.Logger
		opts.Webhooks = webhook.New(wo)
		defer opts.Webhooks.Close() // after the server: deliveries queued are sent
	}
	addr := net.JoinHostPort(c.String("host"), strconv.Itoa(c.Int("port")))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	reapCtx, stopReaping := context.WithCancel(c.Context)
	reaped := make(chan struct{})
	go func() {
		if st != nil {
			reapEvery(reapCtx, st, opts.Logger, time.Minute)
		}
		close(reaped)
	}()
	err = serveUntilDone(c.Context, ln, server.New(st, opts), opts.Logger)
	stopReaping()
	<-reaped // the store is closed only once the reaper is done with it
	return err
}

// exclusive is a store that can run something in one process at a time
// across every process sharing its database (PostgreSQL).
type exclusive interface {
	TryExclusive(ctx context.Context, name string, fn func() error) (bool, error)
}

// reapEvery ends, at start and then every interval until ctx is done, the
// runs an mlrun on this host left RUNNING when it died (launch.Reap), so
// that a server shows them FAILED without waiting for the next mlrun run.
// Servers on one PostgreSQL database reap one at a time.
func reapEvery(ctx context.Context, st store.Store, log *slog.Logger, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		reap := func() error {
			ended, err := launch.Reap(ctx, st)
			for _, id := range ended {
				log.Info("ended a run left RUNNING by an mlrun that exited", "run_id", id)
			}
			return err
		}
		var err error
		if ex, ok := st.(exclusive); ok {
			// Servers sharing a database take turns.
			_, err = ex.TryExclusive(ctx, "mlrun-reaper", reap)
		} else {
			err = reap()
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("ending runs left RUNNING", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serveUntilDone serves on ln until ctx is cancelled (SIGINT, SIGTERM),
// then shuts down gracefully: no new connections, in-flight requests
// finish (for up to 30 s).
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := server.HTTPServer(h)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("mlrun server listening", "url", "http://"+ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// openAuth sets up MLflow's basic-auth app: its config
// (MLFLOW_AUTH_CONFIG_PATH, else MLflow's packaged defaults), its database
// (created with MLflow's auth schema if new), and the admin user, created
// at first start and left alone after (its password is not reset).
func openAuth(ctx context.Context, log *slog.Logger) (*server.AuthOptions, error) {
	cfg, err := auth.LoadConfig()
	if err != nil {
		return nil, err
	}
	var st *sqlauth.Store
	if path, ok := sqlitePath(cfg.DatabaseURI); ok {
		st, err = authsqlite.Open(ctx, path)
	} else if isPostgres(cfg.DatabaseURI) {
		st, err = authpostgres.Open(ctx, cfg.DatabaseURI)
	} else {
		return nil, fmt.Errorf("auth database_uri %s: want sqlite:///path.db or postgresql://user:pass@host:port/db", postgres.Redact(cfg.DatabaseURI))
	}
	if err != nil {
		return nil, err
	}
	u, err := st.GetUser(ctx, cfg.AdminUsername)
	if errors.Is(err, store.ErrNotFound) {
		u, err = st.CreateUser(ctx, cfg.AdminUsername, cfg.AdminPassword, true)
		if errors.Is(err, store.ErrAlreadyExists) { // another replica was first
			u, err = st.GetUser(ctx, cfg.AdminUsername)
		}
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("admin user %s: %w", cfg.AdminUsername, err)
	}
	if auth.CheckPassword(u.PasswordHash, auth.DefaultAdminPassword) {
		log.Warn("the admin user still has the default password: change it with 'mlrun users update-password'", "username", cfg.AdminUsername)
	}
	log.Info("basic-auth on", "auth_db", postgres.Redact(cfg.DatabaseURI), "default_permission", cfg.DefaultPermission)
	return &server.AuthOptions{Store: st, DefaultPermission: cfg.DefaultPermission}, nil
}

// guard makes MLflow's security middleware of the server's flags, and
// says in one line what it lets through when that may surprise.
func guard(c *cli.Context) (*server.Guard, error) {
	if c.Bool("disable-security-middleware") {
		fmt.Fprintln(c.App.ErrWriter, "mlrun: WARNING: the security middleware is disabled: web pages on other sites can change this server's data through a browser that reaches it")
		return nil, nil
	}
	sec := server.Security{AllowedOrigins: splitList(c.String("cors-allowed-origins"))}
	if c.IsSet("x-frame-options") {
		sec.FrameOptions = c.String("x-frame-options")
	}
	if c.IsSet("allowed-hosts") {
		sec.AllowedHosts = splitList(c.String("allowed-hosts"))
	}
	g, err := server.NewGuard(sec)
	if err != nil {
		return nil, fmt.Errorf("--x-frame-options/--allowed-hosts/--cors-allowed-origins: %w", err)
	}
	host := c.String("host")
	if ip := net.ParseIP(host); sec.AllowedHosts == nil && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintln(c.App.ErrWriter, "mlrun: serving requests addressed to localhost and private addresses only (DNS rebinding protection, as mlflow server's); to reach this server by another name or address, give --allowed-hosts")
	}
	return g, nil
}
