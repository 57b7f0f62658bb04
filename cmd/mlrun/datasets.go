package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// datasetsCommand is mlflow datasets: MLflow 3's GenAI evaluation
// datasets, with mlrun's own create, records, merge and delete.
func datasetsCommand() *cli.Command {
	expFlag := &cli.StringFlag{Name: "experiment-id", Aliases: []string{"x"}, EnvVars: []string{"MLFLOW_EXPERIMENT_ID"},
		Usage: "the experiment (also MLFLOW_EXPERIMENT_ID)"}
	idFlag := &cli.StringFlag{Name: "dataset-id", Aliases: []string{"d"}, Usage: "the dataset (d-…)"}
	withDatasets := func(c *cli.Context, need map[string]string, fn func(store.EvaluationDatasets) error) error {
		for flag, what := range need {
			if c.String(flag) == "" {
				return fmt.Errorf("datasets %s: give --%s %s", c.Command.Name, flag, what)
			}
		}
		return withStore(c, func(st store.Store) error {
			ds, ok := st.(store.EvaluationDatasets)
			if !ok {
				return fmt.Errorf("datasets %s: this tracking store does not keep evaluation datasets", c.Command.Name)
			}
			return fn(ds)
		})
	}
	return &cli.Command{
		Name:  "datasets",
		Usage: "list, create, fill and delete GenAI evaluation datasets (mlflow datasets)",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the evaluation datasets of an experiment, newest first",
				Flags: []cli.Flag{trackingFlag, expFlag,
					&cli.StringFlag{Name: "filter-string", Usage: "e.g. \"name LIKE 'qa_%'\" or \"tags.team = 'ds'\""},
					&cli.IntFlag{Name: "max-results", Value: 50, Usage: "at most this many"},
					&cli.StringFlag{Name: "order-by", Usage: "comma-separated, e.g. 'last_update_time DESC'"},
					&cli.StringFlag{Name: "page-token", Usage: "the next page of an earlier listing"},
					&cli.StringFlag{Name: "output", Value: "table", Usage: "table or json (mlflow datasets list's)"},
				},
				Action: func(c *cli.Context) error {
					if o := c.String("output"); o != "table" && o != "json" {
						return fmt.Errorf("--output %s: want table or json", o)
					}
					return withDatasets(c, map[string]string{"experiment-id": "ID (or set MLFLOW_EXPERIMENT_ID)"}, func(ds store.EvaluationDatasets) error {
						var order []string
						for _, o := range strings.Split(c.String("order-by"), ",") {
							if o = strings.TrimSpace(o); o != "" {
								order = append(order, o)
							}
						}
						list, next, err := ds.SearchEvaluationDatasets(c.Context, store.SearchEvaluationDatasets{ExperimentIDs: []string{c.String("experiment-id")},
							Filter: c.String("filter-string"), MaxResults: c.Int("max-results"), OrderBy: order, PageToken: c.String("page-token")})
						if err != nil {
							return err
						}
						if c.String("output") == "json" {
							type row struct {
								DatasetID      string            `json:"dataset_id"`
								Name           string            `json:"name"`
								Digest         string            `json:"digest"`
								CreatedTime    int64             `json:"created_time"`
								LastUpdateTime int64             `json:"last_update_time"`
								CreatedBy      *string           `json:"created_by"`
								LastUpdatedBy  *string           `json:"last_updated_by"`
								Tags           map[string]string `json:"tags"`
							}
							rows := []row{}
							for _, d := range list {
								r := row{DatasetID: d.ID, Name: d.Name, Digest: d.Digest, CreatedTime: d.CreatedTime, LastUpdateTime: d.LastUpdateTime, Tags: map[string]string{}}
								if d.CreatedBy != "" {
									r.CreatedBy = &d.CreatedBy
								}
								if d.LastUpdatedBy != "" {
									r.LastUpdatedBy = &d.LastUpdatedBy
								}
								for _, t := range d.Tags {
									r.Tags[t.Key] = t.Value
								}
								rows = append(rows, r)
							}
							var token *string
							if next != "" {
								token = &next
							}
							return printJSON(c.App.Writer, map[string]any{"datasets": rows, "next_page_token": token})
						}
						tw := table(c.App.Writer, "DATASET ID", "NAME", "CREATED", "LAST UPDATED", "CREATED BY")
						for _, d := range list {
							fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.ID, d.Name, fmtTime(d.CreatedTime), fmtTime(d.LastUpdateTime), d.CreatedBy)
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
				Name:  "create",
				Usage: "create an evaluation dataset linked to experiments and print its id",
				Flags: []cli.Flag{trackingFlag, &cli.StringFlag{Name: "name", Aliases: []string{"n"}, Usage: "its name"},
					&cli.StringSliceFlag{Name: "experiment-id", Aliases: []string{"x"}, EnvVars: []string{"MLFLOW_EXPERIMENT_ID"}, Usage: "an experiment to link it to (repeatable)"},
					&cli.StringSliceFlag{Name: "tag", Usage: "KEY=VALUE (repeatable)"}},
				Action: func(c *cli.Context) error {
					tags, err := tagFlags(c)
					if err != nil {
						return err
					}
					return withDatasets(c, map[string]string{"name": "NAME"}, func(ds store.EvaluationDatasets) error {
						d, err := ds.CreateEvaluationDataset(c.Context, c.String("name"), tags, c.StringSlice("experiment-id"))
						if err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "Created evaluation dataset '%s' with id %s\n", d.Name, d.ID)
						return nil
					})
				},
			},
			{
				Name:  "records",
				Usage: "print a dataset's records, one JSON object a line (as MLflow's DatasetRecord.to_dict)",
				Flags: []cli.Flag{trackingFlag, idFlag},
				Action: func(c *cli.Context) error {
					return withDatasets(c, map[string]string{"dataset-id": "ID"}, func(ds store.EvaluationDatasets) error {
						tok := ""
						for {
							recs, next, err := ds.DatasetRecords(c.Context, c.String("dataset-id"), 1000, tok)
							if err != nil {
								return err
							}
							for _, r := range recs {
								fmt.Fprintf(c.App.Writer, "%s\n", wire.DatasetRecordJSON(nil, r))
							}
							if tok = next; tok == "" {
								return nil
							}
						}
					})
				},
			},
			{
				Name:      "merge",
				Usage:     "merge records into a dataset (as merge_records): FILE (or - for standard input) is a JSON list or one JSON record a line, each with inputs and optionally outputs, expectations, tags, source",
				ArgsUsage: "FILE",
				Flags:     []cli.Flag{trackingFlag, idFlag},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return fmt.Errorf("datasets merge: give the records' FILE (or - for standard input)")
					}
					var in io.Reader = c.App.Reader
					if f := c.Args().First(); f != "-" {
						file, err := os.Open(f)
						if err != nil {
							return fmt.Errorf("datasets merge: %w", err)
						}
						defer file.Close()
						in = file
					}
					records, err := readRecords(in)
					if err != nil {
						return fmt.Errorf("datasets merge: %s: %w", c.Args().First(), err)
					}
					return withDatasets(c, map[string]string{"dataset-id": "ID"}, func(ds store.EvaluationDatasets) error {
						ins, upd, err := ds.UpsertDatasetRecords(c.Context, c.String("dataset-id"), records)
						if err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "Merged %d records into %s: %d new, %d updated\n", len(records), c.String("dataset-id"), ins, upd)
						return nil
					})
				},
			},
			{
				Name:  "add-traces",
				Usage: "add traces to a dataset as records (mlflow datasets add-traces): the root span's inputs and outputs, the trace's expectations; a trace added again is merged",
				Flags: []cli.Flag{trackingFlag, idFlag, &cli.StringFlag{Name: "trace-ids", Usage: "comma-separated"},
					&cli.StringFlag{Name: "output", Value: "table", Usage: "table or json"}},
				Action: func(c *cli.Context) error {
					var ids []string
					for _, id := range strings.Split(c.String("trace-ids"), ",") {
						if id = strings.TrimSpace(id); id != "" {
							ids = append(ids, id)
						}
					}
					if len(ids) == 0 {
						return fmt.Errorf("datasets add-traces: give --trace-ids with at least one trace id")
					}
					if o := c.String("output"); o != "table" && o != "json" {
						return fmt.Errorf("--output %s: want table or json", o)
					}
					return withDatasets(c, map[string]string{"dataset-id": "ID"}, func(ds store.EvaluationDatasets) error {
						st := ds.(store.Store)
						ts, ok := st.(store.Traces)
						if !ok {
							return fmt.Errorf("datasets add-traces: this tracking store does not keep traces")
						}
						as, _ := st.(store.Assessments)
						var records []json.RawMessage
						for _, id := range ids {
							rec, err := traceRecord(c, st, ts, as, id)
							if err != nil {
								return fmt.Errorf("datasets add-traces: trace %s: %w", id, err)
							}
							records = append(records, rec)
						}
						if _, _, err := ds.UpsertDatasetRecords(c.Context, c.String("dataset-id"), records); err != nil {
							return err
						}
						d, err := ds.GetEvaluationDataset(c.Context, c.String("dataset-id"))
						if err != nil {
							return err
						}
						if c.String("output") == "json" {
							return printJSON(c.App.Writer, map[string]any{"dataset_id": d.ID, "name": d.Name, "digest": d.Digest, "added_trace_ids": ids})
						}
						fmt.Fprintf(c.App.Writer, "Added %d trace(s) to dataset %s (%s).\nDigest: %s\n", len(ids), d.ID, d.Name, d.Digest)
						return nil
					})
				},
			},
			{
				Name:  "delete",
				Usage: "delete a dataset with its records",
				Flags: []cli.Flag{trackingFlag, idFlag},
				Action: func(c *cli.Context) error {
					return withDatasets(c, map[string]string{"dataset-id": "ID"}, func(ds store.EvaluationDatasets) error {
						if _, err := ds.GetEvaluationDataset(c.Context, c.String("dataset-id")); err != nil {
							return err
						}
						if err := ds.DeleteEvaluationDataset(c.Context, c.String("dataset-id")); err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "Deleted evaluation dataset %s\n", c.String("dataset-id"))
						return nil
					})
				},
			},
		},
	}
}

