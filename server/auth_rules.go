package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/auth"
	"github.com/mlrun/mlrun/store"
)

// authRules gives every route the server registers the permission it
// needs (MLflow's basic-auth app, mlflow/server/auth/__init__.py), keyed
// as routeKey names routes. Where MLflow leaves a route unchecked, the
// rule of its neighbours applies: READ to see, EDIT to write, MANAGE to
// delete or grant. A registered route missing here is refused (and fails
// TestAuthRulesCoverEveryRoute).
var authRules = map[string]rule{
	// Experiments.
	"POST /experiments/create":                {need: needAuthenticated, after: grantExperimentCreator},
	"GET /experiments/get":                    {need: needRead, loc: byExperimentID},
	"GET /experiments/get-by-name":            {need: needRead, loc: byExperimentName},
	"POST /experiments/search":                {filter: searchFilter("experiments", 1000, experimentItem)},
	"GET /experiments/search":                 {filter: searchFilter("experiments", 1000, experimentItem)},
	"GET /experiments/list":                   {filter: searchFilter("experiments", 1000, experimentItem)},
	"POST /experiments/update":                {need: needUpdate, loc: byExperimentID},
	"POST /experiments/delete":                {need: needDelete, loc: byExperimentID},
	"POST /experiments/restore":               {need: needDelete, loc: byExperimentID},
	"POST /experiments/set-experiment-tag":    {need: needUpdate, loc: byExperimentID},
	"POST /experiments/delete-experiment-tag": {need: needUpdate, loc: byExperimentID},
	"POST /experiments/search-datasets":       {filter: narrowExperiments("experiment_ids")},

	// Runs, metrics and run artifacts inherit from the experiment.
	"POST /runs/create":                      {need: needUpdate, loc: byExperimentID},
	"POST /runs/update":                      {need: needUpdate, loc: byRun},
	"POST /runs/delete":                      {need: needDelete, loc: byRun},
	"POST /runs/restore":                     {need: needDelete, loc: byRun},
	"GET /runs/get":                          {need: needRead, loc: byRun},
	"POST /runs/search":                      {filter: narrowExperiments("experiment_ids")},
	"GET /runs/search":                       {filter: narrowExperiments("experiment_ids")},
	"POST /runs/log-metric":                  {need: needUpdate, loc: byRunAndLoggedModels},
	"POST /runs/log-parameter":               {need: needUpdate, loc: byRun},
	"POST /runs/set-tag":                     {need: needUpdate, loc: byRun},
	"POST /runs/delete-tag":                  {need: needUpdate, loc: byRun},
	"POST /runs/log-batch":                   {need: needUpdate, loc: byRunAndLoggedModels},
	"POST /runs/log-model":                   {need: needUpdate, loc: byRun},
	"POST /runs/log-inputs":                  {need: needUpdate, loc: byRun, reads: listedModels},
	"POST /runs/outputs":                     {need: needUpdate, loc: byRun, reads: listedModels},
	"GET /metrics/get-history":               {need: needRead, loc: byRun},
	"GET /metrics/get-history-bulk":          {filter: readableRuns("run_id")},
	"GET /metrics/get-history-bulk-interval": {filter: readableRuns("run_ids")},
	"GET /artifacts/list":                    {need: needRead, loc: byRun},
	"GET /get-artifact":                      {need: needRead, loc: byRun},
	"POST /upload-artifact":                  {need: needUpdate, loc: byRun, query: true},
	"GET /model-versions/get-artifact":       {need: needRead, loc: byModel},

	// MLflow 3 logged models inherit from their experiment.
	"POST /logged-models":                           {need: needUpdate, loc: byExperimentID, reads: sourceRun},
	"POST /logged-models/search":                    {filter: narrowExperiments("experiment_ids")},
	"GET /logged-models/{id}":                       {need: needRead, loc: byLoggedModel},
	"PATCH /logged-models/{id}":                     {need: needUpdate, loc: byLoggedModel},
	"DELETE /logged-models/{id}":                    {need: needDelete, loc: byLoggedModel},
	"PATCH /logged-models/{id}/tags":                {need: needUpdate, loc: byLoggedModel},
	"DELETE /logged-models/{id}/tags/{key}":         {need: needUpdate, loc: byLoggedModel},
	"POST /logged-models/{id}/params":               {need: needUpdate, loc: byLoggedModel},
	"GET /logged-models/{id}/artifacts/directories": {need: needRead, loc: byLoggedModel},
	"GET /logged-models/{id}/artifacts/files":       {need: needRead, loc: byLoggedModel},

	// Traces inherit from their experiment.
	"POST /traces":                     {need: needUpdate, loc: byExperimentID},
	"PATCH /traces/{request_id}":       {need: needUpdate, loc: byTrace},
	"GET /traces/{request_id}/info":    {need: needRead, loc: byTrace},
	"GET /traces":                      {filter: narrowExperiments("experiment_ids")},
	"POST /traces/delete-traces":       {need: needDelete, loc: byExperimentID},
	"POST /traces/link-to-run":         {need: needUpdate, loc: byRunAndTraces},
	"POST /traces/link-prompts":        {need: needUpdate, loc: byTrace},
	"POST /v1/traces":                  {need: needUpdate, loc: byOTLPExperiment},
	"PATCH /traces/{request_id}/tags":  {need: needUpdate, loc: byTrace},
	"DELETE /traces/{request_id}/tags": {need: needUpdate, loc: byTrace},

	// Scorers inherit from their experiment.
	"POST /scorers/register": {need: needUpdate, loc: byExperimentID},
	"GET /scorers/list":      {need: needRead, loc: byExperimentID},
	"GET /scorers/versions":  {need: needRead, loc: byExperimentID},
	"GET /scorers/get":       {need: needRead, loc: byExperimentID},
	"DELETE /scorers/delete": {need: needDelete, loc: byExperimentID},

	// The registry; versions, tags and aliases inherit from the model.
	"POST /registered-models/create":              {need: needAuthenticated, after: grantModelCreator},
	"GET /registered-models/get":                  {need: needRead, loc: byModel},
	"POST /registered-models/rename":              {need: needUpdate, loc: byModel, after: moveModelPermissions},
	"PATCH /registered-models/update":             {need: needUpdate, loc: byModel},
	"DELETE /registered-models/delete":            {need: needDelete, loc: byModel, after: dropModelPermissions},
	"GET /registered-models/search":               {filter: searchFilter("registered_models", 100, modelItem)},
	"POST /registered-models/get-latest-versions": {need: needRead, loc: byModel},
	"GET /registered-models/get-latest-versions":  {need: needRead, loc: byModel},
	"POST /registered-models/set-tag":             {need: needUpdate, loc: byModel},
	"DELETE /registered-models/delete-tag":        {need: needUpdate, loc: byModel},
	"POST /registered-models/alias":               {need: needUpdate, loc: byModel},
	"DELETE /registered-models/alias":             {need: needDelete, loc: byModel},
	"GET /registered-models/alias":                {need: needRead, loc: byModel},
	"POST /model-versions/create":                 {need: needUpdate, loc: byModel, reads: versionSources},
	"GET /model-versions/get":                     {need: needRead, loc: byModel},
	"PATCH /model-versions/update":                {need: needUpdate, loc: byModel},
	"DELETE /model-versions/delete":               {need: needDelete, loc: byModel},
	"GET /model-versions/search":                  {filter: searchFilter("model_versions", 10000, modelItem)},
	"POST /model-versions/transition-stage":       {need: needUpdate, loc: byModel},
	"GET /model-versions/get-download-uri":        {need: needRead, loc: byModel},
	"POST /model-versions/set-tag":                {need: needUpdate, loc: byModel},
	"DELETE /model-versions/delete-tag":           {need: needDelete, loc: byModel},

	// Webhooks carry every model's events to any URL: administrators only.
	"POST /webhooks":                   {need: needAdmin},
	"GET /webhooks":                    {need: needAdmin},
	"GET /webhooks/{webhook_id}":       {need: needAdmin},
	"PATCH /webhooks/{webhook_id}":     {need: needAdmin},
	"DELETE /webhooks/{webhook_id}":    {need: needAdmin},
	"POST /webhooks/{webhook_id}/test": {need: needAdmin},

	// Users and permissions (only under /api/2.0/mlflow).
	"POST /users/create":                           {need: needAdmin},
	"GET /users/get":                               {need: needSelf},
	"PATCH /users/update-password":                 {need: needSelf},
	"PATCH /users/update-admin":                    {need: needAdmin},
	"DELETE /users/delete":                         {need: needAdmin},
	"GET /signup":                                  {need: needAdmin},
	"POST /experiments/permissions/create":         {need: needManage, loc: byExperimentID},
	"GET /experiments/permissions/get":             {need: needManage, loc: byExperimentID},
	"PATCH /experiments/permissions/update":        {need: needManage, loc: byExperimentID},
	"DELETE /experiments/permissions/delete":       {need: needManage, loc: byExperimentID},
	"POST /registered-models/permissions/create":   {need: needManage, loc: byModel},
	"GET /registered-models/permissions/get":       {need: needManage, loc: byModel},
	"PATCH /registered-models/permissions/update":  {need: needManage, loc: byModel},
	"DELETE /registered-models/permissions/delete": {need: needManage, loc: byModel},

	// Open to every authenticated user.
	"GET /version": {need: needAuthenticated},
	"GET /metrics": {need: needAuthenticated},

	// The artifact proxy: the experiment is the path's leading digits.
	"GET " + artifactsPrefix:                   {need: needRead, loc: byArtifactPath},
	"GET " + artifactsPrefix + "/{path...}":    {need: needRead, loc: byArtifactPath},
	"PUT " + artifactsPrefix + "/{path...}":    {need: needUpdate, loc: byArtifactPath},
	"DELETE " + artifactsPrefix + "/{path...}": {need: needManage, loc: byArtifactPath},
	"POST " + mpuPrefix + "{path...}":          {need: needUpdate, loc: byArtifactPath},

	// The web UI: lists show only what the user may read (ui.Options.Allowed).
	"UI GET /static/":                         {need: needAuthenticated},
	"UI GET /{$}":                             {need: needAuthenticated},
	"UI GET /experiments":                     {need: needAuthenticated},
	"UI POST /experiments/create":             {need: needAuthenticated, after: grantExperimentCreator},
	"UI POST /experiments/{id}/{action}":      {loc: byPathValue("id"), dyn: uiExperimentAction},
	"UI GET /experiments/{id}":                {need: needRead, loc: byPathValue("id")},
	"UI POST /experiments/{id}/runs/{action}": {need: needDelete, loc: byRunList},
	"UI GET /runs/{id}":                       {need: needRead, loc: byPathValue("run")},
	"UI GET /charts":                          {need: needRead, loc: byRunList},
	"UI GET /compare":                         {need: needRead, loc: byRunList},
	"UI GET /ui-api/metrics":                  {need: needRead, loc: byRunList},
	"UI GET /models":                          {need: needAuthenticated},
	"UI GET /experiments/{id}/traces":         {need: needRead, loc: byPathValue("id")},
	"UI GET /experiments/{id}/sessions":       {need: needRead, loc: byPathValue("id")},
	"UI GET /traces/{id}":                     {need: needRead, loc: byTrace},
	"GET /get-trace-artifact":                 {need: needRead, loc: byTrace},
	"UI GET /models/{name}":                   {need: needRead, loc: byPathValue("name")},
	"UI GET /experiments/{id}/datasets":       {need: needRead, loc: byPathValue("id")},
	"UI GET /experiments/{id}/scorers":        {need: needRead, loc: byPathValue("id")},
	"UI GET /experiments/{id}/models":         {need: needRead, loc: byPathValue("id")},
	"UI GET /logged-models/{id}":              {need: needRead, loc: byLoggedModel},
	"UI GET /datasets/{dataset_id}":           {need: needRead, loc: byDataset},
	"UI GET /prompts":                         {need: needAuthenticated},
	"UI GET /prompts/{name}":                  {need: needRead, loc: byPathValue("name")},
}

