package registry

import (
	"context"
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

// Resolve returns the artifact location a URI names: models:/<model_id>
// through the logged model, other models:/ URIs through the registry,
// runs:/<run_id>/<path> through the run's artifact URI; anything else is
// returned as is. A version whose source is itself
// a runs:/ or models:/ URI is followed.
func Resolve(ctx context.Context, tracking store.Store, reg Store, uri string) (string, error) {
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
			runID, rel, err := ParseRunsURI(uri)
			if err != nil {
				return "", err
			}
			r, err := tracking.GetRun(ctx, runID)
			if err != nil {
				return "", err
			}
			uri = strings.TrimRight(r.Info.ArtifactURI, "/")
			if rel != "" {
				uri += "/" + rel
			}
		default:
			return uri, nil
		}
	}
	return "", fmt.Errorf("%w: %s: too many levels of models:/ and runs:/ indirection", store.ErrInvalidArgument, uri)
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
