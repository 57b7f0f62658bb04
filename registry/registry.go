package registry

import (
	"context"
	"fmt"
	"github.com/mlrun/mlrun/artifact"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mlrun/mlrun/store"
)

// Stages, by MLflow's canonical names.
const (
	StageNone       = "None"
	StageStaging    = "Staging"
	StageProduction = "Production"
	StageArchived   = "Archived"
	// StageDeleted marks a soft-deleted version; it is never shown.
	StageDeleted = "Deleted_Internal"
)

// Stages lists the visible stages in MLflow's order.
var Stages = []string{StageNone, StageStaging, StageProduction, StageArchived}

// StatusReady is the status of every version (registration is synchronous).
const StatusReady = "READY"

// Alias names a version of a model.
type Alias struct {
	Alias   string
	Version string
}

// RegisteredModel is a named model.
type RegisteredModel struct {
	Name                 string
	CreationTimestamp    int64
	LastUpdatedTimestamp int64
	Description          string
	LatestVersions       []*ModelVersion // newest version per stage
	Tags                 []store.Tag
	Aliases              []Alias
}

// ModelVersion is one version of a registered model.
type ModelVersion struct {
	Name                 string
	Version              string // decimal
	CreationTimestamp    int64
	LastUpdatedTimestamp int64
	UserID               string
	CurrentStage         string
	Description          string
	Source               string
	RunID                string
	Status               string
	StatusMessage        string
	RunLink              string
	StorageLocation      string
	Tags                 []store.Tag
	Aliases              []string
	// ModelID is the MLflow 3 logged model the version registers (its
	// source is models:/<model_id>), or "".
	ModelID string
}

// CreateVersion is the request to create a version.
type CreateVersion struct {
	Name        string
	Source      string
	ModelID     string // MLflow 3: the logged model registered ("" taken from a models:/<id> source)
	RunID       string
	RunLink     string
	Description string
	Tags        []store.Tag
}

// SearchModels is a registered-model search.
type SearchModels struct {
	Filter     string
	OrderBy    []string
	MaxResults int // 0 means 100; at most 1000
	PageToken  string
}

// SearchVersions is a model-version search.
type SearchVersions struct {
	Filter     string
	OrderBy    []string
	MaxResults int // 0 means 200000 (the proto's default)
	PageToken  string
}

// Store is the registry. Implementations are safe for concurrent use;
// each call is one transaction.
type Store interface {
	CreateRegisteredModel(ctx context.Context, name string, tags []store.Tag, description string) (*RegisteredModel, error)
	GetRegisteredModel(ctx context.Context, name string) (*RegisteredModel, error)
	// RenameRegisteredModel renames a model with its versions, tags and aliases.
	RenameRegisteredModel(ctx context.Context, name, newName string) (*RegisteredModel, error)
	UpdateRegisteredModel(ctx context.Context, name, description string) (*RegisteredModel, error)
	// DeleteRegisteredModel removes the model, its versions, tags and aliases.
	DeleteRegisteredModel(ctx context.Context, name string) error
	SearchRegisteredModels(ctx context.Context, q SearchModels) ([]*RegisteredModel, string, error)
	// GetLatestVersions returns the newest version in each of stages (all
	// stages when empty).
	GetLatestVersions(ctx context.Context, name string, stages []string) ([]*ModelVersion, error)
	SetRegisteredModelTag(ctx context.Context, name string, tag store.Tag) error
	// DeleteRegisteredModelTag removes a tag; a missing key is a no-op.
	DeleteRegisteredModelTag(ctx context.Context, name, key string) error
	// SetAlias points alias at version, moving it if it pointed elsewhere.
	SetAlias(ctx context.Context, name, alias, version string) error
	// DeleteAlias removes an alias; a missing one is a no-op.
	DeleteAlias(ctx context.Context, name, alias string) error
	GetVersionByAlias(ctx context.Context, name, alias string) (*ModelVersion, error)

	// CreateModelVersion adds version max+1 (numbers are never reused).
	CreateModelVersion(ctx context.Context, req CreateVersion) (*ModelVersion, error)
	GetModelVersion(ctx context.Context, name, version string) (*ModelVersion, error)
	UpdateModelVersion(ctx context.Context, name, version, description string) (*ModelVersion, error)
	// DeleteModelVersion soft-deletes a version and drops its aliases.
	DeleteModelVersion(ctx context.Context, name, version string) error
	SearchModelVersions(ctx context.Context, q SearchVersions) ([]*ModelVersion, string, error)
	// TransitionStage moves a version to stage; with archiveExisting the
	// other versions in that (Staging or Production) stage are archived.
	TransitionStage(ctx context.Context, name, version, stage string, archiveExisting bool) (*ModelVersion, error)
	// GetDownloadURI is where the version's files are.
	GetDownloadURI(ctx context.Context, name, version string) (string, error)
	SetModelVersionTag(ctx context.Context, name, version string, tag store.Tag) error
	// DeleteModelVersionTag removes a tag; a missing key is a no-op.
	DeleteModelVersionTag(ctx context.Context, name, version, key string) error
}