func init() {
	// MLflow 3's trace API, under both mounts (keys keep the full path:
	// its StartTrace differs from v2's).
	for _, p := range []string{"/api/3.0/mlflow", "/ajax-api/3.0/mlflow"} {
		authRules["POST "+p+"/traces"] = rule{need: needUpdate, loc: byTraceV3Body}
		authRules["GET "+p+"/traces/{trace_id}"] = rule{need: needRead, loc: byTrace}
		authRules["GET "+p+"/traces/get"] = rule{need: needRead, loc: byTrace}
		authRules["GET "+p+"/traces/batchGet"] = rule{need: needRead, loc: byTraceIDs}
		authRules["POST "+p+"/traces/calculate-filter-correlation"] = rule{filter: narrowExperiments("experiment_ids")}
		authRules["PATCH "+p+"/traces/{trace_id}/tags"] = rule{need: needUpdate, loc: byTrace}
		authRules["DELETE "+p+"/traces/{trace_id}/tags"] = rule{need: needUpdate, loc: byTrace}
		authRules["POST "+p+"/traces/search"] = rule{filter: narrowLocations}
		authRules["POST "+p+"/traces/delete-traces"] = rule{need: needDelete, loc: byExperimentID}
		authRules["POST "+p+"/traces/{trace_id}/assessments"] = rule{need: needUpdate, loc: byTrace}
		authRules["GET "+p+"/traces/{trace_id}/assessments/{assessment_id}"] = rule{need: needRead, loc: byTrace}
		authRules["PATCH "+p+"/traces/{trace_id}/assessments/{assessment_id}"] = rule{need: needUpdate, loc: byTrace}
		authRules["DELETE "+p+"/traces/{trace_id}/assessments/{assessment_id}"] = rule{need: needDelete, loc: byTrace}
		// Scorers inherit from their experiment.
		authRules["POST "+p+"/scorers/register"] = rule{need: needUpdate, loc: byExperimentID}
		authRules["GET "+p+"/scorers/list"] = rule{need: needRead, loc: byExperimentID}
		authRules["GET "+p+"/scorers/versions"] = rule{need: needRead, loc: byExperimentID}
		authRules["GET "+p+"/scorers/get"] = rule{need: needRead, loc: byExperimentID}
		authRules["DELETE "+p+"/scorers/delete"] = rule{need: needDelete, loc: byExperimentID}
		// Evaluation datasets inherit from every experiment they are
		// linked to (the default permission when none): READ on each to
		// see one, EDIT on each to change it or its records, MANAGE on
		// each to delete it; linking needs EDIT on the experiments too.
		d := p + "/datasets/{dataset_id}"
		authRules["POST "+p+"/datasets/create"] = rule{need: needUpdate, loc: byExperimentIDs}
		authRules["POST "+p+"/datasets/search"] = rule{filter: searchFilterBy("datasets", 1000, readableDataset)}
		authRules["GET "+p+"/datasets/search"] = rule{filter: searchFilterBy("datasets", 1000, readableDataset)}
		authRules["GET "+d] = rule{need: needRead, loc: byDataset}
		authRules["DELETE "+d] = rule{need: needDelete, loc: byDataset}
		authRules["PATCH "+d+"/tags"] = rule{need: needUpdate, loc: byDataset}
		authRules["DELETE "+d+"/tags/{key}"] = rule{need: needUpdate, loc: byDataset}
		authRules["POST "+d+"/records"] = rule{need: needUpdate, loc: byDataset}
		authRules["GET "+d+"/records"] = rule{need: needRead, loc: byDataset}
		authRules["DELETE "+d+"/records"] = rule{need: needUpdate, loc: byDataset}
		authRules["GET "+d+"/experiment-ids"] = rule{need: needRead, loc: byDataset}
		authRules["POST "+d+"/add-experiments"] = rule{need: needUpdate, loc: byDatasetAndExperiments}
		authRules["POST "+d+"/remove-experiments"] = rule{need: needUpdate, loc: byDatasetAndExperiments}
	}
}

