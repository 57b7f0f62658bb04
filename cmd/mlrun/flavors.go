package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/internal/inputexample"
	"github.com/mlrun/mlrun/plugins"
	"github.com/mlrun/mlrun/plugins/builtin"
	"github.com/mlrun/mlrun/plugins/flavor"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/runner/launch"
	"github.com/mlrun/mlrun/store"
)

// flavorServeCommand is `mlrun __flavor NAME`: mlrun serving one of its
// built-in flavors as a plugin process.
func flavorServeCommand() *cli.Command {
	return &cli.Command{
		Name:   "__flavor",
		Hidden: true,
		Action: func(c *cli.Context) error {
			f, ok := builtin.Flavors[c.Args().First()]
			if !ok {
				return fmt.Errorf("no built-in flavor %q", c.Args().First())
			}
			flavor.Serve(f)
			return nil
		},
	}
}

// pluginOptions are the host's options: built-ins served by this very
// executable, the rest found as mlrun-flavor-* executables.
func pluginOptions() plugins.Options {
	o := plugins.Options{Builtin: builtin.Names()}
	if exe, err := os.Executable(); err == nil {
		o.SelfCommand = []string{exe, "__flavor"}
	}
	return o.FromEnv()
}

// inspectModel runs the named flavor on path, or, with no name, each
// available flavor (those whose patterns match the file first) until one
// reads it.
func inspectModel(ctx context.Context, path, name string) (*plugins.Plugin, *flavor.Model, error) {
	o := pluginOptions()
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("model file: %w", err)
	}
	abs, _ := filepath.Abs(path)
	try := func(n string) (*plugins.Plugin, *flavor.Model, error) {
		p, err := plugins.Open(ctx, n, o)
		if err != nil {
			return nil, nil, err
		}
		m, err := p.Inspect(ctx, &flavor.InspectRequest{Path: abs})
		if err != nil {
			p.Close()
			return nil, nil, err
		}
		return p, m, nil
	}
	if name != "" {
		return try(name)
	}
	found := plugins.List(o)
	sort.SliceStable(found, func(i, j int) bool { return matches(found[i].Name, abs) && !matches(found[j].Name, abs) })
	var reasons []string
	for _, f := range found {
		p, m, err := try(f.Name)
		if err == nil {
			return p, m, nil
		}
		reasons = append(reasons, err.Error())
	}
	return nil, nil, fmt.Errorf("no flavor reads %s: %s", path, strings.Join(reasons, "; "))
}

// matches is a cheap guess from the extension, to try the likely flavor first.
func matches(name, path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	switch name {
	case "sklearn":
		return ext == ".pkl" || ext == ".pickle" || ext == ".joblib"
	case "xgboost":
		return ext == ".json" || ext == ".ubj" || ext == ".xgb"
	case "onnx":
		return ext == ".onnx"
	}
	return false
}

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name: "inspect", Usage: "read a model file without running it (sklearn, xgboost, onnx, or a plugin flavor)", ArgsUsage: "FILE",
		Flags: []cli.Flag{jsonFlag, &cli.StringFlag{Name: "flavor", Usage: "the flavor (default: detected from the file)"}},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return errors.New("models inspect: want one FILE")
			}
			p, m, err := inspectModel(c.Context, c.Args().First(), c.String("flavor"))
			if err != nil {
				return err
			}
			defer p.Close()
			if c.Bool("json") {
				return printJSON(c.App.Writer, map[string]any{"flavor": p.Name, "facts": m.Facts, "flavor_block": m.Flavor,
					"signature": map[string]string{"inputs": m.SignatureInputs, "outputs": m.SignatureOutputs}, "requirements": m.Requirements})
			}
			tw := table(c.App.Writer)
			fmt.Fprintf(tw, "flavor\t%s\n", p.Name)
			var keys []string
			for k := range m.Facts {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\n", k, m.Facts[k])
			}
			if m.SignatureInputs != "" {
				fmt.Fprintf(tw, "signature inputs\t%s\n", m.SignatureInputs)
			}
			if m.SignatureOutputs != "" {
				fmt.Fprintf(tw, "signature outputs\t%s\n", m.SignatureOutputs)
			}
			fmt.Fprintf(tw, "requirements\t%s\n", strings.Join(m.Requirements, " "))
			return tw.Flush()
		},
	}
}

