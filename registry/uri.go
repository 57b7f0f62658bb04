package registry

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/store"
)

var digits = regexp.MustCompile(`^\d+$`)

// ModelURI is a parsed models:/ URI: exactly one of Version, Stage, Latest
// or Alias is set.
type ModelURI struct {
	Name    string
	Version string
	Stage   string
	Latest  bool
	Alias   string
}

// ParseModelURI parses models:/<name>/<version|stage|latest> and
// models:/<name>@<alias> (split on the last '@').
func ParseModelURI(uri string) (ModelURI, error) {
	bad := func() (ModelURI, error) {
		return ModelURI{}, store.Invalidf("Not a proper models:/ URI: %s. Models URIs must be of the form 'models:/model_name/suffix' or 'models:/model_name@alias' where suffix is a model version, stage, or the string 'latest' and where alias is a registered model alias. Only one of suffix or alias can be defined at a time.", uri)
	}
	rest, ok := strings.CutPrefix(uri, "models:/")
	if !ok {
		return bad()
	}
	rest = strings.TrimLeft(rest, "/")
	if i := strings.LastIndex(rest, "@"); i >= 0 && !strings.Contains(rest[i:], "/") {
		name, alias := rest[:i], rest[i+1:]
		if name == "" || alias == "" || strings.Contains(name, "/") {
			return bad()
		}
		return ModelURI{Name: name, Alias: alias}, nil
	}
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return bad()
	}
	m := ModelURI{Name: parts[0]}
	switch {
	case digits.MatchString(parts[1]):
		m.Version = parts[1]
	case strings.EqualFold(parts[1], "latest"):
		m.Latest = true
	default:
		st, err := CanonicalStage(parts[1])
		if err != nil {
			return bad()
		}
		m.Stage = st
	}
	return m, nil
}

