package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/internal/format"
	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

func runsCommand() *cli.Command {
	idFlag := &cli.StringFlag{Name: "run-id", Usage: "the run's id"}
	get := &cli.Command{
		Name:      "get",
		Usage:     "show one run: info, params, latest metrics, tags, datasets and the MLflow 3 logged models it used and produced",
		ArgsUsage: "[RUN_ID]",
		Flags:     []cli.Flag{trackingFlag, jsonFlag, idFlag},
		Action: func(c *cli.Context) error {
			id := firstOf(c.String("run-id"), c.Args().First())
			if id == "" {
				return fmt.Errorf("runs get: give --run-id ID")
			}
			return withStore(c, func(st store.Store) error {
				r, err := st.GetRun(c.Context, id)
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(c.App.Writer, map[string]any{"run": wire.FromRun(r)})
				}
				i := r.Info
				tw := table(c.App.Writer)
				fmt.Fprintf(tw, "run_id\t%s\nrun_name\t%s\nexperiment_id\t%s\nstatus\t%s\nlifecycle_stage\t%s\nuser\t%s\nstart\t%s\nend\t%s\nartifact_uri\t%s\n",
					i.RunID, i.RunName, i.ExperimentID, i.Status, i.LifecycleStage, i.UserID, fmtTime(i.StartTime), fmtEnd(i.EndTime), i.ArtifactURI)
				for _, p := range r.Params {
					fmt.Fprintf(tw, "param %s\t%s\n", p.Key, p.Value)
				}
				for _, m := range r.Metrics {
					fmt.Fprintf(tw, "metric %s\t%s (step %d)\n", m.Key, fmtFloat(m.Value), m.Step)
				}
				for _, t := range r.Tags {
					fmt.Fprintf(tw, "tag %s\t%s\n", t.Key, t.Value)
				}
				for _, in := range r.Inputs {
					ctx := ""
					for _, t := range in.Tags {
						if t.Key == "mlflow.data.context" {
							ctx = ", context " + t.Value
						}
					}
					fmt.Fprintf(tw, "dataset %s\tdigest %s%s\n", in.Dataset.Name, in.Dataset.Digest, ctx)
				}
				for _, id := range r.ModelInputs {
					fmt.Fprintf(tw, "model input\tmodels:/%s\n", id)
				}
				for _, o := range r.Outputs {
					fmt.Fprintf(tw, "logged model\tmodels:/%s (step %d)\n", o.ModelID, o.Step)
				}
				return tw.Flush()
			})
		},
	}
	return &cli.Command{
		Name:  "runs",
		Usage: "list and manage runs",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the runs of an experiment",
				Flags: []cli.Flag{trackingFlag, jsonFlag,
					&cli.StringFlag{Name: "experiment-id", Aliases: []string{"x"}, Value: "0", EnvVars: []string{"MLFLOW_EXPERIMENT_ID"}, Usage: "the experiment"},
					&cli.StringFlag{Name: "view", Aliases: []string{"v"}, Value: "active_only", Usage: "active_only, deleted_only or all"},
					&cli.StringFlag{Name: "filter", Usage: "MLflow filter, e.g. \"metrics.rmse < 1 and params.alpha = '0.5'\""},
					&cli.StringSliceFlag{Name: "order-by", Usage: "e.g. \"metrics.rmse DESC\" (repeatable)"},
					&cli.IntFlag{Name: "max-results", Value: 1000, Usage: "how many runs at most"},
				},
				Action: func(c *cli.Context) error {
					vt, err := store.ParseViewType(strings.ToUpper(c.String("view")))
					if err != nil {
						return err
					}
					return withStore(c, func(st store.Store) error {
						runs, _, err := st.SearchRuns(c.Context, store.SearchRuns{
							ExperimentIDs: strings.Split(c.String("experiment-id"), ","), Filter: c.String("filter"),
							OrderBy: c.StringSlice("order-by"), ViewType: vt, MaxResults: c.Int("max-results"),
						})
						if err != nil {
							return err
						}
						if c.Bool("json") {
							out := make([]wire.Run, len(runs))
							for i, r := range runs {
								out[i] = wire.FromRun(r)
							}
							return printJSON(c.App.Writer, map[string]any{"runs": out})
						}
						tw := table(c.App.Writer, "RUN ID", "NAME", "STATUS", "START", "METRICS", "PARAMS")
						for _, r := range runs {
							fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Info.RunID, r.Info.RunName, r.Info.Status,
								fmtTime(r.Info.StartTime), summarizeMetrics(r.Metrics), summarizeParams(r.Params))
						}
						return tw.Flush()
					})
				},
			},
			get,
			runsCreateCommand(),
			runsLinkTracesCommand(),
			{
				Name:      "describe",
				Usage:     "print one run as JSON, as mlflow runs describe (info; data's metrics, params and tags by key; inputs and outputs)",
				ArgsUsage: "[RUN_ID]",
				Flags:     []cli.Flag{trackingFlag, idFlag},
				Action: func(c *cli.Context) error {
					id := firstOf(c.String("run-id"), c.Args().First())
					if id == "" {
						return fmt.Errorf("runs describe: give --run-id ID")
					}
					return withStore(c, func(st store.Store) error {
						r, err := st.GetRun(c.Context, id)
						if err != nil {
							return err
						}
						b, err := json.MarshalIndent(describeRun(r), "", "    ")
						if err != nil {
							return err
						}
						fmt.Fprintln(c.App.Writer, string(b))
						return nil
					})
				},
			},
			lifecycleCommand("delete", "delete a run (restorable)", idFlag, func(st store.Store, c *cli.Context, id string) error {
				return st.DeleteRun(c.Context, id)
			}),
			lifecycleCommand("restore", "restore a deleted run", idFlag, func(st store.Store, c *cli.Context, id string) error {
				return st.RestoreRun(c.Context, id)
			}),
		},
	}
}