func logModelCommand() *cli.Command {
	return &cli.Command{
		Name: "log", Usage: "log a model file into a run as an MLflow model (an MLflow 3 logged model; the run's artifacts on MLflow 2 databases), and optionally register it", ArgsUsage: "FILE",
		Flags: []cli.Flag{trackingFlag, registryFlag, jsonFlag,
			&cli.StringFlag{Name: "flavor", Usage: "the flavor (default: detected from the file)"},
			&cli.StringFlag{Name: "run-id", EnvVars: []string{"MLFLOW_RUN_ID"}, Usage: "the run (default $MLFLOW_RUN_ID; a new run if unset)"},
			&cli.StringFlag{Name: "experiment-id", EnvVars: []string{"MLFLOW_EXPERIMENT_ID"}, Value: "0", Usage: "experiment of a new run"},
			&cli.StringFlag{Name: "name", Aliases: []string{"artifact-path"}, Value: "model", Usage: "the model's name, as MLflow 3's log_model(name=…) (--artifact-path, MLflow 2's word: on MLflow 2 databases, its folder in the run's artifacts)"},
			&cli.StringFlag{Name: "registered-model-name", Usage: "also register the logged model under this name"},
			&cli.StringSliceFlag{Name: "tag", Usage: "KEY=VALUE (repeatable): a tag of the logged model and of the registered version, as log_model(tags=…)"},
			&cli.StringSliceFlag{Name: "param", Usage: "KEY=VALUE (repeatable): a param of the logged model, beside the run's (the run's win), as log_model(params=…)"},
			&cli.StringFlag{Name: "model-type", Usage: "the logged model's type, as log_model(model_type=…)"},
			&cli.Int64Flag{Name: "step", Usage: "the step the model is logged at, as MLflow 3's log_model(step=…): the run's output at that step, the run's metrics at that step linked to it"},
			&cli.StringFlag{Name: "input-example", Usage: "a DataFrame the model takes (dataframe_split or dataframe_records JSON, or a CSV with a header): saved with the model as MLflow's log_model saves input_example, and its columns are the signature's inputs when the file states none"},
			&cli.StringFlag{Name: "python", Value: "python3", Usage: "the Python environment the model comes from: requirements the file does not pin (cloudpickle, onnx…) and python_version are taken from it, as MLflow takes them from the process that logs"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return errors.New("models log: want one FILE")
			}
			tags, err := tagFlags(c)
			if err != nil {
				return err
			}
			kvs, err := keyValues(c, "param")
			if err != nil {
				return err
			}
			var params []store.Param
			for _, kv := range kvs {
				params = append(params, store.Param(kv))
			}
			var example *inputexample.Example
			if path := c.String("input-example"); path != "" {
				var err error
				if example, err = inputexample.Read(path); err != nil {
					return err
				}
			}
			p, m, err := inspectModel(c.Context, c.Args().First(), c.String("flavor"))
			if err != nil {
				return err
			}
			defer p.Close()
			req := &flavor.SaveRequest{}
			if env, err := probeLoggingEnv(c.Context, c.String("python"), m.Requirements); err != nil {
				fmt.Fprintf(c.App.ErrWriter, "mlrun: requirements left unpinned (%v); --python names the environment the model comes from\n", err)
			} else {
				req.PythonVersion, req.Installed = env.Python, env.Installed
				if left := unpinned(flavor.PinRequirements(m.Requirements, env.Installed)); len(left) > 0 {
					fmt.Fprintf(c.App.ErrWriter, "mlrun: %s not installed in %s: left unpinned\n", strings.Join(left, ", "), c.String("python"))
				}
			}
			dir, err := os.MkdirTemp("", "mlrun-model-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			abs, _ := filepath.Abs(c.Args().First())
			req.Path, req.DestDir = abs, filepath.Join(dir, "model")
			saved, err := p.Save(c.Context, req)
			if err != nil {
				return err
			}
			if example != nil {
				if err := saveExample(example, req.DestDir, saved); err != nil {
					return err
				}
			}
			artPath, err := artifact.CleanPath(c.String("name"))
			if err != nil || artPath == "" {
				return fmt.Errorf("--name %q: want a name, or a relative folder", c.String("name"))
			}
			return withRegistry(c, func(st store.Store, reg registry.Store) error {
				runID := c.String("run-id")
				if runID == "" {
					// With the runner's tags: killed before it ends the run,
					// the next mlrun on this host ends it (launch.Reap).
					r, err := st.CreateRun(c.Context, store.CreateRun{ExperimentID: c.String("experiment-id"), UserID: launch.CurrentUser(),
						StartTime: time.Now().UnixMilli(), Tags: append([]store.Tag{{Key: "mlflow.user", Value: launch.CurrentUser()}}, launch.RunnerTags()...)})
					if err != nil {
						return err
					}
					runID = r.Info.RunID
					end := time.Now().UnixMilli()
					fin := store.StatusFinished
					defer st.UpdateRun(context.WithoutCancel(c.Context), runID, store.UpdateRun{Status: &fin, EndTime: &end})
				}
				run, err := st.GetRun(c.Context, runID)
				if err != nil {
					return err
				}
				model := filepath.Join(dir, "model")
				// MLflow 3's log_model, where the store keeps logged
				// models; MLflow 2's (the run's artifacts) where not.
				id, err := logLoggedModel(c, st, run, loggedModel{name: artPath, tags: tags, params: params}, model, saved.Files)
				if errors.Is(err, store.ErrUnsupported) {
					if err := logRunModel(c, st, run, artPath, model, saved.Files); err != nil {
						return err
					}
					fmt.Fprintf(c.App.ErrWriter, "Logged %s model as runs:/%s/%s\n", p.Name, runID, artPath)
					if len(params) > 0 || c.String("model-type") != "" {
						fmt.Fprintf(c.App.ErrWriter, "mlrun: --param and --model-type need a store that keeps MLflow 3 logged models: not recorded\n")
					}
				} else if err != nil {
					return err
				} else {
					fmt.Fprintf(c.App.ErrWriter, "Logged %s model %s as models:/%s (runs:/%s/%s)\n", p.Name, id, id, runID, artPath)
				}
				if name := c.String("registered-model-name"); name != "" {
					if _, err := reg.CreateRegisteredModel(c.Context, name, nil, ""); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
						return err
					}
					cv := registry.CreateVersion{Name: name, Source: strings.TrimRight(run.Info.ArtifactURI, "/") + "/" + artPath, RunID: runID, Tags: tags}
					if id != "" {
						cv.Source, cv.ModelID = "models:/"+id, id
					}
					v, err := reg.CreateModelVersion(c.Context, cv)
					if err != nil {
						return err
					}
					fmt.Fprintf(c.App.ErrWriter, "Registered version %s of model '%s'\n", v.Version, name)
				}
				if id != "" {
					fmt.Fprintf(c.App.Writer, "models:/%s\n", id)
				} else {
					fmt.Fprintf(c.App.Writer, "runs:/%s/%s\n", runID, artPath)
				}
				return nil
			})
		},
	}
}

