// Package tracedata reads a trace's spans from where MLflow keeps them:
// the tracking store, for a trace tagged
// mlflow.trace.spansLocation=TRACKING_STORE (MLflow 3.4+ servers keep
// the spans they receive in their spans table), else the traces.json
// artifact at the trace's mlflow.artifactLocation (what MLflow's clients
// upload). The server's get-trace-artifact, GetTrace and BatchGetTraces,
// the UI and the commands all read spans here.
package tracedata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/store"
)

var (
	// ErrNotFound: the trace's data is not where its tags say.
	ErrNotFound = errors.New("trace data not found")
	// ErrInvalid: the trace has no data location, or its data is not
	// MLflow's trace data.
	ErrInvalid = errors.New("invalid trace data")
)

// MaxSize is the largest traces.json read.
const MaxSize = 256 << 20

// OpenRepo resolves a trace's artifact location to a repository.
type OpenRepo func(loc string) (artifact.Repository, error)

// InTrackingStore reports whether the trace's spans are kept by the
// tracking store rather than in traces.json.
func InTrackingStore(t *store.TraceInfo) bool {
	return tag(t, store.TagTraceSpansLocation) == store.SpansInTrackingStore
}

// Read returns the trace's data as MLflow's traces.json holds it
// ({"spans": [span dicts]}, 2.x's also with "request" and "response"):
// made of the tracking store's spans, or traces.json as it is. A trace
// the tracking store claims but keeps no span of is read from its
// traces.json when it has one (an MLflow 3.0-3.3 client uploads it to a
// server that tagged the trace), else has no spans.
func Read(ctx context.Context, st store.Store, t *store.TraceInfo, open OpenRepo) (json.RawMessage, error) {
	if sr, ok := st.(store.TraceSpans); ok && InTrackingStore(t) {
		m, err := sr.TraceSpans(ctx, []string{t.RequestID})
		if err != nil {
			return nil, fmt.Errorf("spans of trace %s: %w", t.RequestID, err)
		}
		if len(m[t.RequestID]) == 0 {
			if b, err := readArtifact(ctx, t, open); err == nil {
				return b, nil
			}
		}
		return json.Marshal(map[string]any{"spans": nonNil(m[t.RequestID])})
	}
	return readArtifact(ctx, t, open)
}

// readArtifact reads the trace's traces.json.
func readArtifact(ctx context.Context, t *store.TraceInfo, open OpenRepo) (json.RawMessage, error) {
	loc := tag(t, store.TagTraceArtifactLocation)
	if loc == "" {
		return nil, fmt.Errorf("%w: trace %s has no %s tag", ErrInvalid, t.RequestID, store.TagTraceArtifactLocation)
	}
	if open == nil {
		return nil, fmt.Errorf("%w: no artifact store to read %s/traces.json from", ErrNotFound, loc)
	}
	repo, err := open(loc)
	if err != nil {
		return nil, err
	}
	rc, _, err := repo.Open(ctx, "traces.json")
	if errors.Is(err, artifact.ErrNotFound) {
		return nil, fmt.Errorf("%w for path=%s/traces.json", ErrNotFound, loc)
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxSize))
	if err != nil {
		return nil, err
	}
	if _, err := Spans(b); err != nil {
		return nil, fmt.Errorf("%s/traces.json of trace %s: %w", loc, t.RequestID, err)
	}
	return b, nil
}

// Spans returns the span dicts of a trace's data.
func Spans(data []byte) ([]json.RawMessage, error) {
	var d struct {
		Spans []json.RawMessage `json:"spans"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%w: not MLflow's trace data: %v", ErrInvalid, err)
	}
	return nonNil(d.Spans), nil
}

func nonNil(s []json.RawMessage) []json.RawMessage {
	if s == nil {
		return []json.RawMessage{}
	}
	return s
}

func tag(t *store.TraceInfo, key string) string {
	for _, tg := range t.Tags {
		if tg.Key == key {
			return tg.Value
		}
	}
	return ""
}
