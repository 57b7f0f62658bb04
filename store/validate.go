package store

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/internal/format"
)

// Limits are MLflow's validation limits (mlflow/utils/validation.py,
// MLflow 2.17.2), in one table so every store enforces the same ones.
var Limits = struct {
	KeyLength            int
	ParamValueLength     int
	RunTagValueLength    int
	ExperimentNameLength int
	ExperimentTagValue   int
	BatchMetrics         int
	BatchParams          int
	BatchTags            int
	BatchTotal           int
	DatasetName          int
	DatasetDigest        int
	DatasetSource        int
	DatasetSchema        int
	DatasetProfile       int
	InputTagKey          int
	InputTagValue        int
	SearchMaxResults     int
	SearchRunsDefault    int
}{
	KeyLength:            250,
	ParamValueLength:     6000,
	RunTagValueLength:    8000,
	ExperimentNameLength: 500,
	ExperimentTagValue:   5000,
	BatchMetrics:         1000,
	BatchParams:          100,
	BatchTags:            100,
	BatchTotal:           1000,
	DatasetName:          500,
	DatasetDigest:        36,
	DatasetSource:        65535,
	DatasetSchema:        1048575,
	DatasetProfile:       16777215,
	InputTagKey:          255,
	InputTagValue:        500,
	SearchMaxResults:     50000,
	SearchRunsDefault:    1000,
}

// keyChars reports whether every rune of s is a letter, a number or one
// of extra: MLflow's [\w...] classes, without a regular expression
// (compiling the Unicode classes with {0,255} cost every mlrun start
// 27 ms).
func keyChars(s, extra string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !strings.ContainsRune(extra, r) {
			return false
		}
	}
	return true
}

// runIDOK is MLflow's ^[a-zA-Z0-9][\w\-]{0,255}$.
func runIDOK(id string) bool {
	if id == "" || utf8.RuneCountInString(id) > 256 {
		return false
	}
	c := id[0]
	if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
		return false
	}
	return keyChars(id[1:], "_-")
}

// truncateLongValues mirrors MLFLOW_TRUNCATE_LONG_VALUES (default true).
func truncateLongValues() bool {
	v := strings.ToLower(os.Getenv("MLFLOW_TRUNCATE_LONG_VALUES"))
	return v != "false" && v != "0"
}

// ValidateKey checks a metric, param or tag key: MLflow's character set,
// a normalized relative path, at most 250 characters. what names the kind
// of key in the message ("metric", "param", "tag").
func ValidateKey(what, key string) error {
	if !keyChars(key, "/_.- :") {
		return Invalidf("invalid %s name: '%s'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/)", what, key)
	}
	if key == "" || key == "." || path.Clean(key) != key || strings.HasPrefix(key, "..") || strings.HasPrefix(key, "/") {
		return Invalidf("invalid %s name: '%s'. Names cannot be empty, contain '..', start with '/' or be anything but a normalized path", what, key)
	}
	if utf8.RuneCountInString(key) > Limits.KeyLength {
		return Invalidf("%s name '%.20s...' exceeds the maximum length of %d characters", what, key, Limits.KeyLength)
	}
	return nil
}

