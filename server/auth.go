package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/auth"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

// AuthOptions turn on MLflow's basic-auth app (mlrun server --app-name
// basic-auth).
type AuthOptions struct {
	Store             auth.Store
	DefaultPermission auth.Permission
}

// MLflow's exact refusal bodies (text/html, no newline).
const (
	unauthenticatedBody  = "You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate."
	permissionDeniedBody = "Permission denied"
)

type userKey struct{}

// userOf returns the authenticated user of a request (nil without auth).
func userOf(ctx context.Context) *auth.User {
	u, _ := ctx.Value(userKey{}).(*auth.User)
	return u
}

// authCache remembers which credentials matched which stored hash, so a
// client's every request does not pay for PBKDF2 again. An entry counts
// only while the user's stored hash is still the one it matched.
type authCache struct {
	mu sync.Mutex
	m  map[[32]byte]string
}

func (c *authCache) ok(key [32]byte, hash string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key] == hash && hash != ""
}

func (c *authCache) put(key [32]byte, hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[[32]byte]string{}
	}
	c.m[key] = hash
}

// authenticate returns the user whose HTTP Basic credentials r carries,
// or nil.
func (s *Server) authenticate(r *http.Request) *auth.User {
	scheme, val, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Basic") {
		return nil
	}
	username, password, ok := r.BasicAuth()
	if !ok {
		return nil
	}
	u, err := s.opts.Auth.Store.GetUser(r.Context(), username)
	if err != nil {
		return nil
	}
	key := sha256.Sum256([]byte(strings.TrimSpace(val)))
	if s.authCache.ok(key, u.PasswordHash) {
		return u
	}
	if !auth.CheckPassword(u.PasswordHash, password) {
		return nil
	}
	s.authCache.put(key, u.PasswordHash)
	return u
}

// openPath is MLflow's list of paths that skip authentication: a plain
// string prefix, as MLflow compares it.
func openPath(p string) bool {
	return strings.HasPrefix(p, "/static") || strings.HasPrefix(p, "/favicon.ico") || strings.HasPrefix(p, "/health")
}

