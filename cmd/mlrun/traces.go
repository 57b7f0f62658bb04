package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/internal/tracedata"
	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// tracesCommand is mlflow traces: search, show, delete and tag traces,
// and log and manage their assessments.
func tracesCommand() *cli.Command {
	expFlag := &cli.StringFlag{Name: "experiment-id", Aliases: []string{"x"}, EnvVars: []string{"MLFLOW_EXPERIMENT_ID"},
		Usage: "the experiment (also MLFLOW_EXPERIMENT_ID)"}
	traceFlag := &cli.StringFlag{Name: "trace-id", Usage: "the trace (tr-…)"}
	asmFlag := &cli.StringFlag{Name: "assessment-id", Usage: "the assessment (a-…)"}
	// withTraces checks the flags a subcommand needs and opens the store.
	withTraces := func(c *cli.Context, need []string, fn func(store.Store, store.Traces, store.Assessments) error) error {
		for _, flag := range need {
			if c.String(flag) == "" {
				return fmt.Errorf("traces %s: give --%s", c.Command.Name, flag)
			}
		}
		return withStore(c, func(st store.Store) error {
			ts, ok := st.(store.Traces)
			if !ok {
				return fmt.Errorf("traces %s: this tracking store does not keep traces", c.Command.Name)
			}
			as, _ := st.(store.Assessments)
			if as == nil && (strings.Contains(c.Command.Name, "assessment") || strings.HasPrefix(c.Command.Name, "log-")) {
				return fmt.Errorf("traces %s: this tracking store does not keep assessments", c.Command.Name)
			}
			return fn(st, ts, as)
		})
	}
	sourceFlags := []cli.Flag{
		&cli.StringFlag{Name: "source-type", Usage: "HUMAN, LLM_JUDGE or CODE"},
		&cli.StringFlag{Name: "source-id", Usage: "who: an email, a model's name…"},
		&cli.StringFlag{Name: "metadata", Usage: "more, as a JSON object of strings"},
		&cli.StringFlag{Name: "span-id", Usage: "the span it is about"},
	}
	logAssessment := func(kind string) cli.ActionFunc {
		return func(c *cli.Context) error {
			if kind == "expectation" && !c.IsSet("value") {
				return fmt.Errorf("traces log-expectation: give --value")
			}
			a, err := assessmentFrom(c, kind)
			if err != nil {
				return err
			}
			return withTraces(c, []string{"trace-id", "name"}, func(_ store.Store, _ store.Traces, as store.Assessments) error {
				got, err := as.CreateAssessment(c.Context, a)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "Logged %s '%s' to trace %s. Assessment ID: %s\n", kind, got.Name, got.TraceID, got.ID)
				return nil
			})
		}
	}
	return &cli.Command{
		Name:  "traces",
		Usage: "search, show, delete and tag traces; log and manage their feedback and expectations (mlflow traces)",
		Subcommands: []*cli.Command{
			{
				Name:  "search",
				Usage: "search an experiment's traces",
				Flags: []cli.Flag{trackingFlag, expFlag,
					&cli.StringFlag{Name: "filter-string", Usage: "MLflow 3's trace filters, e.g. \"status = 'OK' AND timestamp_ms > 1700000000000\", \"tag.env LIKE 'prod%'\", \"span.type = 'LLM'\", \"feedback.rating = 'positive'\""},
					&cli.IntFlag{Name: "max-results", Value: 100, Usage: "at most this many"},
					&cli.StringFlag{Name: "order-by", Usage: "comma-separated, e.g. 'timestamp_ms DESC'"},
					&cli.StringFlag{Name: "page-token", Usage: "the next page of an earlier search"},
					&cli.StringFlag{Name: "run-id", Usage: "only the run's traces"},
					&cli.StringFlag{Name: "model-id", Usage: "only the traces of this MLflow 3 logged model (their mlflow.modelId metadata; not with --filter-string)"},
					&cli.BoolFlag{Name: "include-spans", Value: true, Usage: "with --output json, each trace's spans too (--no-include-spans: info only)"},
					&cli.StringFlag{Name: "output", Value: "table", Usage: "table or json"},
					extractFlag, verboseFlag,
				},
				Action: func(c *cli.Context) error {
					if o := c.String("output"); o != "table" && o != "json" {
						return fmt.Errorf("--output %s: want table or json", o)
					}
					return withTraces(c, []string{"experiment-id"}, func(st store.Store, ts store.Traces, as store.Assessments) error {
						filter := c.String("filter-string")
						if model := c.String("model-id"); model != "" {
							if filter != "" {
								return store.Invalidf("give --model-id or --filter-string, not both (as MLflow's search_traces)")
							}
							filter = fmt.Sprintf("request_metadata.`mlflow.modelId` = '%s'", strings.ReplaceAll(model, "'", ""))
						}
						if run := c.String("run-id"); run != "" {
							clause := fmt.Sprintf("run_id = '%s'", strings.ReplaceAll(run, "'", ""))
							if filter != "" {
								clause = filter + " AND " + clause
							}
							filter = clause
						}
						var order []string
						for _, o := range strings.Split(c.String("order-by"), ",") {
							if o = strings.TrimSpace(o); o != "" {
								order = append(order, o)
							}
						}
						list, next, err := ts.SearchTraces(c.Context, store.SearchTraces{ExperimentIDs: []string{c.String("experiment-id")},
							Filter: filter, OrderBy: order, MaxResults: c.Int("max-results"), PageToken: c.String("page-token")})
						if err != nil {
							return err
						}
						fields := c.String("extract-fields")
						if c.String("output") == "json" || fields != "" {
							traces := []any{}
							for i, t := range list {
								spans := fields == "" && c.Bool("include-spans") || fields != "" && !infoOnly(fields)
								d, err := traceDict(c, st, as, t, spans)
								if err != nil {
									return err
								}
								var v any = d
								if fields != "" && c.String("output") == "json" {
									if v, err = selectTraceFields(c, d, fields, i == 0); err != nil {
										return err
									}
								}
								traces = append(traces, v)
							}
							if c.String("output") == "table" {
								return fieldTable(c, traces, fields)
							}
							var token any
							if next != "" {
								token = next
							}
							return printJSON(c.App.Writer, map[string]any{"traces": traces, "next_page_token": token})
						}
						tw := table(c.App.Writer, "TRACE ID", "REQUEST TIME", "STATE", "DURATION", "REQUEST PREVIEW", "RESPONSE PREVIEW")
						for _, t := range list {
							w := wire.FromTraceInfoV3(t)
							fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", w.TraceID, fmtTime(t.TimestampMs), w.State, w.ExecutionDuration,
								preview(t.RequestPreview), preview(t.ResponsePreview))
						}
						if err := tw.Flush(); err != nil {
							return err
						}
						if next != "" {
							fmt.Fprintf(c.App.Writer, "\nNext page token: %s\n", next)
						}
						return nil
					})
				},
			},
			{
				Name:  "get",
				Usage: "print a trace as JSON: its info, assessments and spans",
				Flags: []cli.Flag{trackingFlag, traceFlag, extractFlag, verboseFlag},
				Action: func(c *cli.Context) error {
					return withTraces(c, []string{"trace-id"}, func(st store.Store, ts store.Traces, as store.Assessments) error {
						t, err := ts.GetTraceInfo(c.Context, c.String("trace-id"))
						if err != nil {
							return err
						}
						d, err := traceDict(c, st, as, t, true)
						if err != nil {
							return err
						}
						if f := c.String("extract-fields"); f != "" {
							v, err := selectTraceFields(c, d, f, true)
							if err != nil {
								return err
							}
							return printJSON(c.App.Writer, v)
						}
						return printJSON(c.App.Writer, d)
					})
				},
			},
			{
				Name:  "delete",
				Usage: "delete traces of an experiment: --trace-ids, or those before --max-timestamp-millis (at most --max-traces)",
				Flags: []cli.Flag{trackingFlag, expFlag, &cli.StringFlag{Name: "trace-ids", Usage: "comma-separated"},
					&cli.Int64Flag{Name: "max-timestamp-millis", Usage: "traces that started before this"},
					&cli.Int64Flag{Name: "max-traces", Usage: "at most this many of them, oldest first"}},
				Action: func(c *cli.Context) error {
					q := store.DeleteTraces{ExperimentID: c.String("experiment-id")}
					for _, id := range strings.Split(c.String("trace-ids"), ",") {
						if id = strings.TrimSpace(id); id != "" {
							q.RequestIDs = append(q.RequestIDs, id)
						}
					}
					if c.IsSet("max-timestamp-millis") {
						v := c.Int64("max-timestamp-millis")
						q.MaxTimestampMs = &v
					}
					if c.IsSet("max-traces") {
						v := c.Int64("max-traces")
						q.MaxTraces = &v
					}
					switch {
					case len(q.RequestIDs) > 0 && q.MaxTimestampMs != nil:
						return fmt.Errorf("traces delete: give --trace-ids or --max-timestamp-millis, not both")
					case len(q.RequestIDs) == 0 && q.MaxTimestampMs == nil:
						return fmt.Errorf("traces delete: give --trace-ids or --max-timestamp-millis")
					}
					return withTraces(c, []string{"experiment-id"}, func(_ store.Store, ts store.Traces, _ store.Assessments) error {
						n, err := ts.DeleteTraces(c.Context, q)
						if err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "Deleted %d trace(s) from experiment %s.\n", n, q.ExperimentID)
						return nil
					})
				},
			},
			{
				Name:  "set-tag",
				Usage: "set a tag on a trace",
				Flags: []cli.Flag{trackingFlag, traceFlag, &cli.StringFlag{Name: "key"}, &cli.StringFlag{Name: "value"}},
				Action: func(c *cli.Context) error {
					return withTraces(c, []string{"trace-id", "key"}, func(_ store.Store, ts store.Traces, _ store.Assessments) error {
						if err := ts.SetTraceTag(c.Context, c.String("trace-id"), c.String("key"), c.String("value")); err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "Set tag '%s' on trace %s.\n", c.String("key"), c.String("trace-id"))
						return nil
					})
				},
			},
			{
				Name:  "delete-tag",
				Usage: "delete a tag of a trace",
				Flags: []cli.Flag{trackingFlag, traceFlag, &cli.StringFlag{Name: "key"}},
				Action: func(c *cli.Context) error {
					return withTraces(c, []string{"trace-id", "key"}, func(_ store.Store, ts store.Traces, _ store.Assessments) error {
						if err := ts.DeleteTraceTag(c.Context, c.String("trace-id"), c.String("key")); err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "Deleted tag '%s' from trace %s.\n", c.String("key"), c.String("trace-id"))
						return nil
					})
				},
			},
			{
				Name:   "log-feedback",
				Usage:  "log feedback (a score, a label, any JSON) on a trace",
				Flags:  append([]cli.Flag{trackingFlag, traceFlag, &cli.StringFlag{Name: "name"}, &cli.StringFlag{Name: "value", Usage: "JSON, or else a string"}, &cli.StringFlag{Name: "rationale"}}, sourceFlags...),
				Action: logAssessment("feedback"),
			},
			{
				Name:   "log-expectation",
				Usage:  "log an expectation (ground truth) on a trace",
				Flags:  append([]cli.Flag{trackingFlag, traceFlag, &cli.StringFlag{Name: "name"}, &cli.StringFlag{Name: "value", Usage: "JSON, or else a string"}}, sourceFlags...),
				Action: logAssessment("expectation"),
			},
			{
				Name:  "get-assessment",
				Usage: "print an assessment as JSON",
				Flags: []cli.Flag{trackingFlag, traceFlag, asmFlag},
				Action: func(c *cli.Context) error {
					return withTraces(c, []string{"trace-id", "assessment-id"}, func(_ store.Store, _ store.Traces, as store.Assessments) error {
						a, err := as.GetAssessment(c.Context, c.String("trace-id"), c.String("assessment-id"))
						if err != nil {
							return err
						}
						return printJSON(c.App.Writer, wire.FromAssessment(a))
					})
				},
			},
			{
				Name:  "update-assessment",
				Usage: "change an assessment's value, rationale or metadata",
				Flags: []cli.Flag{trackingFlag, traceFlag, asmFlag, &cli.StringFlag{Name: "value", Usage: "JSON, or else a string"},
					&cli.StringFlag{Name: "rationale"}, &cli.StringFlag{Name: "metadata", Usage: "a JSON object of strings"}},
				Action: func(c *cli.Context) error {
					return withTraces(c, []string{"trace-id", "assessment-id"}, func(_ store.Store, _ store.Traces, as store.Assessments) error {
						cur, err := as.GetAssessment(c.Context, c.String("trace-id"), c.String("assessment-id"))
						if err != nil {
							return err
						}
						var mask []string
						if c.IsSet("value") {
							cur.Value, cur.Error = jsonValue(c.String("value")), ""
							mask = append(mask, cur.Type)
						}
						if c.IsSet("rationale") {
							if cur.Type == "expectation" {
								return fmt.Errorf("traces update-assessment: an expectation has no rationale")
							}
							cur.Rationale = c.String("rationale")
							mask = append(mask, "rationale")
						}
						if c.IsSet("metadata") {
							if cur.Metadata, err = metadataJSON(c.String("metadata")); err != nil {
								return err
							}
							mask = append(mask, "metadata")
						}
						if len(mask) == 0 {
							return fmt.Errorf("traces update-assessment: give --value, --rationale or --metadata")
						}
						if _, err := as.UpdateAssessment(c.Context, *cur, mask); err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "Updated assessment %s in trace %s.\n", cur.ID, cur.TraceID)
						return nil
					})
				},
			},
			{
				Name:  "delete-assessment",
				Usage: "delete an assessment of a trace",
				Flags: []cli.Flag{trackingFlag, traceFlag, asmFlag},
				Action: func(c *cli.Context) error {
					return withTraces(c, []string{"trace-id", "assessment-id"}, func(_ store.Store, _ store.Traces, as store.Assessments) error {
						if err := as.DeleteAssessment(c.Context, c.String("trace-id"), c.String("assessment-id")); err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "Deleted assessment %s from trace %s.\n", c.String("assessment-id"), c.String("trace-id"))
						return nil
					})
				},
			},
		},
	}
}

