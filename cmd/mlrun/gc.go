package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/artifact/proxied"
	"github.com/mlrun/mlrun/artifact/s3"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/rest"
)

func gcCommand() *cli.Command {
	return &cli.Command{
		Name:  "gc",
		Usage: "permanently delete runs, logged models and experiments in the deleted lifecycle stage, with their artifacts, as mlflow gc",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "backend-store-uri", Usage: "the database: sqlite:///path.db or postgresql://user:pass@host:port/db (default: a database --tracking-uri names, else " + DefaultTrackingURI + ")"},
			&cli.StringFlag{Name: "tracking-uri", EnvVars: []string{"MLFLOW_TRACKING_URI"}, Usage: "a tracking server (http://host:port), through whose artifact proxy mlflow-artifacts:/ artifacts are deleted when --artifacts-destination is not given, as mlflow gc does; or the database, as --backend-store-uri"},
			&cli.StringFlag{Name: "older-than", Usage: "only what was deleted at least this long ago, as #d#h#m#s (e.g. 1d2h, 1.5d)"},
			&cli.StringFlag{Name: "run-ids", Usage: "comma-separated runs to delete (default: every deleted run)"},
			&cli.StringFlag{Name: "experiment-ids", Usage: "comma-separated experiments to delete with their runs (default: every deleted experiment)"},
			&cli.StringFlag{Name: "logged-model-ids", Usage: "comma-separated logged models to delete (default: every deleted logged model that no model version is registered from)"},
			&cli.StringFlag{Name: "artifacts-destination", EnvVars: []string{"MLFLOW_ARTIFACTS_DESTINATION"}, Usage: "the folder or s3://bucket/prefix behind mlflow-artifacts:/ URIs (the server's --artifacts-destination), so proxied artifacts are deleted too"},
		},
		Action: func(c *cli.Context) error {
			olderThan, err := parseAge(c.String("older-than"))
			if err != nil {
				return err
			}
			backend, tracking := c.String("backend-store-uri"), c.String("tracking-uri")
			server := isHTTP(tracking)
			switch {
			case backend != "":
			case server:
				return fmt.Errorf("gc works on a database: give --backend-store-uri (the tracking URI %s is a server, through which gc deletes proxied artifacts)", tracking)
			case tracking != "":
				backend = tracking
			default:
				backend = DefaultTrackingURI
			}
			st, err := openExistingStore(c.Context, backend)
			if err != nil {
				return err
			}
			defer st.Close()
			g := gc{st: st, out: c.App.Writer, artifacts: c.String("artifacts-destination")}
			if server {
				if g.server, err = rest.New(tracking, rest.OptionsFromEnv()); err != nil {
					return err
				}
			}
			return g.run(c.Context, olderThan, c.IsSet("older-than"), targets{
				runs: splitList(c.String("run-ids")), models: splitList(c.String("logged-model-ids")), experiments: splitList(c.String("experiment-ids")),
			})
		},
	}
}

type gc struct {
	st        store.Store
	out       io.Writer
	artifacts string
	// server is the tracking server whose artifact proxy holds
	// mlflow-artifacts:/ artifacts, when --artifacts-destination is not
	// given (nil: none).
	server proxied.Doer
}

// targets are the ids named on the command line; none named means every
// deleted one.
type targets struct{ runs, models, experiments []string }