// saveExample writes the input example into the saved model in dir, as
// MLflow's log_model writes input_example: its files, the MLmodel's
// saved_input_example_info, and the example's columns as the signature's
// inputs when the model file stated no signature.
func saveExample(e *inputexample.Example, dir string, saved *flavor.SaveResponse) error {
	files, err := e.Write(dir)
	if err != nil {
		return fmt.Errorf("input example: %w", err)
	}
	keys := map[string]any{"saved_input_example_info": inputexample.Info()}
	if saved.Model.SignatureInputs == "" && saved.Model.SignatureOutputs == "" {
		keys["signature"] = map[string]any{"inputs": e.Schema(), "outputs": nil, "params": nil}
	}
	if err := stampMLmodel(filepath.Join(dir, "MLmodel"), keys); err != nil {
		return err
	}
	saved.Files = append(saved.Files, files...)
	return nil
}

// stampMLmodel adds keys to a saved MLmodel (run_id, artifact_path: what
// mlflow.models.get_model_info reads), keeping the others.
func stampMLmodel(path string, keys map[string]any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("the saved MLmodel is not a YAML mapping: %v", err)
	}
	m := doc.Content[0]
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		var val yaml.Node
		if err := val.Encode(keys[k]); err != nil {
			return err
		}
		replaced := false
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == k {
				m.Content[i+1], replaced = &val, true
			}
		}
		if !replaced {
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &val)
		}
	}
	// MLflow writes MLmodel with sorted keys.
	pairs := make([][2]*yaml.Node, 0, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		pairs = append(pairs, [2]*yaml.Node{m.Content[i], m.Content[i+1]})
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i][0].Value < pairs[j][0].Value })
	m.Content = m.Content[:0]
	for _, p := range pairs {
		m.Content = append(m.Content, p[0], p[1])
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// recordModel appends the model to the run's mlflow.log-model.history tag
// (runs/log-model on a server), as MLflow's log_model does.
func recordModel(ctx context.Context, st store.Store, runID, artPath, mlmodelPath string) error {
	b, err := os.ReadFile(mlmodelPath)
	if err != nil {
		return err
	}
	var mm map[string]any
	if err := yaml.Unmarshal(b, &mm); err != nil {
		return fmt.Errorf("read the saved MLmodel: %w", err)
	}
	model := map[string]any{
		"run_id": runID, "artifact_path": artPath, "utc_time_created": mm["utc_time_created"],
		"flavors": mm["flavors"], "model_uuid": mm["model_uuid"], "mlflow_version": mm["mlflow_version"],
	}
	js, err := json.Marshal(model)
	if err != nil {
		return err
	}
	return st.LogModel(ctx, runID, string(js))
}

// logRunModel logs the saved model in dir into the run's artifacts at
// artPath and records it in the run's mlflow.log-model.history, as
// MLflow 2's log_model does.
func logRunModel(c *cli.Context, st store.Store, run *store.Run, artPath, dir string, files []string) error {
	repo, err := artifactRepo(st, run.Info.ArtifactURI)
	if err != nil {
		return err
	}
	if err := stampMLmodel(filepath.Join(dir, "MLmodel"), map[string]any{"run_id": run.Info.RunID, "artifact_path": artPath}); err != nil {
		return err
	}
	for _, f := range files {
		if err := uploadFile(c, repo, filepath.Join(dir, f), artPath+"/"+f); err != nil {
			return err
		}
	}
	return recordModel(c.Context, st, run.Info.RunID, artPath, filepath.Join(dir, "MLmodel"))
}

// logLoggedModel logs the saved model in dir as MLflow 3's log_model
// does and returns its id: a logged model named name, made by the run
// (with the run's params and its user and source tags), its files in
// the model's own artifact folder (MLmodel naming the model, the run and
// that folder), linked as the run's output at --step, the run's metrics
// at that step linked to it, then READY; or UPLOAD_FAILED and the error. It returns
// store.ErrUnsupported when the store keeps no logged models (MLflow 2
// databases and servers).
func logLoggedModel(c *cli.Context, st store.Store, run *store.Run, spec loggedModel, dir string, files []string) (string, error) {
	lm, ok := st.(store.LoggedModels)
	if !ok {
		return "", store.ErrUnsupported
	}
	// The run's user and source tags, then the given ones; the given
	// params, then the run's (MLflow's merge: the run's win).
	var tags []store.Tag
	for _, k := range []string{"mlflow.user", "mlflow.source.name", "mlflow.source.type"} {
		if v, ok := run.Tag(k); ok {
			tags = append(tags, store.Tag{Key: k, Value: v})
		}
	}
	tags = mergeKV(tags, spec.tags)
	params := make([]store.Param, 0, len(spec.params)+len(run.Params))
	for _, p := range spec.params {
		if !slices.ContainsFunc(run.Params, func(q store.Param) bool { return q.Key == p.Key }) {
			params = append(params, p)
		}
	}
	params = append(params, run.Params...)
	m, err := lm.CreateLoggedModel(c.Context, store.LoggedModel{ExperimentID: run.Info.ExperimentID, Name: spec.name, SourceRunID: run.Info.RunID,
		ModelType: c.String("model-type"), Params: params, Tags: tags})
	if err != nil {
		return "", err
	}
	step := c.Int64("step")
	err = lm.LogOutputs(c.Context, run.Info.RunID, []store.ModelOutput{{ModelID: m.ModelID, Step: step}})
	if err == nil {
		err = linkStepMetrics(c.Context, st, run, m.ModelID, step)
	}
	if err == nil {
		err = stampMLmodel(filepath.Join(dir, "MLmodel"), map[string]any{"run_id": run.Info.RunID, "artifact_path": m.ArtifactURI,
			"model_uuid": m.ModelID, "model_id": m.ModelID})
	}
	if err == nil {
		var repo artifact.Repository
		if repo, err = artifactRepo(st, m.ArtifactURI); err == nil {
			for _, f := range files {
				if err = uploadFile(c, repo, filepath.Join(dir, f), f); err != nil {
					break
				}
			}
		}
	}
	status := "LOGGED_MODEL_READY"
	if err != nil {
		status = "LOGGED_MODEL_UPLOAD_FAILED"
	}
	if _, ferr := lm.FinalizeLoggedModel(c.Context, m.ModelID, status); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		return "", fmt.Errorf("logged model %s: %w", m.ModelID, err)
	}
	return m.ModelID, nil
}