// byOTLPExperiment locates the experiment an OTLP export names in its
// header.
func byOTLPExperiment(_ *Server, r *http.Request, _ map[string]any) ([]target, error) {
	id := r.Header.Get(OTLPExperimentHeader)
	if id == "" {
		return nil, invalidParam("Missing required header: " + OTLPExperimentHeader)
	}
	return []target{{id: id}}, nil
}

// byExperimentIDs locates every experiment of a request's experiment_ids
// (none: the request is not about any, and passes).
func byExperimentIDs(_ *Server, _ *http.Request, in map[string]any) ([]target, error) {
	var out []target
	for _, id := range stringsParam(in, "experiment_ids") {
		out = append(out, target{id: id})
	}
	return out, nil
}

// datasetTargets are the experiments a dataset is linked to, or the
// default permission's target when it is linked to none.
func (s *Server) datasetTargets(r *http.Request, id string) ([]target, error) {
	ds, ok := s.raw.(store.EvaluationDatasets)
	if !ok {
		return nil, &apiError{codeNotImplemented, "this tracking store does not keep evaluation datasets"}
	}
	ids, err := ds.DatasetExperimentIDs(r.Context(), id)
	if err != nil {
		return nil, err
	}
	out := []target{{}}
	if len(ids) > 0 {
		out = out[:0]
	}
	for _, e := range ids {
		out = append(out, target{id: e})
	}
	return out, nil
}