// run does what mlflow gc does: the named (or all deleted) runs, checked
// to be deleted and old enough, lose their artifacts and rows; so do the
// named (or all deleted) logged models; then the named (or all deleted)
// experiments go with their remaining runs.
func (g gc) run(ctx context.Context, olderThan time.Duration, aged bool, ids targets) error {
	col, ok := g.st.(store.Collector)
	if !ok {
		return errors.New("gc works on a database (sqlite:///path.db or postgresql://…): this tracking URI cannot delete runs for good")
	}
	runIDs, expIDs := ids.runs, ids.experiments
	old, err := col.DeletedRuns(ctx, olderThan)
	if err != nil {
		return err
	}
	if len(runIDs) == 0 {
		runIDs = old
	}
	cutoff := time.Now().Add(-olderThan).UnixMilli()
	if len(expIDs) > 0 {
		for _, id := range expIDs {
			e, err := g.st.GetExperiment(ctx, id)
			if err != nil {
				return err
			}
			if e.LifecycleStage != store.LifecycleDeleted {
				return store.Invalidf("Experiment %s is not in the deleted lifecycle stage. Only experiments in the deleted lifecycle stage can be hard-deleted.", id)
			}
			if aged && e.LastUpdateTime >= cutoff {
				return store.Invalidf("Experiment %s is not older than the required age. Only experiments older than %s can be deleted.", id, olderThan)
			}
		}
	} else {
		for token := ""; ; {
			exps, next, err := g.st.SearchExperiments(ctx, store.SearchExperiments{ViewType: store.DeletedOnly, PageToken: token})
			if err != nil {
				return err
			}
			for _, e := range exps {
				if !aged || e.LastUpdateTime < cutoff {
					expIDs = append(expIDs, e.ID)
				}
			}
			if token = next; token == "" {
				break
			}
		}
	}
	// The deleted runs of those experiments go first, with their artifacts.
	if len(expIDs) > 0 {
		for token := ""; ; {
			runs, next, err := g.st.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: expIDs, ViewType: store.DeletedOnly, PageToken: token})
			if err != nil {
				return err
			}
			for _, r := range runs {
				runIDs = append(runIDs, r.Info.RunID)
			}
			if token = next; token == "" {
				break
			}
		}
	}
	oldSet := make(map[string]struct{}, len(old))
	for _, id := range old {
		oldSet[id] = struct{}{}
	}
	// Every run is checked before any is deleted (mlflow gc stops halfway).
	slices.Sort(runIDs)
	var runs []store.RunInfo
	for _, id := range slices.Compact(runIDs) {
		r, err := g.st.GetRun(ctx, id)
		if err != nil {
			return err
		}
		if r.Info.LifecycleStage != store.LifecycleDeleted {
			return store.Invalidf("Run %s is not in `deleted` lifecycle stage. Only runs in `deleted` lifecycle stage can be deleted.", id)
		}
		if _, isOld := oldSet[id]; aged && !isOld {
			return store.Invalidf("Run %s is not older than the required age. Only runs older than %s can be deleted.", id, olderThan)
		}
		runs = append(runs, r.Info)
	}
	models, err := g.loggedModels(ctx, col, ids.models, aged, cutoff, olderThan)
	if err != nil {
		return err
	}
	for _, ri := range runs {
		g.deleteArtifacts(ctx, "run", ri.RunID, ri.ArtifactURI)
		if err := col.HardDeleteRun(ctx, ri.RunID); err != nil {
			return err
		}
		fmt.Fprintf(g.out, "Run with ID %s has been permanently deleted.\n", ri.RunID)
	}
	for _, m := range models {
		g.deleteArtifacts(ctx, "logged model", m.ModelID, m.ArtifactURI)
		if err := col.HardDeleteLoggedModel(ctx, m.ModelID); err != nil {
			return err
		}
		fmt.Fprintf(g.out, "Logged model with ID %s has been permanently deleted.\n", m.ModelID)
	}
	for _, id := range expIDs {
		if err := col.HardDeleteExperiment(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(g.out, "Experiment with ID %s has been permanently deleted.\n", id)
	}
	return nil
}

// loggedModels returns the logged models to delete: the named ones, each
// checked to be deleted, old enough and not holding a model version's
// files; or every deleted one old enough, but for those holding a model
// version's files, which stay with a line saying so. MLflow deletes those
// too, and the registered version loses its files.
func (g gc) loggedModels(ctx context.Context, col store.Collector, named []string, aged bool, cutoff int64, olderThan time.Duration) ([]store.DeletedLoggedModel, error) {
	deleted, err := col.DeletedLoggedModels(ctx)
	if err != nil {
		return nil, err
	}
	var models []store.DeletedLoggedModel
	if len(named) == 0 {
		for _, m := range deleted {
			switch {
			case aged && m.Deleted > cutoff:
			case len(m.Versions) > 0:
				fmt.Fprintf(g.out, "Logged model %s left in place: registered model %s keeps its files there.\n", m.ModelID, strings.Join(m.Versions, ", "))
			default:
				models = append(models, m)
			}
		}
		return models, nil
	}
	byID := make(map[string]store.DeletedLoggedModel, len(deleted))
	for _, m := range deleted {
		byID[m.ModelID] = m
	}
	slices.Sort(named)
	for _, id := range slices.Compact(named) {
		m, ok := byID[id]
		switch {
		case !ok:
			lm, isLM := g.st.(store.LoggedModels)
			if !isLM {
				return nil, store.NotFoundf("Logged model with ID '%s' not found.", id)
			}
			if _, err := lm.GetLoggedModel(ctx, id); err != nil {
				return nil, err
			}
			return nil, store.Invalidf("Logged model %s is not in `deleted` lifecycle stage. Only logged models in `deleted` lifecycle stage can be deleted.", id)
		case aged && m.Deleted > cutoff:
			return nil, store.Invalidf("Logged model %s is not older than the required age. Only logged models older than %s can be deleted.", id, olderThan)
		case len(m.Versions) > 0:
			return nil, store.Invalidf("Logged model %s holds the files of registered model %s: delete that version first.", id, strings.Join(m.Versions, ", "))
		}
		models = append(models, m)
	}
	return models, nil
}

