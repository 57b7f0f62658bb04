package file

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

// Run is a run with its whole metric history.
type Run struct {
	Info        store.RunInfo
	DeletedTime *int64
	Params      []store.Param
	Tags        []store.Tag
	History     []store.Metric // every point of every metric
}

// Experiment is an experiment and its runs.
type Experiment struct {
	Experiment store.Experiment
	Runs       []*Run
}

// Model is a registered model and its versions (deleted ones included).
type Model struct {
	Model    registry.RegisteredModel
	Versions []*registry.ModelVersion
}

// Snapshot is everything read from a file store.
type Snapshot struct {
	Experiments []*Experiment
	Models      []*Model
}

var statuses = map[int]store.RunStatus{1: store.StatusRunning, 2: store.StatusScheduled, 3: store.StatusFinished, 4: store.StatusFailed, 5: store.StatusKilled}

// Read reads the file store rooted at root.
func Read(root string) (*Snapshot, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("file store %s: %w", root, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("file store %s is not a folder", root)
	}
	snap := &Snapshot{}
	for _, dir := range []string{root, filepath.Join(root, ".trash")} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !e.IsDir() || e.Name() == "models" || e.Name() == ".trash" || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			exp, err := readExperiment(filepath.Join(dir, e.Name()))
			if errors.Is(err, fs.ErrNotExist) {
				continue // not an experiment folder
			}
			if err != nil {
				return nil, err
			}
			snap.Experiments = append(snap.Experiments, exp)
		}
	}
	if snap.Experiments == nil {
		return nil, fmt.Errorf("%s holds no MLflow experiments (no <id>/meta.yaml)", root)
	}
	models, err := readModels(filepath.Join(root, "models"))
	if err != nil {
		return nil, err
	}
	snap.Models = models
	return snap, nil
}

func readYAML(p string, v any) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// readKV reads a folder of one-file-per-key values (keys with '/' are sub-folders).
func readKV(dir string) ([]store.Tag, error) {
	var out []store.Tag
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, store.Tag{Key: filepath.ToSlash(rel), Value: string(b)})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, err
}

func readExperiment(dir string) (*Experiment, error) {
	var meta struct {
		ArtifactLocation string `yaml:"artifact_location"`
		CreationTime     int64  `yaml:"creation_time"`
		ExperimentID     string `yaml:"experiment_id"`
		LastUpdateTime   int64  `yaml:"last_update_time"`
		LifecycleStage   string `yaml:"lifecycle_stage"`
		Name             string `yaml:"name"`
	}
	if err := readYAML(filepath.Join(dir, "meta.yaml"), &meta); err != nil {
		return nil, err
	}
	if meta.ExperimentID == "" {
		meta.ExperimentID = filepath.Base(dir)
	}
	if _, err := strconv.ParseInt(meta.ExperimentID, 10, 64); err != nil {
		return nil, fmt.Errorf("experiment %s: id %q is not a number (SQL stores need numeric ids)", dir, meta.ExperimentID)
	}
	if meta.LifecycleStage == "" {
		meta.LifecycleStage = store.LifecycleActive
	}
	tags, err := readKV(filepath.Join(dir, "tags"))
	if err != nil {
		return nil, err
	}
	exp := &Experiment{Experiment: store.Experiment{
		ID: meta.ExperimentID, Name: meta.Name, ArtifactLocation: meta.ArtifactLocation, LifecycleStage: meta.LifecycleStage,
		CreationTime: meta.CreationTime, LastUpdateTime: meta.LastUpdateTime, Tags: tags,
	}}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		switch e.Name() {
		case "tags", "datasets", "traces", "models":
			continue
		}
		if !e.IsDir() {
			continue
		}
		run, err := readRun(filepath.Join(dir, e.Name()), meta.ExperimentID)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if run != nil {
			exp.Runs = append(exp.Runs, run)
		}
	}
	sort.Slice(exp.Runs, func(i, j int) bool { return exp.Runs[i].Info.RunID < exp.Runs[j].Info.RunID })
	return exp, nil
}

func readRun(dir, expID string) (*Run, error) {
	var meta struct {
		ArtifactURI    string `yaml:"artifact_uri"`
		EndTime        *int64 `yaml:"end_time"`
		ExperimentID   string `yaml:"experiment_id"`
		LifecycleStage string `yaml:"lifecycle_stage"`
		RunID          string `yaml:"run_id"`
		RunUUID        string `yaml:"run_uuid"`
		RunName        string `yaml:"run_name"`
		StartTime      int64  `yaml:"start_time"`
		Status         int    `yaml:"status"`
		UserID         string `yaml:"user_id"`
		DeletedTime    *int64 `yaml:"deleted_time"`
	}
	if err := readYAML(filepath.Join(dir, "meta.yaml"), &meta); err != nil {
		return nil, err
	}
	if meta.ExperimentID != expID {
		return nil, nil // MLflow ignores a run filed under the wrong experiment
	}
	if meta.RunID == "" {
		meta.RunID = meta.RunUUID
	}
	if err := store.ValidateRunID(meta.RunID); err != nil {
		return nil, fmt.Errorf("run folder %s: %w", dir, err)
	}
	st, ok := statuses[meta.Status]
	if !ok {
		st = store.StatusRunning
	}
	if meta.LifecycleStage == "" {
		meta.LifecycleStage = store.LifecycleActive
	}
	run := &Run{
		Info: store.RunInfo{
			RunID: meta.RunID, RunName: meta.RunName, ExperimentID: expID, UserID: meta.UserID, Status: st,
			StartTime: meta.StartTime, EndTime: meta.EndTime, ArtifactURI: meta.ArtifactURI, LifecycleStage: meta.LifecycleStage,
		},
		DeletedTime: meta.DeletedTime,
	}
	params, err := readKV(filepath.Join(dir, "params"))
	if err != nil {
		return nil, err
	}
	for _, p := range params {
		run.Params = append(run.Params, store.Param(p))
	}
	if run.Tags, err = readKV(filepath.Join(dir, "tags")); err != nil {
		return nil, err
	}
	metrics, err := readKV(filepath.Join(dir, "metrics"))
	if err != nil {
		return nil, err
	}
	for _, m := range metrics {
		for n, line := range strings.Split(strings.TrimSpace(m.Value), "\n") {
			if line = strings.TrimSpace(line); line == "" {
				continue
			}
			pt, err := parsePoint(m.Key, line)
			if err != nil {
				return nil, fmt.Errorf("run %s metric %s line %d: %w", meta.RunID, m.Key, n+1, err)
			}
			run.History = append(run.History, pt)
		}
	}
	return run, nil
}