// byDataset locates the dataset of the path (or, for MLflow's client's
// placeholder path, of the body).
func byDataset(s *Server, r *http.Request, in map[string]any) ([]target, error) {
	id := r.PathValue("dataset_id")
	if body, _ := in["dataset_id"].(string); body != "" && (id == "" || strings.HasPrefix(id, "{")) {
		id = body
	}
	return s.datasetTargets(r, id)
}

// byRunAndTraces is the run and every trace the request links to it: a
// link writes on both (as newer MLflow's validate_can_link_traces_to_run
// checks; a check of the run alone let EDIT on any run tie another's
// traces to it).
func byRunAndTraces(s *Server, r *http.Request, in map[string]any) ([]target, error) {
	out, err := byRun(s, r, in)
	if err != nil {
		return nil, err
	}
	ts, err := s.traces()
	if err != nil {
		return nil, err
	}
	for _, id := range stringsParam(in, "trace_ids") {
		t, err := ts.GetTraceInfo(r.Context(), id)
		if err != nil {
			return nil, err
		}
		out = append(out, target{id: t.ExperimentID})
	}
	return out, nil
}

// byDatasetAndExperiments is byDataset and the experiments the request
// links the dataset to or unlinks it from.
func byDatasetAndExperiments(s *Server, r *http.Request, in map[string]any) ([]target, error) {
	out, err := byDataset(s, r, in)
	if err != nil {
		return nil, err
	}
	more, _ := byExperimentIDs(s, r, in)
	return append(out, more...), nil
}