func fmtEnd(t *int64) string {
	if t == nil {
		return "-"
	}
	return fmtTime(*t)
}

func fmtFloat(v float64) string { return format.Float(v) }

func summarizeMetrics(ms []store.Metric) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, m.Key+"="+fmtFloat(m.Value))
	}
	return clip(strings.Join(parts, " "))
}

func summarizeParams(ps []store.Param) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.Key+"="+p.Value)
	}
	return clip(strings.Join(parts, " "))
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	if s == "" {
		return "-"
	}
	return s
}

// describeRun is a run as mlflow runs describe prints it (Run.to_dictionary):
// info with MLflow's RunInfo fields, data's metrics (latest values), params
// and tags as objects by key, its inputs (datasets, logged models) and
// outputs (logged models, with their steps). NaN and infinite metrics, which JSON cannot
// hold, are the strings MLflow's REST API uses ("NaN", "Infinity").
func describeRun(r *store.Run) map[string]any {
	i := r.Info
	var end any
	if i.EndTime != nil {
		end = *i.EndTime
	}
	metrics, params, tags := map[string]any{}, map[string]string{}, map[string]string{}
	for _, m := range r.Metrics {
		switch {
		case math.IsNaN(m.Value):
			metrics[m.Key] = "NaN"
		case math.IsInf(m.Value, 1):
			metrics[m.Key] = "Infinity"
		case math.IsInf(m.Value, -1):
			metrics[m.Key] = "-Infinity"
		default:
			metrics[m.Key] = m.Value
		}
	}
	for _, p := range r.Params {
		params[p.Key] = p.Value
	}
	for _, t := range r.Tags {
		tags[t.Key] = t.Value
	}
	// MLflow 3's RunInputs and RunOutputs.to_dictionary. (MLflow's own
	// command fails on a run with model inputs, whose entries it leaves
	// as objects json cannot write; they are {"model_id": …} here.)
	datasets, modelIns, modelOuts := []any{}, []any{}, []any{}
	for _, in := range r.Inputs {
		d := in.Dataset
		itags := map[string]string{}
		for _, t := range in.Tags {
			itags[t.Key] = t.Value
		}
		datasets = append(datasets, map[string]any{"dataset": map[string]any{"name": d.Name, "digest": d.Digest, "source_type": d.SourceType,
			"source": d.Source, "schema": nilIfEmpty(d.Schema), "profile": nilIfEmpty(d.Profile)}, "tags": itags})
	}
	for _, id := range r.ModelInputs {
		modelIns = append(modelIns, map[string]any{"model_id": id})
	}
	for _, o := range r.Outputs {
		modelOuts = append(modelOuts, map[string]any{"model_id": o.ModelID, "step": o.Step})
	}
	return map[string]any{
		"info": map[string]any{"artifact_uri": i.ArtifactURI, "end_time": end, "experiment_id": i.ExperimentID, "lifecycle_stage": i.LifecycleStage,
			"run_id": i.RunID, "run_name": i.RunName, "run_uuid": i.RunID, "start_time": i.StartTime, "status": string(i.Status), "user_id": i.UserID},
		"data":    map[string]any{"metrics": metrics, "params": params, "tags": tags},
		"inputs":  map[string]any{"model_inputs": modelIns, "dataset_inputs": datasets},
		"outputs": map[string]any{"model_outputs": modelOuts},
	}
}

// nilIfEmpty is s, or nil (JSON null, Python's None) when s is empty.
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