// deleteArtifacts removes the artifact folder of a run or a logged model
// (what, named id): a local path, an S3 prefix, or mlflow-artifacts:/ under
// --artifacts-destination (a folder or S3). Anything else is left, with a
// warning, as mlflow gc does. A folder that does not name its owner
// (MLflow's <root>/<experiment>/<run>/artifacts and
// <root>/<experiment>/models/<model>/artifacts) is never removed: a
// damaged artifact URI must not take a whole root with it.
func (g gc) deleteArtifacts(ctx context.Context, what, id, uri string) {
	if bucket, key, ok, err := g.s3Artifacts(uri); ok || err != nil {
		if err == nil && !slices.Contains(strings.Split(key, "/"), id) {
			err = fmt.Errorf("s3://%s/%s does not name %s %s", bucket, key, what, id)
		}
		if err != nil {
			fmt.Fprintf(g.out, "Artifacts of %s %s left in place: %v\n", what, id, err)
			return
		}
		if path.Base(key) == "artifacts" && path.Base(path.Dir(key)) == id {
			key = path.Dir(key)
		}
		repo, err := s3.Open(bucket, "")
		if err == nil {
			err = repo.Delete(ctx, key)
		}
		if err != nil && !errors.Is(err, artifact.ErrNotFound) {
			fmt.Fprintf(g.out, "Artifacts of %s %s not deleted: %v\n", what, id, err)
		}
		return
	}
	if key, ok := g.proxiedArtifacts(uri); ok {
		if !slices.Contains(strings.Split(key, "/"), id) {
			fmt.Fprintf(g.out, "Artifacts of %s %s left in place: %s does not name %s %s\n", what, id, uri, what, id)
			return
		}
		if path.Base(key) == "artifacts" && path.Base(path.Dir(key)) == id {
			key = path.Dir(key)
		}
		if err := proxied.New(g.server, "").Delete(ctx, key); err != nil && !errors.Is(err, artifact.ErrNotFound) {
			fmt.Fprintf(g.out, "Artifacts of %s %s not deleted: %v\n", what, id, err)
		}
		return
	}
	dir, err := g.localArtifacts(uri)
	if err == nil && !slices.Contains(strings.Split(filepath.ToSlash(dir), "/"), id) {
		err = fmt.Errorf("%s does not name %s %s", dir, what, id)
	}
	if err != nil {
		fmt.Fprintf(g.out, "Artifacts of %s %s left in place: %v\n", what, id, err)
		return
	}
	// The owner's own folder holds artifacts/ and nothing else of others.
	if filepath.Base(dir) == "artifacts" && filepath.Base(filepath.Dir(dir)) == id {
		dir = filepath.Dir(dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintf(g.out, "Artifacts of %s %s not deleted: %v\n", what, id, err)
	}
}

// s3Artifacts returns the bucket and key of artifacts in S3 (an
// s3:// URI, or mlflow-artifacts:/ with an S3 --artifacts-destination);
// ok is false for artifacts elsewhere.
func (g gc) s3Artifacts(uri string) (bucket, key string, ok bool, err error) {
	loc, err := artifact.ParseURI(uri)
	if err != nil {
		return "", "", false, nil // localArtifacts says why
	}
	switch loc.Kind {
	case artifact.S3:
		return loc.Base, loc.Path, true, nil
	case artifact.Proxy:
		dest, err := artifact.ParseURI(g.artifacts)
		if g.artifacts == "" || err != nil || dest.Kind != artifact.S3 {
			return "", "", false, nil
		}
		return dest.Base, strings.TrimPrefix(path.Join(dest.Path, loc.Path), "/"), true, nil
	}
	return "", "", false, nil
}

// proxiedArtifacts returns the path of mlflow-artifacts:/ artifacts in
// the tracking server's proxy, when gc deletes them through it (no
// --artifacts-destination, a --tracking-uri server).
func (g gc) proxiedArtifacts(uri string) (string, bool) {
	if g.server == nil || g.artifacts != "" {
		return "", false
	}
	loc, err := artifact.ParseURI(uri)
	if err != nil || loc.Kind != artifact.Proxy {
		return "", false
	}
	return strings.Trim(loc.Path, "/"), true
}

func (g gc) localArtifacts(uri string) (string, error) {
	loc, err := artifact.ParseURI(uri)
	if err != nil {
		return "", err
	}
	switch loc.Kind {
	case artifact.Local:
		return loc.Path, nil
	case artifact.Proxy:
		if g.artifacts == "" {
			return "", fmt.Errorf("%s is served by a tracking server: give its --artifacts-destination, or the server as --tracking-uri, to delete it", uri)
		}
		return filepath.Join(g.artifacts, filepath.FromSlash(loc.Path)), nil
	}
	return "", fmt.Errorf("artifact URI %s is not on this machine", uri)
}

var agePattern = regexp.MustCompile(`^(?:([.\d]+)d)?(?:([.\d]+)h)?(?:([.\d]+)m)?(?:([.\d]+)s)?$`)

// parseAge reads MLflow's --older-than format, #d#h#m#s with float parts.
func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	m := agePattern.FindStringSubmatch(s)
	if m == nil {
		return 0, store.Invalidf("Could not parse any time information from '%s'. Examples of valid strings: '8h', '2d8h5m20s', '2m4s'", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] == "" {
			continue
		}
		f, err := strconv.ParseFloat(m[i+1], 64)
		if err != nil {
			return 0, store.Invalidf("Could not parse any time information from '%s'. Examples of valid strings: '8h', '2d8h5m20s', '2m4s'", s)
		}
		d += time.Duration(f * float64(unit))
	}
	return d, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var ids []string
	for _, id := range strings.Split(s, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}