// readableDataset: a user sees a dataset in a search when they may read
// every experiment it is linked to.
func readableDataset(s *Server, r *http.Request, u *auth.User, m map[string]any) bool {
	id, _ := m["dataset_id"].(string)
	targets, err := s.datasetTargets(r, id)
	if err != nil {
		return false
	}
	for _, t := range targets {
		if !s.permission(u, t).CanRead() {
			return false
		}
	}
	return true
}

// byTraceV3Body locates StartTraceV3's experiment in its body.
func byTraceV3Body(_ *Server, _ *http.Request, in map[string]any) ([]target, error) {
	trace, _ := in["trace"].(map[string]any)
	info, _ := trace["trace_info"].(map[string]any)
	loc, _ := info["trace_location"].(map[string]any)
	exp, _ := loc["mlflow_experiment"].(map[string]any)
	id, err := param(exp, "experiment_id")
	if err != nil {
		return nil, missingParam("trace.trace_info.trace_location.mlflow_experiment.experiment_id")
	}
	return []target{{id: id}}, nil
}

// byTraceIDs is every experiment of the known traces trace_ids names
// (BatchGetTraces): the user must be able to read them all.
func byTraceIDs(s *Server, r *http.Request, in map[string]any) ([]target, error) {
	ts, err := s.traces()
	if err != nil {
		return nil, err
	}
	var ids []string
	switch v := in["trace_ids"].(type) {
	case string:
		ids = []string{v}
	case []string:
		ids = v
	}
	var out []target
	for _, id := range ids[:min(len(ids), maxBatchTraces)] {
		t, err := ts.GetTraceInfo(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, target{id: t.ExperimentID})
	}
	return out, nil
}