// parsePoint reads "<timestamp> <value> [<step>]".
func parsePoint(key, line string) (store.Metric, error) {
	f := strings.Fields(line)
	if len(f) != 2 && len(f) != 3 {
		return store.Metric{}, fmt.Errorf("want 'timestamp value [step]', got %q", line)
	}
	ts, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return store.Metric{}, fmt.Errorf("bad timestamp %q", f[0])
	}
	var v float64
	switch strings.ToLower(f[1]) {
	case "nan":
		v = math.NaN()
	case "inf", "+inf":
		v = math.Inf(1)
	case "-inf":
		v = math.Inf(-1)
	default:
		if v, err = strconv.ParseFloat(f[1], 64); err != nil {
			return store.Metric{}, fmt.Errorf("bad value %q", f[1])
		}
	}
	var step int64
	if len(f) == 3 {
		if step, err = strconv.ParseInt(f[2], 10, 64); err != nil {
			return store.Metric{}, fmt.Errorf("bad step %q", f[2])
		}
	}
	return store.Metric{Key: key, Value: v, Timestamp: ts, Step: step}, nil
}

func readModels(dir string) ([]*Model, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Model
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		mdir := filepath.Join(dir, e.Name())
		var meta struct {
			Name                 string  `yaml:"name"`
			CreationTimestamp    int64   `yaml:"creation_timestamp"`
			LastUpdatedTimestamp int64   `yaml:"last_updated_timestamp"`
			Description          *string `yaml:"description"`
		}
		if err := readYAML(filepath.Join(mdir, "meta.yaml"), &meta); err != nil {
			return nil, err
		}
		m := &Model{Model: registry.RegisteredModel{Name: meta.Name, CreationTimestamp: meta.CreationTimestamp, LastUpdatedTimestamp: meta.LastUpdatedTimestamp}}
		if meta.Description != nil {
			m.Model.Description = *meta.Description
		}
		if m.Model.Tags, err = readKV(filepath.Join(mdir, "tags")); err != nil {
			return nil, err
		}
		aliases, err := readKV(filepath.Join(mdir, "aliases"))
		if err != nil {
			return nil, err
		}
		for _, a := range aliases {
			m.Model.Aliases = append(m.Model.Aliases, registry.Alias{Alias: a.Key, Version: strings.TrimSpace(a.Value)})
		}
		vents, _ := os.ReadDir(mdir)
		for _, ve := range vents {
			if !ve.IsDir() || !strings.HasPrefix(ve.Name(), "version-") {
				continue
			}
			v, err := readVersion(filepath.Join(mdir, ve.Name()), meta.Name)
			if err != nil {
				return nil, err
			}
			m.Versions = append(m.Versions, v)
		}
		sort.Slice(m.Versions, func(i, j int) bool {
			a, _ := strconv.Atoi(m.Versions[i].Version)
			b, _ := strconv.Atoi(m.Versions[j].Version)
			return a < b
		})
		out = append(out, m)
	}
	return out, nil
}

func readVersion(dir, name string) (*registry.ModelVersion, error) {
	var meta struct {
		Version              int     `yaml:"version"`
		CreationTimestamp    int64   `yaml:"creation_timestamp"`
		LastUpdatedTimestamp int64   `yaml:"last_updated_timestamp"`
		CurrentStage         string  `yaml:"current_stage"`
		Description          *string `yaml:"description"`
		Source               string  `yaml:"source"`
		RunID                *string `yaml:"run_id"`
		RunLink              *string `yaml:"run_link"`
		Status               string  `yaml:"status"`
		StatusMessage        *string `yaml:"status_message"`
		StorageLocation      *string `yaml:"storage_location"`
		UserID               *string `yaml:"user_id"`
	}
	if err := readYAML(filepath.Join(dir, "meta.yaml"), &meta); err != nil {
		return nil, err
	}
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	v := &registry.ModelVersion{
		Name: name, Version: strconv.Itoa(meta.Version), CreationTimestamp: meta.CreationTimestamp, LastUpdatedTimestamp: meta.LastUpdatedTimestamp,
		CurrentStage: meta.CurrentStage, Description: s(meta.Description), Source: meta.Source, RunID: s(meta.RunID), RunLink: s(meta.RunLink),
		Status: meta.Status, StatusMessage: s(meta.StatusMessage), StorageLocation: s(meta.StorageLocation), UserID: s(meta.UserID),
	}
	if v.CurrentStage == "" {
		v.CurrentStage = registry.StageNone
	}
	tags, err := readKV(filepath.Join(dir, "tags"))
	v.Tags = tags
	return v, err
}