// readRecords reads records given as one JSON list, or as JSON Lines.
func readRecords(r io.Reader) ([]json.RawMessage, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(t, &list); err != nil {
			return nil, fmt.Errorf("not a JSON list of records: %w", err)
		}
		return list, nil
	}
	var out []json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) {
			return nil, fmt.Errorf("line %d is not JSON", n)
		}
		out = append(out, append(json.RawMessage(nil), line...))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no records")
	}
	return out, nil
}

// tagFlags reads the repeatable --tag KEY=VALUE flag.
func tagFlags(c *cli.Context) ([]store.Tag, error) { return keyValues(c, "tag") }

// keyValues reads a repeatable KEY=VALUE flag.
func keyValues(c *cli.Context, flag string) ([]store.Tag, error) {
	var kvs []store.Tag
	for _, kv := range c.StringSlice(flag) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s %q: want KEY=VALUE", flag, kv)
		}
		kvs = append(kvs, store.Tag{Key: k, Value: v})
	}
	return kvs, nil
}

// traceRecord is a trace as MLflow's merge_records turns it into a
// record: its root span's inputs and outputs, its expectations (name →
// value), and a TRACE source naming it (and its session).
func traceRecord(c *cli.Context, st store.Store, ts store.Traces, as store.Assessments, id string) (json.RawMessage, error) {
	t, err := ts.GetTraceInfo(c.Context, id)
	if err != nil {
		return nil, err
	}
	data, err := traceData(c, st, t)
	if err != nil {
		return nil, fmt.Errorf("its spans: %w", err)
	}
	var doc struct {
		Spans []map[string]json.RawMessage `json:"spans"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("its span data: %w", err)
	}
	inputs, outputs := json.RawMessage("{}"), json.RawMessage(nil)
	for _, sp := range doc.Spans {
		if !isRootSpan(sp) {
			continue
		}
		var attrs map[string]json.RawMessage
		json.Unmarshal(sp["attributes"], &attrs)
		if v := spanAttr(attrs["mlflow.spanInputs"]); v != nil {
			inputs = v
		}
		outputs = spanAttr(attrs["mlflow.spanOutputs"])
		break
	}
	expectations := map[string]json.RawMessage{}
	if as != nil {
		list, err := as.TraceAssessments(c.Context, t.RequestID)
		if err != nil && !errors.Is(err, store.ErrUnsupported) {
			return nil, err
		}
		for _, a := range list {
			if a.Type == "expectation" {
				expectations[a.Name] = json.RawMessage(a.Value)
			}
		}
	}
	source := map[string]string{"trace_id": t.RequestID}
	for _, m := range t.RequestMetadata {
		if m.Key == "mlflow.trace.session" {
			source["session_id"] = m.Value
		}
	}
	rec := map[string]any{"inputs": inputs, "expectations": expectations,
		"source": map[string]any{"source_type": "TRACE", "source_data": source}}
	if outputs != nil {
		rec["outputs"] = outputs
	}
	return json.Marshal(rec)
}

// isRootSpan reports whether a span dict has no parent (MLflow
// 3's parent_span_id, 2.x's parent_id).
func isRootSpan(sp map[string]json.RawMessage) bool {
	for _, k := range []string{"parent_span_id", "parent_id"} {
		if v, ok := sp[k]; ok && string(v) != "null" && string(v) != `""` {
			return false
		}
	}
	return true
}

// spanAttr is an attribute's value: MLflow stores each as JSON text in a
// string; nil when absent.
func spanAttr(raw json.RawMessage) json.RawMessage {
	if raw == nil || string(raw) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return raw
}