// CanonicalStage maps a stage in any case to its canonical name.
func CanonicalStage(s string) (string, error) {
	for _, st := range Stages {
		if strings.EqualFold(s, st) {
			return st, nil
		}
	}
	return "", store.Invalidf("Invalid Model Version stage: %s. Value must be one of %s.", s, strings.Join(Stages, ", "))
}

// IsActiveStage reports whether archive_existing_versions applies.
func IsActiveStage(s string) bool { return s == StageStaging || s == StageProduction }

// ValidateModelName checks a registered model name.
func ValidateModelName(name string) error {
	if strings.TrimSpace(name) == "" {
		return store.Invalidf("Registered model name cannot be empty.")
	}
	if utf8.RuneCountInString(name) > 256 {
		return store.Invalidf("Registered model name exceeds the maximum length of 256 characters")
	}
	return nil
}

// ParseVersion checks a version number.
func ParseVersion(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, store.Invalidf("Model version must be an integer, got '%s'", v)
	}
	return n, nil
}

var aliasRE = regexp.MustCompile(`^[\w\-]*$`)
var versionAlias = regexp.MustCompile(`^[vV]\d+$`)

// ValidateAlias checks an alias name.
func ValidateAlias(a string) error {
	switch {
	case a == "":
		return store.Invalidf("Registered model alias name cannot be empty.")
	case !aliasRE.MatchString(a):
		return store.Invalidf("Invalid alias name: '%s'. Names may only contain alphanumerics, underscores (_), and dashes (-).", a)
	case len(a) > 255:
		return store.Invalidf("Registered model alias name exceeds the maximum length of 255 characters")
	case strings.EqualFold(a, "latest"):
		return store.Invalidf("'%s' alias name (case insensitive) is reserved.", a)
	case versionAlias.MatchString(a):
		return store.Invalidf("Version alias name '%s' is reserved.", a)
	}
	return nil
}

// ValidateModelTag checks a model or version tag.
func ValidateModelTag(t store.Tag) error {
	if err := store.ValidateKey("tag", t.Key); err != nil {
		return err
	}
	if utf8.RuneCountInString(t.Value) > 5000 {
		return store.Invalidf("tag '%s' value exceeds the maximum length of 5000 characters", t.Key)
	}
	return nil
}

// IsPromptVersion reports whether a version's tags make it a prompt's
// (MLflow's client tags each prompt version mlflow.prompt.is_prompt), or
// a create request's tags make a prompt: MLflow's handlers look for the
// tag's key, whatever its value.
func IsPromptVersion(tags []store.Tag) bool {
	for _, t := range tags {
		if t.Key == PromptTag {
			return true
		}
	}
	return false
}

// ValidatePromptSource checks a prompt version's source as MLflow does:
// its client sends a placeholder ("dummy-source"), never read; a local
// path (file:, or absolute) is refused, and so is a path with '..' (MLflow
// lets a relative one through).
func ValidatePromptSource(source string) error {
	if source == "" {
		return store.Invalidf("Missing value for required parameter 'source'.")
	}
	if strings.HasPrefix(strings.ToLower(source), "file:") || strings.HasPrefix(source, "/") || strings.HasPrefix(source, "\\") {
		return store.Invalidf("Invalid prompt source: '%s'. Local source paths are not allowed for prompts.", source)
	}
	if why := traversal(source); why != "" {
		return store.Invalidf("Invalid prompt source: '%s'. %s", source, why)
	}
	return nil
}

// traversal says why a source is unsafe ("" when it is not): a '..'
// segment or a NUL, looking again after each of up to three rounds of
// percent-decoding.
func traversal(source string) string {
	s := source
	for i := 0; i < 3; i++ {
		for _, seg := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '\\' }) {
			if seg == ".." {
				return "It must not contain path traversal ('..')."
			}
		}
		if strings.ContainsRune(s, 0) {
			return "It must not contain NUL."
		}
		d, err := unescape(s)
		if err != nil {
			return "It has bad percent-encoding."
		}
		if d == s {
			return ""
		}
		s = d
	}
	return ""
}

// ValidateSource checks a version's source: models:/ and runs:/ URIs, or
// an artifact URI that artifact.ParseURI accepts (no fragment, params or
// query, no path traversal after repeated URL-decoding, no NUL, a scheme
// mlrun serves). Local paths are checked further by the store, which
// knows the run's artifact folder.
func ValidateSource(source string) error {
	if source == "" {
		return store.Invalidf("Missing value for required parameter 'source'.")
	}
	bad := func(why string) error {
		return store.Invalidf("Invalid model version source: '%s'. %s", source, why)
	}
	if strings.HasPrefix(source, "runs:") || strings.HasPrefix(source, "models:") {
		if strings.ContainsAny(source, "#?;\x00") {
			return bad("It must not have a fragment, params or a query.")
		}
		if why := traversal(source); why != "" {
			return bad(why)
		}
		return nil
	}
	if _, err := artifact.ParseURI(source); err != nil {
		return bad(strings.TrimPrefix(strings.TrimPrefix(err.Error(), artifact.ErrInvalidPath.Error()+": "), artifact.ErrUnsupported.Error()+": "))
	}
	return nil
}

func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("bad escape")
			}
			b.WriteByte(byte(v))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}