// ResolveVersion finds the version a models:/ URI names.
func ResolveVersion(ctx context.Context, reg Store, uri string) (*ModelVersion, error) {
	m, err := ParseModelURI(uri)
	if err != nil {
		return nil, err
	}
	switch {
	case m.Version != "":
		return reg.GetModelVersion(ctx, m.Name, m.Version)
	case m.Alias != "":
		return reg.GetVersionByAlias(ctx, m.Name, m.Alias)
	}
	var stages []string
	if m.Stage != "" {
		stages = []string{m.Stage}
	}
	vs, err := reg.GetLatestVersions(ctx, m.Name, stages)
	if err != nil {
		return nil, err
	}
	var best *ModelVersion
	for _, v := range vs {
		if best == nil || atoi(v.Version) > atoi(best.Version) {
			best = v
		}
	}
	if best == nil {
		if m.Stage != "" {
			return nil, store.NotFoundf("No versions of model with name '%s' and stage '%s' found", m.Name, m.Stage)
		}
		return nil, store.NotFoundf("No versions of model with name '%s' found", m.Name)
	}
	return best, nil
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// Exists reports whether an artifact location holds anything: a file,
// or a folder with files in it. Resolve asks it before it follows a
// runs:/ URI to a logged model.
type Exists func(ctx context.Context, uri string) (bool, error)

// Resolve returns the artifact location a URI names: models:/<model_id>
// through the logged model, other models:/ URIs through the registry,
// runs:/<run_id>/<path> as ResolveRunsURI does; anything else is returned
// as is. A version whose source is itself a runs:/ or models:/ URI is
// followed.
func Resolve(ctx context.Context, tracking store.Store, reg Store, uri string, exists Exists) (string, error) {
	for i := 0; i < 5; i++ {
		switch {
		case LoggedModelID(uri) != "":
			lm, ok := tracking.(store.LoggedModels)
			if !ok {
				return "", store.Invalidf("%s names an MLflow 3 logged model, which this tracking store does not keep", uri)
			}
			m, err := lm.GetLoggedModel(ctx, LoggedModelID(uri))
			if err != nil {
				return "", err
			}
			uri = m.ArtifactURI
		case strings.HasPrefix(uri, "models:/"):
			if reg == nil {
				return "", store.Invalidf("%s needs a model registry", uri)
			}
			v, err := ResolveVersion(ctx, reg, uri)
			if err != nil {
				return "", err
			}
			if uri, err = reg.GetDownloadURI(ctx, v.Name, v.Version); err != nil {
				return "", err
			}
		case strings.HasPrefix(uri, "runs:/"):
			loc, _, err := ResolveRunsURI(ctx, tracking, uri, exists)
			if err != nil {
				return "", err
			}
			uri = loc
		default:
			return uri, nil
		}
	}
	return "", fmt.Errorf("%w: %s: too many levels of models:/ and runs:/ indirection", store.ErrInvalidArgument, uri)
}

// ResolveRunsURI returns where runs:/<run_id>/<name>[/<rest>] leads, as
// MLflow 3 follows it (its RunsArtifactRepository and register_model):
// the run's own artifacts at that path when they hold anything there;
// otherwise, when the run logged an MLflow 3 model called <name> (its
// files kept apart from the run's, as MLflow 3's log_model keeps them),
// that model's files at <rest>, and the model. When the run logged
// several under one name, the one at the largest step is taken.
// exists nil takes the model, when there is one, without looking at the
// run's files; an exists that cannot tell does the same.
func ResolveRunsURI(ctx context.Context, tracking store.Store, uri string, exists Exists) (string, *store.LoggedModel, error) {
	runID, rel, err := ParseRunsURI(uri)
	if err != nil {
		return "", nil, err
	}
	r, err := tracking.GetRun(ctx, runID)
	if err != nil {
		return "", nil, err
	}
	loc := strings.TrimRight(r.Info.ArtifactURI, "/")
	if rel == "" {
		return loc, nil, nil
	}
	loc += "/" + rel
	name, rest, _ := strings.Cut(rel, "/")
	m, err := RunLoggedModel(ctx, tracking, r, name)
	if err != nil || m == nil {
		return loc, nil, err
	}
	if exists != nil {
		if has, err := exists(ctx, loc); err == nil && has {
			return loc, nil, nil
		}
	}
	mloc := strings.TrimRight(m.ArtifactURI, "/")
	if rest != "" {
		mloc += "/" + rest
	}
	return mloc, m, nil
}

// RunLoggedModel returns the MLflow 3 logged model the run r logged under
// name (at the largest step of the run's outputs when there are several,
// the newest of those), or nil when there is none or the tracking store
// keeps no logged models.
func RunLoggedModel(ctx context.Context, tracking store.Store, r *store.Run, name string) (*store.LoggedModel, error) {
	lm, ok := tracking.(store.LoggedModels)
	if !ok {
		return nil, nil
	}
	step := func(id string) int64 { // 0 for a model the run did not output
		for _, o := range r.Outputs {
			if o.ModelID == id {
				return o.Step
			}
		}
		return 0
	}
	var best *store.LoggedModel
	var bestStep int64
	q := store.SearchLoggedModels{ExperimentIDs: []string{r.Info.ExperimentID}, Filter: "source_run_id = '" + r.Info.RunID + "'", MaxResults: 100}
	for {
		ms, next, err := lm.SearchLoggedModels(ctx, q)
		if errors.Is(err, store.ErrUnsupported) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("the logged models of run %s: %w", r.Info.RunID, err)
		}
		// Newest first (the search's default order): a later one
		// replaces the best only at a larger step.
		for _, m := range ms {
			if m.Name != name || m.SourceRunID != r.Info.RunID {
				continue
			}
			if s := step(m.ModelID); best == nil || s > bestStep {
				best, bestStep = m, s
			}
		}
		if next == "" {
			return best, nil
		}
		q.PageToken = next
	}
}

// LoggedModelID returns the id of an MLflow 3 logged-model URI,
// models:/<model_id> (one segment, no version or alias), or "".
func LoggedModelID(uri string) string {
	rest, ok := strings.CutPrefix(uri, "models:/")
	if !ok {
		return ""
	}
	rest = strings.Trim(rest, "/")
	if rest == "" || strings.ContainsAny(rest, "/@") {
		return ""
	}
	return rest
}

// ParseRunsURI splits runs:/<run_id>/<path>.
func ParseRunsURI(uri string) (runID, path string, err error) {
	rest, ok := strings.CutPrefix(uri, "runs:/")
	if !ok {
		return "", "", store.Invalidf("Not a proper runs:/ URI: %s", uri)
	}
	rest = strings.TrimPrefix(rest, "/")
	runID, path, _ = strings.Cut(rest, "/")
	if runID == "" || store.ValidateRunID(runID) != nil {
		return "", "", store.Invalidf("Not a proper runs:/ URI: %s. Runs URIs must be of the form 'runs:/<run_id>/run-relative/path/to/artifact'", uri)
	}
	return runID, strings.Trim(path, "/"), nil
}