// ValidateRunID checks the form of a run id.
func ValidateRunID(id string) error {
	if !runIDOK(id) {
		return Invalidf("invalid run id '%s'", id)
	}
	return nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// NormalizeParam validates p and truncates a long value (or refuses it
// when MLFLOW_TRUNCATE_LONG_VALUES=false).
func NormalizeParam(p Param) (Param, error) {
	if err := ValidateKey("param", p.Key); err != nil {
		return p, err
	}
	if utf8.RuneCountInString(p.Value) > Limits.ParamValueLength {
		if !truncateLongValues() {
			return p, Invalidf("param '%s' value exceeds the maximum length of %d characters", p.Key, Limits.ParamValueLength)
		}
		p.Value = truncate(p.Value, Limits.ParamValueLength)
	}
	return p, nil
}

// NormalizeTag validates a run tag and truncates a long value.
func NormalizeTag(t Tag) (Tag, error) {
	if err := ValidateKey("tag", t.Key); err != nil {
		return t, err
	}
	if utf8.RuneCountInString(t.Value) > Limits.RunTagValueLength {
		if !truncateLongValues() {
			return t, Invalidf("tag '%s' value exceeds the maximum length of %d characters", t.Key, Limits.RunTagValueLength)
		}
		t.Value = truncate(t.Value, Limits.RunTagValueLength)
	}
	return t, nil
}

// ValidateMetric checks a metric point.
func ValidateMetric(m Metric) error {
	if err := ValidateKey("metric", m.Key); err != nil {
		return err
	}
	if m.Timestamp < 0 {
		return Invalidf("invalid timestamp %d for metric '%s': must be non-negative", m.Timestamp, m.Key)
	}
	return nil
}

// ValidateExperimentName checks an experiment name.
func ValidateExperimentName(name string) error {
	if name == "" {
		return Invalidf("invalid experiment name: ''. Expected a non-empty string")
	}
	if utf8.RuneCountInString(name) > Limits.ExperimentNameLength {
		return Invalidf("experiment name exceeds the maximum length of %d characters", Limits.ExperimentNameLength)
	}
	return nil
}

// ValidateExperimentTag checks an experiment tag (no truncation).
func ValidateExperimentTag(t Tag) error {
	if err := ValidateKey("tag", t.Key); err != nil {
		return err
	}
	if utf8.RuneCountInString(t.Value) > Limits.ExperimentTagValue {
		return Invalidf("experiment tag '%s' value exceeds the maximum length of %d characters", t.Key, Limits.ExperimentTagValue)
	}
	return nil
}

// ValidateBatchLimits checks MLflow's log-batch sizes.
func ValidateBatchLimits(metrics, params, tags int) error {
	switch {
	case metrics > Limits.BatchMetrics:
		return Invalidf("A batch logging request can contain at most %d metrics. Got %d metrics. Please split up metrics across multiple requests and try again.", Limits.BatchMetrics, metrics)
	case params > Limits.BatchParams:
		return Invalidf("A batch logging request can contain at most %d params. Got %d params. Please split up params across multiple requests and try again.", Limits.BatchParams, params)
	case tags > Limits.BatchTags:
		return Invalidf("A batch logging request can contain at most %d tags. Got %d tags. Please split up tags across multiple requests and try again.", Limits.BatchTags, tags)
	case metrics+params+tags > Limits.BatchTotal:
		return Invalidf("A batch logging request can contain at most %d total entities. Got %d. Please split up across multiple requests and try again.", Limits.BatchTotal, metrics+params+tags)
	}
	return nil
}

// ValidateDatasetInput checks a dataset input against MLflow's limits.
func ValidateDatasetInput(in DatasetInput) error {
	d := in.Dataset
	for _, c := range []struct {
		name, v  string
		max      int
		required bool
	}{
		{"dataset.name", d.Name, Limits.DatasetName, true},
		{"dataset.digest", d.Digest, Limits.DatasetDigest, true},
		{"dataset.source_type", d.SourceType, 0, true},
		{"dataset.source", d.Source, Limits.DatasetSource, true},
		{"dataset.schema", d.Schema, Limits.DatasetSchema, false},
		{"dataset.profile", d.Profile, Limits.DatasetProfile, false},
	} {
		if c.required && c.v == "" {
			return Invalidf("Missing value for required parameter '%s'.", c.name)
		}
		if c.max > 0 && len(c.v) > c.max {
			return Invalidf("%s exceeds the maximum length of %d", c.name, c.max)
		}
	}
	for _, t := range in.Tags {
		if t.Key == "" || len(t.Key) > Limits.InputTagKey {
			return Invalidf("input tag key '%s' must be 1 to %d characters", t.Key, Limits.InputTagKey)
		}
		if len(t.Value) > Limits.InputTagValue {
			return Invalidf("input tag '%s' value exceeds the maximum length of %d", t.Key, Limits.InputTagValue)
		}
	}
	return nil
}

// ValidateArtifactLocation checks an experiment's artifact_location as
// MLflow's server does (no fragment or ';' params, no '..' in the query,
// not a runs:/ URI, at most artifact.MaxLocationLength characters) and as
// mlrun's one artifact resolver parses it (no '..' segment, a scheme mlrun
// serves), and returns it with a local path made absolute. "" stays "".
func ValidateArtifactLocation(loc string) (string, error) {
	if loc == "" {
		return "", nil
	}
	if strings.ContainsAny(loc, "#;") {
		return "", Invalidf("'artifact_location' URL can't include fragments or params.")
	}
	if strings.HasPrefix(loc, "runs:") {
		return "", Invalidf("Artifact location cannot be a runs:/ URI. Given: '%s'", loc)
	}
	l, err := artifact.ParseURI(loc)
	if err != nil {
		return "", Invalidf("Invalid artifact_location '%s': %s", loc, strings.TrimPrefix(strings.TrimPrefix(err.Error(), artifact.ErrInvalidPath.Error()+": "), artifact.ErrUnsupported.Error()+": "))
	}
	if l.Kind == artifact.Local {
		if strings.HasPrefix(loc, "file:") {
			return "file://" + filepath.ToSlash(l.Path), nil
		}
		return l.Path, nil
	}
	return loc, nil
}

// PyRepr is a string as Python's repr writes it, for messages that quote
// a value as MLflow's do ({name!r}): format.PyRepr's.
func PyRepr(s string) string { return format.PyRepr(s) }