// narrowLocations drops the experiments the user may not read from
// SearchTracesV3's locations; with none left the answer is {}.
func narrowLocations(s *Server, w http.ResponseWriter, r *http.Request, u *auth.User, next http.Handler) {
	in, err := requestParams(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	locs, _ := in["locations"].([]any)
	if len(locs) == 0 {
		next.ServeHTTP(w, r)
		return
	}
	var keep []any
	for _, l := range locs {
		m, _ := l.(map[string]any)
		exp, _ := m["mlflow_experiment"].(map[string]any)
		if id, err := param(exp, "experiment_id"); err == nil && s.permission(u, target{id: id}).CanRead() {
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		writeJSON(w, http.StatusOK, empty{})
		return
	}
	next.ServeHTTP(w, withParams(r, in, map[string]any{"locations": keep}))
}

// uiExperimentAction: renaming needs EDIT, deleting and restoring MANAGE.
func uiExperimentAction(r *http.Request) need {
	if r.PathValue("action") == "rename" {
		return needUpdate
	}
	return needDelete
}

// After-hooks.

func grantExperimentCreator(s *Server, r *http.Request, u *auth.User, _ map[string]any, rec *httptest.ResponseRecorder) error {
	var out struct {
		ID string `json:"experiment_id"`
	}
	id := ""
	if json.Unmarshal(rec.Body.Bytes(), &out) == nil && out.ID != "" {
		id = out.ID
	} else if loc := rec.Header().Get("Location"); strings.HasPrefix(loc, "/experiments/") { // the UI's redirect
		id = strings.TrimPrefix(loc, "/experiments/")
	}
	if id == "" {
		return nil
	}
	return s.opts.Auth.Store.SetExperimentPermission(r.Context(), id, u.Username, auth.Manage)
}

func grantModelCreator(s *Server, r *http.Request, u *auth.User, in map[string]any, _ *httptest.ResponseRecorder) error {
	name, err := param(in, "name")
	if err != nil {
		return nil
	}
	return s.opts.Auth.Store.SetModelPermission(r.Context(), name, u.Username, auth.Manage)
}

func moveModelPermissions(s *Server, r *http.Request, _ *auth.User, in map[string]any, _ *httptest.ResponseRecorder) error {
	old, err1 := param(in, "name")
	nu, err2 := param(in, "new_name")
	if err1 != nil || err2 != nil {
		return nil
	}
	return s.opts.Auth.Store.RenameModelPermissions(r.Context(), old, nu)
}

func dropModelPermissions(s *Server, r *http.Request, _ *auth.User, in map[string]any, _ *httptest.ResponseRecorder) error {
	name, err := param(in, "name")
	if err != nil {
		return nil
	}
	return s.opts.Auth.Store.DeleteModelPermissions(r.Context(), name)
}

// Filters.

func experimentItem(item map[string]any) target {
	id, _ := item["experiment_id"].(string)
	return target{id: id}
}

func modelItem(item map[string]any) target {
	name, _ := item["name"].(string)
	return target{model: true, id: name}
}

// withParams returns a copy of r with parameters changed where its
// handler reads them: in the query of a GET that has one, in the JSON
// body otherwise.
func withParams(r *http.Request, in map[string]any, set map[string]any) *http.Request {
	r2 := r.Clone(r.Context())
	if r.Method == http.MethodGet && !readsBody(r) {
		q := r.URL.Query()
		for k, v := range set {
			switch v := v.(type) {
			case []string:
				q[k] = v
			case nil:
				q.Del(k)
			default:
				q.Set(k, toString(v))
			}
		}
		r2.URL.RawQuery = q.Encode()
		return r2
	}
	body := map[string]any{}
	for k, v := range in {
		body[k] = v
	}
	for k, v := range set {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	b, _ := json.Marshal(body)
	r2.Body = io.NopCloser(bytes.NewReader(b))
	r2.ContentLength = int64(len(b))
	r2.Header.Set("Content-Type", "application/json")
	return r2
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// copyResponse writes a recorded answer.
func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// searchFilter leaves unreadable items out of a search, refilling the
// page from the following ones: it asks the handler for at most the
// number still wanted from the current token, keeps the readable items,
// and goes on from the next token until the page is full or the results
// end. So a page never holds an unreadable item, never skips a readable
// one, and holds at most max_results; its token continues right after the
// last item looked at.
func searchFilter(listKey string, def int, item func(map[string]any) target) filterFunc {
	return searchFilterBy(listKey, def, func(s *Server, _ *http.Request, u *auth.User, m map[string]any) bool {
		return s.permission(u, item(m)).CanRead()
	})
}

// searchFilterBy is searchFilter with its own test of an item: readable
// says whether the user may see it.
func searchFilterBy(listKey string, def int, readable func(s *Server, r *http.Request, u *auth.User, m map[string]any) bool) filterFunc {
	return func(s *Server, w http.ResponseWriter, r *http.Request, u *auth.User, next http.Handler) {
		in, err := requestParams(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		max := def
		if v, ok := in["max_results"]; ok {
			n, err := strconv.Atoi(toString(v))
			if err != nil || n <= 0 {
				next.ServeHTTP(w, r) // the handler names the problem
				return
			}
			max = n
		}
		token, _ := in["page_token"].(string)
		var kept []json.RawMessage
		for round := 0; len(kept) < max; round++ {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, withParams(r, in, map[string]any{"max_results": max - len(kept), "page_token": token}))
			if rec.Code >= 400 || round > 10000 {
				copyResponse(w, rec)
				return
			}
			var page map[string]json.RawMessage
			var items []json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
				copyResponse(w, rec)
				return
			}
			json.Unmarshal(page[listKey], &items)
			for _, raw := range items {
				var m map[string]any
				if json.Unmarshal(raw, &m) == nil && readable(s, r, u, m) {
					kept = append(kept, raw)
				}
			}
			token = ""
			json.Unmarshal(page["next_page_token"], &token)
			if token == "" || len(items) == 0 {
				token = ""
				break
			}
		}
		out := map[string]any{}
		if len(kept) > 0 {
			out[listKey] = kept
		}
		if token != "" {
			out["next_page_token"] = token
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// narrowExperiments drops the experiments the user may not read from a
// request's experiment id list; with none left the answer is {}.
func narrowExperiments(key string) filterFunc {
	return func(s *Server, w http.ResponseWriter, r *http.Request, u *auth.User, next http.Handler) {
		in, err := requestParams(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		ids := stringsParam(in, key)
		if len(ids) == 0 {
			next.ServeHTTP(w, r) // the handler names the missing parameter
			return
		}
		var keep []string
		for _, id := range ids {
			if s.permission(u, target{id: id}).CanRead() {
				keep = append(keep, id)
			}
		}
		if len(keep) == 0 {
			writeJSON(w, http.StatusOK, empty{})
			return
		}
		next.ServeHTTP(w, withParams(r, in, map[string]any{key: keep}))
	}
}

// readableRuns drops the runs the user may not read from a bulk request;
// with none left the answer is {}. Unknown runs stay, for the handler to
// report.
func readableRuns(key string) filterFunc {
	return func(s *Server, w http.ResponseWriter, r *http.Request, u *auth.User, next http.Handler) {
		ids := r.URL.Query()[key]
		if len(ids) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		var keep []string
		for _, id := range ids {
			t, err := s.runTarget(r.Context(), id)
			if err != nil || s.permission(u, t).CanRead() {
				keep = append(keep, id)
			}
		}
		if len(keep) == 0 {
			writeJSON(w, http.StatusOK, empty{})
			return
		}
		next.ServeHTTP(w, withParams(r, nil, map[string]any{key: keep}))
	}
}
