package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/internal/format"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the UI.
type Options struct {
	Store    store.Store
	Registry registry.Store // nil: no registry pages
	// RunArtifacts returns the repository of a run's artifact URI (the
	// server's artifact resolver).
	RunArtifacts func(artifactURI string) (artifact.Repository, error)
	Logger       *slog.Logger
	// Allowed reports whether the request's user may read an experiment
	// (by id) or a registered model (model, by name); lists show only
	// those. nil allows everything.
	Allowed func(r *http.Request, model bool, id string) bool
	// Prefix is the path the UI is served under (mlflow server
	// --static-prefix, e.g. "/mlflow"; "" for the root). The handler's own
	// routes stay unprefixed (the server strips it); every link, form,
	// redirect and script URL it writes carries it.
	Prefix string
	// FrameOptions is the pages' X-Frame-Options (mlflow server
	// --x-frame-options): "" means DENY, NONE leaves it out so that pages
	// of other sites may embed the UI.
	FrameOptions string
}

// Handler serves the UI.
type Handler struct {
	opts     Options
	mux      *http.ServeMux
	pages    map[string]*template.Template
	patterns []string
}

// New returns the UI handler.
func New(opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Handler{opts: opts, mux: http.NewServeMux(), pages: map[string]*template.Template{}}
	fm := maps.Clone(funcs)
	fm["base"] = func() string { return opts.Prefix }
	for _, p := range []string{"experiments", "runs", "run", "chart", "compare", "models", "model", "error", "traces", "trace", "datasets", "dataset", "scorers", "prompts", "prompt", "loggedmodels", "loggedmodel", "sessions"} {
		h.pages[p] = template.Must(template.New("base.html").Funcs(fm).ParseFS(templateFS, "templates/base.html", "templates/"+p+".html"))
	}
	static, _ := fs.Sub(staticFS, "static")
	h.handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	h.handle("GET /{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, opts.Prefix+"/experiments", http.StatusFound)
	}))
	h.handle("GET /experiments", http.HandlerFunc(h.experiments))
	h.handle("POST /experiments/create", h.post(h.createExperiment))
	h.handle("POST /experiments/{id}/{action}", h.post(h.experimentAction))
	h.handle("GET /experiments/{id}", http.HandlerFunc(h.runs))
	h.handle("POST /experiments/{id}/runs/{action}", h.post(h.runsAction))
	h.handle("GET /runs/{id}", http.HandlerFunc(h.run))
	h.handle("GET /charts", http.HandlerFunc(h.chart))
	h.handle("GET /compare", http.HandlerFunc(h.compare))
	h.handle("GET /models", http.HandlerFunc(h.models))
	h.handle("GET /models/{name}", http.HandlerFunc(h.model))
	h.handle("GET /ui-api/metrics", http.HandlerFunc(h.metricsAPI))
	h.handle("GET /experiments/{id}/traces", http.HandlerFunc(h.traces))
	h.handle("GET /experiments/{id}/sessions", http.HandlerFunc(h.sessions))
	h.handle("GET /traces/{id}", http.HandlerFunc(h.trace))
	h.handle("GET /experiments/{id}/datasets", http.HandlerFunc(h.datasets))
	h.handle("GET /datasets/{dataset_id}", http.HandlerFunc(h.dataset))
	h.handle("GET /experiments/{id}/scorers", http.HandlerFunc(h.scorers))
	h.handle("GET /experiments/{id}/models", http.HandlerFunc(h.experimentModels))
	h.handle("GET /logged-models/{id}", http.HandlerFunc(h.loggedModel))
	h.handle("GET /prompts", http.HandlerFunc(h.prompts))
	h.handle("GET /prompts/{name}", http.HandlerFunc(h.prompt))
	return h
}

func (h *Handler) handle(pattern string, handler http.Handler) {
	h.patterns = append(h.patterns, pattern)
	h.mux.Handle(pattern, handler)
}

// Patterns lists the UI's routes (http.ServeMux patterns).
func (h *Handler) Patterns() []string { return h.patterns }

// Pattern returns the pattern r goes to, "" for none.
func (h *Handler) Pattern(r *http.Request) string {
	_, p := h.mux.Handler(r)
	return p
}