// extractFlag is --extract-fields of traces search and get; verboseFlag
// lists every field of the trace when one of them is not there.
var (
	extractFlag = &cli.StringFlag{Name: "extract-fields", Usage: "only these fields, comma-separated dot paths: info.trace_id, info.assessments.*, data.spans.*.name, info.tags.`mlflow.traceName`"}
	verboseFlag = &cli.BoolFlag{Name: "verbose", Usage: "when --extract-fields names a field the trace lacks, list all of its fields"}
)

// infoOnly reports whether every field is below info (no spans needed).
func infoOnly(fields string) bool {
	for _, f := range fieldList(fields) {
		if !strings.HasPrefix(f, "info.") && f != "info" {
			return false
		}
	}
	return true
}

// selectTraceFields is a trace's dict cut down to fields.
func selectTraceFields(c *cli.Context, d map[string]any, fields string, check bool) (any, error) {
	v, err := toGeneric(d)
	if err != nil {
		return nil, err
	}
	return selectFields(v, fields, check, c.Bool("verbose"))
}

// fieldTable prints one column per field, a row per trace.
func fieldTable(c *cli.Context, traces []any, fields string) error {
	cols := fieldList(fields)
	tw := table(c.App.Writer, cols...)
	for i, t := range traces {
		v, err := toGeneric(t)
		if err != nil {
			return err
		}
		if i == 0 {
			if _, err := selectFields(v, fields, true, c.Bool("verbose")); err != nil {
				return err
			}
		}
		cells := make([]string, len(cols))
		for j, f := range cols {
			cells[j] = preview(cellText(extractField(v, splitField(f))))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// assessmentFrom is the feedback or expectation log-feedback and
// log-expectation describe: MLflow's defaults are a CODE source for
// feedback and a HUMAN one for expectations.
func assessmentFrom(c *cli.Context, kind string) (store.Assessment, error) {
	a := store.Assessment{TraceID: c.String("trace-id"), Name: c.String("name"), Type: kind, Value: "null", SourceType: "CODE",
		SourceID: c.String("source-id"), SpanID: c.String("span-id"), Rationale: c.String("rationale"), Valid: true}
	if kind == "expectation" {
		a.SourceType = "HUMAN"
	}
	if c.IsSet("value") {
		a.Value = jsonValue(c.String("value"))
	}
	if st := c.String("source-type"); st != "" {
		switch st {
		case "HUMAN", "LLM_JUDGE", "CODE":
			a.SourceType = st
		default:
			return a, fmt.Errorf("--source-type %s: want HUMAN, LLM_JUDGE or CODE", st)
		}
	}
	var err error
	a.Metadata, err = metadataJSON(c.String("metadata"))
	return a, err
}

// jsonValue is a value given on the command line: JSON when it is, else
// a string (as mlflow traces takes it).
func jsonValue(v string) string {
	if json.Valid([]byte(v)) {
		return strings.TrimSpace(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// metadataJSON checks --metadata: a JSON object of strings.
func metadataJSON(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return "", fmt.Errorf("--metadata: want a JSON object of strings: %v", err)
	}
	return v, nil
}

// preview shortens a request or response preview for a table cell.
func preview(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return s
}

// traceDict is a trace as MLflow's Trace.to_dict writes it: {"info": the
// TraceInfo with its assessments, "data": its spans (traceData)}. Spans
// that cannot be read are said on standard error and left out.
func traceDict(c *cli.Context, st store.Store, as store.Assessments, t *store.TraceInfo, withSpans bool) (map[string]any, error) {
	info := wire.FromTraceInfoV3(t)
	if as != nil {
		list, err := as.TraceAssessments(c.Context, t.RequestID)
		if err != nil && !errors.Is(err, store.ErrUnsupported) {
			return nil, err
		}
		for _, a := range list {
			info.Assessments = append(info.Assessments, wire.FromAssessment(a))
		}
	}
	out := map[string]any{"info": info}
	if !withSpans {
		return out, nil
	}
	data, err := traceData(c, st, t)
	if err != nil {
		fmt.Fprintf(c.App.ErrWriter, "trace %s: no spans: %v\n", t.RequestID, err)
		data = json.RawMessage(`{"spans": []}`)
	}
	out["data"] = data
	return out, nil
}

// traceData reads a trace's spans where they are kept: the tracking
// store, or its traces.json (tracedata).
func traceData(c *cli.Context, st store.Store, t *store.TraceInfo) (json.RawMessage, error) {
	return tracedata.Read(c.Context, st, t, func(loc string) (artifact.Repository, error) { return artifactRepo(st, loc) })
}