// loggedModel is what logLoggedModel makes of the command's flags.
type loggedModel struct {
	name   string
	tags   []store.Tag
	params []store.Param
}

// mergeKV is tags with more's set over them (a key keeps its place).
func mergeKV(tags, more []store.Tag) []store.Tag {
	for _, t := range more {
		if i := slices.IndexFunc(tags, func(x store.Tag) bool { return x.Key == t.Key }); i >= 0 {
			tags[i] = t
		} else {
			tags = append(tags, t)
		}
	}
	return tags
}

// linkStepMetrics logs the run's metrics at step again with the logged
// model's id, as MLflow 3's log_model does for the step it logs the
// model at, so the model shows them.
func linkStepMetrics(ctx context.Context, st store.Store, run *store.Run, modelID string, step int64) error {
	var link []store.Metric
	for _, latest := range run.Metrics {
		tok := ""
		for {
			hist, next, err := st.GetMetricHistory(ctx, run.Info.RunID, latest.Key, 0, tok)
			if err != nil {
				return err
			}
			for _, m := range hist {
				if m.Step == step && m.ModelID == "" {
					m.ModelID = modelID
					link = append(link, m)
				}
			}
			if next == "" {
				break
			}
			tok = next
		}
	}
	for len(link) > 0 { // MLflow's batch takes 1,000 metrics at most
		n := min(len(link), 1000)
		if err := st.LogBatch(ctx, run.Info.RunID, link[:n], nil, nil); err != nil {
			return err
		}
		link = link[n:]
	}
	return nil
}