// allowed applies Options.Allowed.
func (h *Handler) allowed(r *http.Request, model bool, id string) bool {
	return h.opts.Allowed == nil || h.opts.Allowed(r, model, id)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch h.opts.FrameOptions {
	case "":
		w.Header().Set("X-Frame-Options", "DENY")
	case "NONE":
	default:
		w.Header().Set("X-Frame-Options", h.opts.FrameOptions)
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'")
	h.mux.ServeHTTP(w, r)
}

const csrfCookie = "mlrun_csrf"

// csrfToken returns the request's CSRF token, setting the cookie when the
// browser has none.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	b := make([]byte, 16)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return tok
}

// post wraps a form handler with the CSRF check: the form's token must
// equal the cookie's.
func (h *Handler) post(fn func(http.ResponseWriter, *http.Request) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		c, err := r.Cookie(csrfCookie)
		if err != nil || r.ParseForm() != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
			h.fail(w, r, http.StatusForbidden, "this form has expired or did not come from this page (CSRF check failed); reload and try again")
			return
		}
		to, err := fn(w, r)
		if err != nil {
			h.fail(w, r, http.StatusBadRequest, err.Error())
			return
		}
		http.Redirect(w, r, h.opts.Prefix+to, http.StatusSeeOther)
	}
}

// page is what every template gets.
type page struct {
	Title    string
	CSRF     string
	Nav      string
	Registry bool
	Data     any
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, name, title string, data any) {
	p := page{Title: title, CSRF: csrfToken(w, r), Nav: name, Registry: h.opts.Registry != nil, Data: data}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := h.pages[name].Execute(w, p); err != nil {
		h.opts.Logger.Error("render", "page", name, "err", err)
	}
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.WriteHeader(status)
	h.render(w, r, "error", "Error", msg)
}

var funcs = template.FuncMap{
	"time": func(ms int64) string {
		if ms == 0 {
			return "-"
		}
		return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05")
	},
	"duration": func(start int64, end *int64) string {
		if end == nil || start == 0 {
			return "-"
		}
		return (time.Duration(*end-start) * time.Millisecond).Round(time.Millisecond).String()
	},
	"num": format.Float,
	"query": func(kv ...string) template.URL {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				v.Set(kv[i], kv[i+1])
			}
		}
		return template.URL(v.Encode())
	},
	"join":          strings.Join,
	"inc":           func(n int) int { return n + 1 },
	"lower":         strings.ToLower,
	"tokens":        tokens,
	"meta":          metadataValue,
	"sessionFilter": sessionFilter,
}

// sessionFilter is the trace filter for a session's traces, or "" for a
// session id the filter grammar cannot quote.
func sessionFilter(session string) string {
	if strings.ContainsAny(session, `'\`) {
		return ""
	}
	return "metadata.`" + metaSession + "` = '" + session + "'"
}

// metaSession is the trace metadata MLflow 3 keeps the application's
// session id in (TraceMetadataKey.TRACE_SESSION; the user's is
// mlflow.trace.user).
const (
	metaSession = "mlflow.trace.session"
	metaUser    = "mlflow.trace.user"
)

// tagNote is the tag holding an experiment's or a run's description
// (MLflow's mlflow.note.content).
const tagNote = "mlflow.note.content"

// metadataValue is the value of key in a trace's metadata (or any tag
// list), or "".
func metadataValue(metadata []store.Tag, key string) string {
	for _, m := range metadata {
		if m.Key == key {
			return m.Value
		}
	}
	return ""
}

// tokens is a trace's token usage from its metadata
// mlflow.trace.tokenUsage: "total (input in, output out)", or "".
func tokens(metadata []store.Tag) string {
	for _, m := range metadata {
		if m.Key != "mlflow.trace.tokenUsage" {
			continue
		}
		var u struct {
			In    int64 `json:"input_tokens"`
			Out   int64 `json:"output_tokens"`
			Total int64 `json:"total_tokens"`
		}
		if json.Unmarshal([]byte(m.Value), &u) != nil {
			return m.Value
		}
		return fmt.Sprintf("%d (%d in, %d out)", u.Total, u.In, u.Out)
	}
	return ""
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprint(err)
}