// serveAuth is the basic-auth app's order of decisions: open path? → 401
// → admin bypass → locator lookup (400/404) → 403 → handler (or the
// route's filter) → after-hooks.
func (s *Server) serveAuth(w http.ResponseWriter, r *http.Request) {
	if openPath(r.URL.Path) {
		s.dispatch(w, r)
		return
	}
	u := s.authenticate(r)
	if u == nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="mlflow"`)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, unauthenticatedBody)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), userKey{}, u))
	key := s.routeKey(r)
	if key == "" { // no route: the handler answers 404 or 405
		s.dispatch(w, r)
		return
	}
	rl, ok := authRules[key]
	if !ok { // a route without a rule is a bug: refuse rather than open it
		s.opts.Logger.Error("route has no permission rule; refused", "route", key)
		forbid(w)
		return
	}
	next := http.HandlerFunc(s.dispatch)
	if !u.IsAdmin {
		if rl.filter != nil {
			rl.filter(s, w, r, u, next)
			return
		}
		allowed, err := s.allowed(r, u, rl)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if !allowed {
			forbid(w)
			return
		}
	}
	if rl.after == nil {
		next(w, r)
		return
	}
	// The request is read before the handler consumes it.
	in, err := requestParams(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	rec := httptest.NewRecorder()
	next(rec, r)
	if rec.Code < 400 {
		if err := rl.after(s, r, u, in, rec); err != nil {
			writeError(w, r, err)
			return
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func forbid(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	io.WriteString(w, permissionDeniedBody)
}

// apiPrefixes are the mounts of the JSON API; rules are keyed below them.
var apiPrefixes = []string{"/api/2.0/mlflow", "/ajax-api/2.0/mlflow", "/api/2.0/preview/mlflow"}

// routeKey names the route r goes to, as its rule is keyed: "METHOD
// /path" below the API prefix, the artifact proxy's patterns, or "UI
// METHOD /pattern" for the web UI. "" means no route.
func (s *Server) routeKey(r *http.Request) string {
	esc := r.URL.EscapedPath()
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	// The proxy is served before the mux; a verb it has no route for
	// gets its 405 (MLflow's app crashes there with a 500).
	switch {
	case esc == artifactsPrefix:
		if method == http.MethodGet {
			return method + " " + artifactsPrefix
		}
		return ""
	case strings.HasPrefix(esc, artifactsPrefix+"/"):
		if method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete {
			return method + " " + artifactsPrefix + "/{path...}"
		}
		return ""
	case strings.HasPrefix(esc, mpuPrefix):
		if method == http.MethodPost {
			return method + " " + mpuPrefix + "{path...}"
		}
		return ""
	}
	_, pattern := s.mux.Handler(r)
	if pattern == "" {
		return ""
	}
	if pattern == "/" {
		if p := s.ui.Pattern(r); p != "" {
			setPathValues(r, p)
			return "UI " + p
		}
		return ""
	}
	setPathValues(r, pattern)
	return normalizePattern(pattern)
}

// setPathValues sets r's path values from the wildcards of the pattern
// it matched ({name}, {name...}), as serving it would; the mux's Handler
// lookup does not.
func setPathValues(r *http.Request, pattern string) {
	_, path, ok := strings.Cut(pattern, " ")
	if !ok {
		path = pattern
	}
	pat := strings.Split(strings.TrimPrefix(path, "/"), "/")
	got := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	for i, seg := range pat {
		if !strings.HasPrefix(seg, "{") || !strings.HasSuffix(seg, "}") || i >= len(got) {
			continue
		}
		name := strings.Trim(seg, "{}")
		if rest, ok := strings.CutSuffix(name, "..."); ok {
			r.SetPathValue(rest, strings.Join(got[i:], "/"))
			return
		}
		if name != "$" {
			r.SetPathValue(name, got[i])
		}
	}
}

// normalizePattern drops the API prefix of a mux pattern.
func normalizePattern(pattern string) string {
	method, path, _ := strings.Cut(pattern, " ")
	for _, p := range apiPrefixes {
		if strings.HasPrefix(path, p+"/") {
			return method + " " + strings.TrimPrefix(path, p)
		}
	}
	return pattern
}

// need is what a rule asks of the caller.
type need int

const (
	needAuthenticated need = iota // any user
	needRead
	needUpdate
	needDelete
	needManage
	needAdmin
	needSelf // the request's username is the caller's
)

// target is what a permission is checked on.
type target struct {
	model bool   // a registered model (by name), else an experiment
	id    string // experiment id or model name; "" means default_permission
}

// locator finds a request's targets: 400 for a missing parameter, 404 for
// an unknown experiment name or run.
type locator func(s *Server, r *http.Request, in map[string]any) ([]target, error)

// filterFunc serves a request of a non-admin with unreadable items left
// out of what next answers.
type filterFunc func(s *Server, w http.ResponseWriter, r *http.Request, u *auth.User, next http.Handler)

// afterFunc runs after a handler answered < 400 (creator MANAGE, moving
// and removing permission rows); its error replaces the answer.
type afterFunc func(s *Server, r *http.Request, u *auth.User, in map[string]any, rec *httptest.ResponseRecorder) error

type rule struct {
	need   need
	loc    locator
	reads  locator                    // more targets, each needing READ (what a write copies from)
	query  bool                       // the handler reads the query string alone, whatever the method (a raw upload)
	dyn    func(r *http.Request) need // overrides need (UI actions)
	filter filterFunc
	after  afterFunc
}

// allowed decides a non-admin's request.
func (s *Server) allowed(r *http.Request, u *auth.User, rl rule) (bool, error) {
	n := rl.need
	if rl.dyn != nil {
		n = rl.dyn(r)
	}
	switch n {
	case needAuthenticated:
		return true, nil
	case needAdmin:
		return false, nil
	}
	in, err := requestParams(r)
	if rl.query {
		in, err = queryParams(r), nil
	}
	if err != nil {
		return false, err
	}
	if n == needSelf {
		name, err := param(in, "username")
		if err != nil {
			return false, err
		}
		return name == u.Username, nil
	}
	targets, err := rl.loc(s, r, in)
	if err != nil {
		return false, err
	}
	for _, t := range targets {
		p := s.permission(u, t)
		ok := map[need]bool{needRead: p.CanRead(), needUpdate: p.CanUpdate(), needDelete: p.CanDelete(), needManage: p.CanManage()}[n]
		if !ok {
			return false, nil
		}
	}
	if rl.reads != nil {
		sources, err := rl.reads(s, r, in)
		if err != nil {
			return false, err
		}
		for _, t := range sources {
			if !s.permission(u, t).CanRead() {
				return false, nil
			}
		}
	}
	return true, nil
}

func (s *Server) permission(u *auth.User, t target) auth.Permission {
	def := s.opts.Auth.DefaultPermission
	switch {
	case t.id == "":
		return def
	case t.model:
		return u.Model(t.id, def)
	}
	return u.Experiment(experimentKey(t.id), def)
}

// experimentKey is an experiment id as the stores read it: SQLite and
// PostgreSQL take "02", " 2", "+2" (and PostgreSQL "0x2", "2_0") for
// the integer they write, so the permission on experiment 2 is what
// applies to them, not the default one.
func experimentKey(id string) string {
	s := strings.TrimSpace(id)
	digits := strings.TrimLeft(s, "+-")
	base := 10
	if len(digits) > 1 && digits[0] == '0' && strings.ContainsRune("xXoObB", rune(digits[1])) {
		base = 0
	} else {
		s = strings.ReplaceAll(s, "_", "")
	}
	n, err := strconv.ParseInt(s, base, 64)
	if err != nil {
		return id
	}
	return strconv.FormatInt(n, 10)
}

// canRead reports whether the request's user (if any) may read a target;
// without auth, or for an admin, everything is readable.
func (s *Server) canRead(ctx context.Context, t target) bool {
	u := userOf(ctx)
	if s.opts.Auth == nil || u == nil || u.IsAdmin {
		return true
	}
	return s.permission(u, t).CanRead()
}

type paramsKey struct{}

// requestParams returns a request's parameters as its handler will read
// them (decode: readsQuery, readsBody, message), so that the permission
// is checked on what the handler acts on: the query's, then the JSON
// body's fields over them, read once and kept in the request, whose body
// is put back for the handler.
func requestParams(r *http.Request) (map[string]any, error) {
	if in, ok := r.Context().Value(paramsKey{}).(map[string]any); ok {
		return in, nil
	}
	in := map[string]any{}
	if readsQuery(r) {
		in = queryParams(r)
	}
	if r.Body != nil && readsBody(r) {
		b, err := io.ReadAll(io.LimitReader(r.Body, DefaultBodyLimit+1))
		if err != nil {
			return nil, invalidParam("could not read the request body: " + err.Error())
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		if msg, err := message(b); err == nil && len(msg) > 0 {
			body, err := uniqueObject(msg)
			if err != nil {
				return nil, err
			}
			for k, v := range body {
				in[k] = v
			}
		}
	}
	*r = *r.WithContext(context.WithValue(r.Context(), paramsKey{}, in))
	return in, nil
}

// queryParams are r's query parameters, a repeated one as a list.
func queryParams(r *http.Request) map[string]any {
	in := map[string]any{}
	for k, v := range r.URL.Query() {
		if len(v) == 1 {
			in[k] = v[0]
		} else {
			in[k] = v
		}
	}
	return in
}

// uniqueObject reads a JSON object as json.Unmarshal does into a map,
// but refuses a key that appears twice in any object: a handler's struct
// keeps the first of two values when the second is null, and merges two
// objects, where a map keeps the last; the permission check and the
// handler would read different values. What is not a JSON object is
// none (the handler says why).
func uniqueObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	v, err := uniqueValue(dec)
	if err != nil {
		if _, ok := err.(*apiError); ok {
			return nil, err
		}
		return nil, nil
	}
	m, _ := v.(map[string]any)
	return m, nil
}

func uniqueValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		m := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string)
			if _, dup := m[k]; dup {
				return nil, invalidParam(fmt.Sprintf("Invalid JSON: the key '%s' appears twice in one object", k))
			}
			if m[k], err = uniqueValue(dec); err != nil {
				return nil, err
			}
		}
		_, err := dec.Token()
		return m, err
	case json.Delim('['):
		l := []any{}
		for dec.More() {
			v, err := uniqueValue(dec)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		_, err := dec.Token()
		return l, err
	}
	return tok, nil
}

// param returns a parameter as a string (numbers as MLflow prints them),
// or the missing-parameter error.
func param(in map[string]any, name string) (string, error) {
	switch v := in[name].(type) {
	case string:
		if v != "" {
			return v, nil
		}
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case []string:
		if len(v) > 0 && v[0] != "" {
			return v[0], nil
		}
	}
	return "", missingParam(name)
}

// strings returns a repeated parameter's values.
func stringsParam(in map[string]any, name string) []string {
	switch v := in[name].(type) {
	case string:
		return strings.Split(v, ",")
	case []string:
		return v
	case []any:
		var out []string
		for _, x := range v {
			switch x := x.(type) {
			case string:
				out = append(out, x)
			case float64:
				out = append(out, strconv.FormatFloat(x, 'f', -1, 64))
			}
		}
		return out
	}
	return nil
}

// Locators.

func byExperimentID(_ *Server, _ *http.Request, in map[string]any) ([]target, error) {
	id, err := param(in, "experiment_id")
	return []target{{id: id}}, err
}

func byExperimentName(s *Server, r *http.Request, in map[string]any) ([]target, error) {
	name, err := param(in, "experiment_name")
	if err != nil {
		return nil, err
	}
	e, err := s.store.GetExperimentByName(r.Context(), name)
	if err != nil {
		return nil, store.NotFoundf("Could not find experiment with name %s", name)
	}
	return []target{{id: e.ID}}, nil
}

func (s *Server) runTarget(ctx context.Context, id string) (target, error) {
	run, err := s.store.GetRun(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return target{}, store.NotFoundf("Run with id=%s not found", id)
		}
		return target{}, err
	}
	return target{id: run.Info.ExperimentID}, nil
}

func byRun(s *Server, r *http.Request, in map[string]any) ([]target, error) {
	id, err := param(in, "run_id")
	if err != nil {
		if id, err = param(in, "run_uuid"); err != nil {
			return nil, missingParam("run_uuid")
		}
	}
	t, err := s.runTarget(r.Context(), id)
	return []target{t}, err
}

func byModel(_ *Server, _ *http.Request, in map[string]any) ([]target, error) {
	name, err := param(in, "name")
	return []target{{model: true, id: name}}, err
}

// loggedModelTarget is the experiment of logged model id.
func (s *Server) loggedModelTarget(ctx context.Context, id string) (target, error) {
	lm, err := s.lm()
	if err != nil {
		return target{}, err
	}
	m, err := lm.GetLoggedModel(ctx, id)
	if err != nil {
		return target{}, err
	}
	return target{id: m.ExperimentID}, nil
}

// byRunAndLoggedModels is the run and every logged model the request
// logs metrics for (a metric's model_id): metrics of my run must not land
// in another's model.
func byRunAndLoggedModels(s *Server, r *http.Request, in map[string]any) ([]target, error) {
	out, err := byRun(s, r, in)
	if err != nil {
		return nil, err
	}
	ids := modelIDs(in["metrics"])
	if id, _ := in["model_id"].(string); id != "" {
		ids = append(ids, id)
	}
	more, err := s.loggedModelTargets(r.Context(), ids)
	return append(out, more...), err
}

// listedModels are the logged models a run's inputs or outputs name
// (models[].model_id), each to be readable: a run lists another's model
// only if its user may see it.
func listedModels(s *Server, r *http.Request, in map[string]any) ([]target, error) {
	return s.loggedModelTargets(r.Context(), modelIDs(in["models"]))
}

// modelIDs are the model_id fields of a list of objects (a batch's
// metrics, a run's inputs or outputs).
func modelIDs(list any) []string {
	var ids []string
	l, _ := list.([]any)
	for _, item := range l {
		m, _ := item.(map[string]any)
		if id, _ := m["model_id"].(string); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// loggedModelTargets are the experiments of the logged models ids names,
// each looked up once.
func (s *Server) loggedModelTargets(ctx context.Context, ids []string) ([]target, error) {
	var out []target
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		t, err := s.loggedModelTarget(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// sourceRun is the run a new logged model names as its source
// (source_run_id), to be readable: the model shows it as its own.
func sourceRun(s *Server, r *http.Request, in map[string]any) ([]target, error) {
	if id, _ := in["source_run_id"].(string); id != "" {
		if t, err := s.runTarget(r.Context(), id); err == nil {
			return []target{t}, nil
		}
	}
	return nil, nil
}

// versionSources are what a new model version is made from, each to be
// readable: its run_id's run, its model_id's logged model, and what its
// source names (runs:/, models:/<model_id>, models:/<name>/…, an
// experiment's mlflow-artifacts:/ folder): the version's get-artifact
// would serve their files. A source that names nothing known grants
// nothing and needs nothing.
func versionSources(s *Server, r *http.Request, in map[string]any) ([]target, error) {
	var out []target
	ctx := r.Context()
	add := func(t target, err error) {
		if err == nil {
			out = append(out, t)
		}
	}
	if id, _ := in["run_id"].(string); id != "" {
		add(s.runTarget(ctx, id))
	}
	if id, _ := in["model_id"].(string); id != "" {
		add(s.loggedModelTarget(ctx, id))
	}
	src, _ := in["source"].(string)
	switch {
	case strings.HasPrefix(src, "runs:/"):
		if id, _, err := registry.ParseRunsURI(src); err == nil {
			add(s.runTarget(ctx, id))
		}
	case registry.LoggedModelID(src) != "":
		add(s.loggedModelTarget(ctx, registry.LoggedModelID(src)))
	case strings.HasPrefix(src, "models:/"):
		if m, err := registry.ParseModelURI(src); err == nil {
			out = append(out, target{model: true, id: m.Name})
		}
	case strings.HasPrefix(src, "mlflow-artifacts:"):
		p := strings.TrimLeft(strings.TrimPrefix(src, "mlflow-artifacts:"), "/")
		if u, err := url.Parse(src); err == nil && u.Host != "" {
			p = strings.TrimLeft(u.Path, "/")
		}
		if exp, _, ok := strings.Cut(p, "/"); ok && exp != "" && strings.Trim(exp, "0123456789") == "" {
			out = append(out, target{id: exp})
		}
	}
	return out, nil
}

func byLoggedModel(s *Server, r *http.Request, _ map[string]any) ([]target, error) {
	lm, err := s.lm()
	if err != nil {
		return nil, err
	}
	m, err := lm.GetLoggedModel(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return []target{{id: m.ExperimentID}}, nil
}

func byTrace(s *Server, r *http.Request, in map[string]any) ([]target, error) {
	ts, err := s.traces()
	if err != nil {
		return nil, err
	}
	request, _ := in["request_id"].(string) // the query's, where the handler reads it
	body, _ := in["trace_id"].(string)
	id := firstNonEmpty(r.PathValue("request_id"), r.PathValue("trace_id"), r.PathValue("id"), request, body)
	t, err := ts.GetTraceInfo(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return []target{{id: t.ExperimentID}}, nil
}

// byArtifactPath takes the experiment from the proxy path's leading
// digits when a '/' follows them (MLflow's rule), the path cleaned as
// the proxy cleans it; otherwise the default permission applies.
func byArtifactPath(_ *Server, r *http.Request, in map[string]any) ([]target, error) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, artifactsPrefix+"/"):
		p = strings.TrimPrefix(p, artifactsPrefix+"/")
	case strings.HasPrefix(p, mpuPrefix):
		p = strings.TrimPrefix(p, mpuPrefix)
		if _, rest, ok := strings.Cut(p, "/"); ok {
			p = rest
		}
	default:
		p, _ = in["path"].(string)
	}
	// As the handler reads it: "./1/x" and "1/./x" are 1/x.
	if c, err := artifact.CleanPath(p); err == nil {
		p = c
	}
	i := 0
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	if i == 0 || i == len(p) || p[i] != '/' {
		return []target{{}}, nil
	}
	return []target{{id: p[:i]}}, nil
}

// byPathValue locates by a UI path value: an experiment id, a run id or a
// model name.
func byPathValue(kind string) locator {
	return func(s *Server, r *http.Request, _ map[string]any) ([]target, error) {
		switch kind {
		case "run": // /runs/{id}
			v := r.PathValue("id")
			t, err := s.runTarget(r.Context(), v)
			return []target{t}, err
		case "name":
			return []target{{model: true, id: r.PathValue("name")}}, nil
		}
		return []target{{id: r.PathValue(kind)}}, nil
	}
}

// byRunList locates every run of a UI query (runs=a,b) or form (run=…).
func byRunList(s *Server, r *http.Request, _ map[string]any) ([]target, error) {
	var ids []string
	if r.Method == http.MethodGet {
		ids = strings.Split(r.URL.Query().Get("runs"), ",")
	} else {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return nil, invalidParam("could not read the form")
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		form, _ := url.ParseQuery(string(b))
		ids = form["run"]
	}
	var out []target
	for _, id := range ids {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		t, err := s.runTarget(r.Context(), id)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}
