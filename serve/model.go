package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mlrun/mlrun/internal/format"
	"github.com/mlrun/mlrun/internal/pyjson"
	"github.com/mlrun/mlrun/plugins"
	"github.com/mlrun/mlrun/plugins/builtin/onnx"
	"github.com/mlrun/mlrun/plugins/builtin/sklearn"
	"github.com/mlrun/mlrun/plugins/builtin/xgboost"
	"github.com/mlrun/mlrun/plugins/flavor"
)

// Model is a model folder (MLmodel and its files) ready to score.
type Model struct {
	// Flavor is the flavor that predicts (e.g. "xgboost"), and how:
	// "go" or "python".
	Flavor, Runtime string
	// Why says why a model of a flavor Go predicts (sklearn) has a
	// Python runtime: what Go does not predict in it.
	Why string
	// Hint is what a client should know to feed the model, when not the
	// usual table (a text model takes `inputs` lists of documents).
	Hint      string
	signature *signature
	params    []paramSpec // the signature's params schema; nil for none
	predictor Predictor
}

// LoadOptions say how to load a model a Python worker must serve.
type LoadOptions struct {
	// Python is the interpreter of the model's environment ("" is
	// python3 on the PATH); PythonFor, when set, gives it instead, for
	// the model folder (building its environment). Workers is how many
	// worker processes (0: 1).
	Python    string
	PythonFor func(dir string) (string, error)
	Workers   int
	// PreferPython serves even a model Go can predict with a Python
	// worker (to compare the two).
	PreferPython bool
	// Plugins, when set, is where to look for a flavor plugin that
	// predicts (the protocol's Predict) a model of another flavor.
	Plugins *plugins.Options
	// NoWorkers reads a model Python would serve without starting
	// Python (Flavor and Runtime set, nothing to predict with): the
	// model is only inspected, e.g. to build its image.
	NoWorkers bool
	// Env is more environment for the Python workers, KEY=VALUE each
	// (mlflow models predict --env); it wins over mlrun's defaults.
	Env []string
}

// Close stops the model's workers, if it has any.
func (m *Model) Close() error {
	if c, ok := m.predictor.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// mlmodel is what serving reads of an MLmodel file.
type mlmodel struct {
	Flavors   map[string]map[string]any `yaml:"flavors"`
	Signature *struct {
		Inputs string `yaml:"inputs"`
		Params string `yaml:"params"`
	} `yaml:"signature"`
}

// ErrNoPredictor is returned by Load for a model no predictor of mlrun's
// serves.
var ErrNoPredictor = errors.New("no predictor")

// Load reads the model folder dir (its MLmodel) and makes its predictor:
// xgboost boosters, ONNX models and the scikit-learn estimators package
// sklearn predicts are predicted in Go; other sklearn models (and every
// model with PreferPython) by Python workers, which execute the model's
// pickle as MLflow does. Close releases the workers.
func Load(dir string, opts LoadOptions) (*Model, error) {
	b, err := os.ReadFile(filepath.Join(dir, "MLmodel"))
	if err != nil {
		return nil, fmt.Errorf("%s is not an MLflow model folder: %w", dir, err)
	}
	var mm mlmodel
	if err := yaml.Unmarshal(b, &mm); err != nil {
		return nil, fmt.Errorf("%s: MLmodel: %w", dir, err)
	}
	m := &Model{}
	if mm.Signature != nil && mm.Signature.Inputs != "" {
		if m.signature, err = parseSignature(mm.Signature.Inputs); err != nil {
			return nil, fmt.Errorf("%s: MLmodel signature: %w", dir, err)
		}
	}
	if mm.Signature != nil && mm.Signature.Params != "" && mm.Signature.Params != "null" {
		if m.params, err = parseParamSchema(mm.Signature.Params); err != nil {
			return nil, fmt.Errorf("%s: MLmodel signature: %w", dir, err)
		}
	}
	py := mm.Flavors["python_function"]
	str := func(m map[string]any, k string) string { v, _ := m[k].(string); return v }
	inside := func(flavor, file string) (string, error) {
		if file == "" || !filepath.IsLocal(file) {
			return "", fmt.Errorf("%s: the %s flavor's file %q is not a file inside the folder", dir, flavor, file)
		}
		return file, nil
	}
	if xf, ok := mm.Flavors["xgboost"]; ok {
		data, err := inside("xgboost", str(xf, "data"))
		if err != nil {
			return nil, err
		}
		if args := xgbPredictArgs(m.params); args != nil && !opts.PreferPython {
			m.Why = fmt.Sprintf("its params schema declares %s, which XGBoost's predict takes and Go does not", strings.Join(args, ", "))
		}
		if opts.PreferPython || m.Why != "" {
			return m.startPython(dir, "xgboost", data, str(xf, "model_class"), "", opts)
		}
		bst, err := xgboost.Load(filepath.Join(dir, data))
		if err != nil {
			return nil, err
		}
		est, err := xgboost.NewEstimator(bst, str(xf, "model_class"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		m.Flavor, m.Runtime, m.predictor = "xgboost", "go", &xgbPredictor{est}
		return m, nil
	}
	if of, ok := mm.Flavors["onnx"]; ok {
		data, err := inside("onnx", str(of, "data"))
		if err != nil {
			return nil, err
		}
		p, err := onnx.LoadPredictor(filepath.Join(dir, data))
		if err != nil {
			return nil, err
		}
		m.Flavor, m.Runtime = "onnx", "go"
		m.predictor = &onnxPredictor{p: p, tensor: m.signature != nil && (m.signature.tensor != nil || m.signature.tensors != nil)}
		return m, nil
	}
	if sf, ok := mm.Flavors["sklearn"]; ok && py != nil {
		file, err := inside("sklearn", str(sf, "pickled_model"))
		if err != nil {
			return nil, err
		}
		if !opts.PreferPython {
			p, err := sklearn.LoadPredictor(filepath.Join(dir, file), str(py, "predict_fn"))
			if err == nil {
				m.Flavor, m.Runtime, m.predictor = "sklearn", "go", &sklearnPredictor{p}
				if p.TakesDocuments() {
					m.Hint = `the model starts with a text vectorizer: send {"inputs": ["a text", ...]}; a DataFrame's documents are its column names, as in scikit-learn`
				}
				return m, nil
			}
			m.Why = err.Error() // Python serves what Go does not
		}
		return m.startPython(dir, "sklearn", file, str(py, "predict_fn"), str(sf, "serialization_format"), opts)
	}
	var names []string
	for k := range mm.Flavors {
		names = append(names, k)
	}
	sort.Strings(names)
	if opts.Plugins != nil {
		for _, name := range names {
			if name == "python_function" {
				continue
			}
			if _, err := plugins.Find(name, *opts.Plugins); err != nil {
				continue
			}
			p, err := startPlugin(name, dir, max(opts.Workers, 1), *opts.Plugins)
			if errors.Is(err, flavor.ErrUnsupported) {
				continue
			}
			if err != nil {
				return nil, err
			}
			m.Flavor, m.Runtime, m.predictor = name, "plugin", p
			return m, nil
		}
	}
	return nil, fmt.Errorf("%w for %s: its flavors are %s; mlrun serves xgboost, ONNX and sklearn models (in Go, or sklearn ones with a Python worker), and flavors whose plugin predicts", ErrNoPredictor, dir, strings.Join(names, ", "))
}

func (m *Model) startPython(dir, flavor, file, predictFn, serialization string, opts LoadOptions) (*Model, error) {
	if opts.NoWorkers {
		m.Flavor, m.Runtime = flavor, "python"
		return m, nil
	}
	python := opts.Python
	if opts.PythonFor != nil {
		var err error
		if python, err = opts.PythonFor(dir); err != nil {
			return nil, fmt.Errorf("%s: the model's Python environment: %w", dir, err)
		}
	}
	if python == "" {
		python = "python3"
	}
	p, err := startPython(python, dir, flavor, file, predictFn, serialization, max(opts.Workers, 1), m.signature, opts.Env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	m.Flavor, m.Runtime, m.predictor = flavor, "python", p
	return m, nil
}

// Score answers one scoring request: the body in kind ("json" or
// "csv"), parsed, checked against the signature and predicted, written as
// MLflow writes {"predictions": …}.
func (m *Model) Score(ctx context.Context, kind string, body []byte) ([]byte, error) {
	var (
		f      *Frame
		raw    json.RawMessage
		params map[string]any
		err    error
	)
	if kind == "csv" {
		f, err = parseCSV(body, m.signature)
	} else {
		f, raw, err = parseJSON(body)
	}
	if err != nil {
		return nil, err
	}
	if m.signature != nil {
		if f, err = m.signature.enforce(f); err != nil {
			return nil, err
		}
	}
	if params, err = enforceParams(raw, m.params); err != nil {
		return nil, err
	}
	out, err := m.predictor.Predict(ctx, f, params)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(`{"predictions": `)
	if err := encode(&buf, out); err != nil {
		return nil, err
	}
	buf.WriteString("}")
	return buf.Bytes(), nil
}

// signature is a model's input schema: named or unnamed column specs,
// one tensor spec, or several named ones (a model of several inputs).
type signature struct {
	raw     string
	cols    []colSpec
	named   bool
	tensor  []int // the one tensor's shape; nil for columns or several tensors
	tensorT string
	tensors []colSpec // several named tensor specs
}

type colSpec struct {
	Name     string `json:"name"`
	Type     any    `json:"type"`
	Required *bool  `json:"required"`
	Tensor   *struct {
		Dtype string `json:"dtype"`
		Shape []int  `json:"shape"`
	} `json:"tensor-spec"`
}

func parseSignature(s string) (*signature, error) {
	var cols []colSpec
	if err := json.Unmarshal([]byte(s), &cols); err != nil {
		return nil, err
	}
	sig := &signature{raw: s, cols: cols}
	for _, c := range cols {
		if c.Type == "tensor" && c.Tensor != nil {
			if len(cols) == 1 {
				sig.tensor, sig.tensorT = c.Tensor.Shape, c.Tensor.Dtype
				return sig, nil
			}
			for _, c := range cols {
				if c.Type != "tensor" || c.Tensor == nil || c.Name == "" {
					return nil, errors.New("a signature of several tensors names each, and has nothing but tensors")
				}
			}
			sig.tensors = cols
			return sig, nil
		}
		if c.Name != "" {
			sig.named = true
		}
	}
	return sig, nil
}

// columnType is the type the signature gives the CSV column j named
// name, by name when its columns are named, else by position; "" for no
// signature, a tensor signature or a column it does not name.
func (s *signature) columnType(j int, name string) string {
	if s == nil || s.tensor != nil {
		return ""
	}
	for i, c := range s.cols {
		if (s.named && c.Name == name) || (!s.named && i == j) {
			t, _ := c.Type.(string)
			return t
		}
	}
	return ""
}

// enforce checks and converts a frame as MLflow's _enforce_schema does
// for column and single-tensor signatures: required columns present,
// columns in the signature's order (extra ones dropped), values cast to
// the column types.
func (s *signature) enforce(f *Frame) (*Frame, error) {
	if s.tensors != nil {
		return f, s.enforceTensors(f)
	}
	if s.tensor != nil && (len(s.tensor) != 2 || f.nested()) {
		shape, _, err := f.tensor()
		if err != nil {
			return nil, err
		}
		ok := len(shape) == len(s.tensor)
		for i := 0; ok && i < len(shape); i++ {
			ok = s.tensor[i] == -1 || s.tensor[i] == shape[i]
		}
		if !ok {
			return nil, invalidParam("Failed to predict data. \nError: Failed to enforce schema of data with schema '%s'. Error: Shape of input %s does not match expected shape %s.",
				s.raw, pyTuple(shape), pyTuple(s.tensor))
		}
		return f, nil
	}
	if s.tensor != nil {
		if len(s.tensor) == 2 && s.tensor[1] != -1 && f.Width() != s.tensor[1] {
			shape := fmt.Sprintf("(%d, %d)", len(f.Rows), f.Width())
			if len(f.Rows) == 0 && f.Columns == nil {
				shape = "(0,)" // numpy's shape of an empty list
			}
			return nil, invalidParam("Failed to predict data. \nError: Failed to enforce schema of data with schema '%s'. Error: Shape of input %s does not match expected shape (%d, %d).",
				s.raw, shape, s.tensor[0], s.tensor[1])
		}
		return f, nil
	}
	if !s.named {
		if f.Width() < len(s.cols) {
			return nil, invalidParam("Failed to predict data. \nError: Failed to enforce schema of data with schema '%s'. Error: Model inference is missing inputs. The model signature declares %d inputs but the provided value only has %d inputs. Note: the inputs were not named in the signature so we can only verify their count.",
				s.raw, len(s.cols), f.Width())
		}
		return f, nil
	}
	index := map[string]int{}
	for i, c := range f.Columns {
		index[c] = i
	}
	var missing []string
	for _, c := range s.cols {
		if _, ok := index[c.Name]; !ok && (c.Required == nil || *c.Required) {
			missing = append(missing, c.Name)
		}
	}
	if len(missing) > 0 {
		return nil, invalidParam("Failed to predict data. \nError: Failed to enforce schema of data with schema '%s'. Error: Model is missing inputs [%s].", s.raw, quoteList(missing))
	}
	out := &Frame{Columns: make([]string, len(s.cols)), Rows: make([][]any, len(f.Rows))}
	for r := range out.Rows {
		out.Rows[r] = make([]any, len(s.cols))
	}
	for j, c := range s.cols {
		out.Columns[j] = c.Name
		i, ok := index[c.Name]
		if !ok {
			continue // optional, absent
		}
		typ, _ := c.Type.(string)
		for r, row := range f.Rows {
			var v any
			if i < len(row) {
				v = row[i]
			}
			cv, err := cast(v, typ)
			if err != nil {
				return nil, badRequest("Invalid input. Data is not compatible with model signature. Failed to convert column %s to type '%s'. Error: '%v'", c.Name, numpyType(typ), err)
			}
			out.Rows[r][j] = cv
		}
	}
	return out, nil
}

// enforceTensors checks a frame against several named tensor specs, as
// MLflow's _enforce_tensor_schema does: a dict or DataFrame with a column
// of each name (others are dropped by the model), each of its spec's
// shape.
func (s *signature) enforceTensors(f *Frame) error {
	if f.Columns == nil {
		return invalidParam("Failed to predict data. \nError: This model contains a tensor-based model signature with input names, which suggests a dictionary input mapping input name to tensor, or a pandas DataFrame input containing columns mapping input name to flattened list value from tensor, but an input of type <class 'numpy.ndarray'> was found.")
	}
	var missing []string
	for _, c := range s.tensors {
		if !slices.Contains(f.Columns, c.Name) {
			missing = append(missing, c.Name)
		}
	}
	if missing != nil {
		return invalidParam("Failed to predict data. \nError: Failed to enforce schema of data with schema '%s'. Error: Model is missing inputs [%s].", s.raw, quoteList(missing))
	}
	for _, c := range s.tensors {
		shape, _, err := f.column(slices.Index(f.Columns, c.Name))
		if err != nil {
			return err
		}
		ok := len(shape) == len(c.Tensor.Shape)
		for i := 0; ok && i < len(shape); i++ {
			ok = c.Tensor.Shape[i] == -1 || c.Tensor.Shape[i] == shape[i]
		}
		if !ok {
			return invalidParam("Failed to predict data. \nError: Failed to enforce schema of data with schema '%s'. Error: Shape of input %s does not match expected shape %s.",
				s.raw, pyTuple(shape), pyTuple(c.Tensor.Shape))
		}
	}
	return nil
}

// cast converts a JSON value to a column type as pandas' astype does,
// leniently: 1.5 into a long is 1, true into a double is 1.0.
func cast(v any, typ string) (any, error) {
	switch typ {
	case "double", "float", "long", "integer":
		var f float64
		switch x := v.(type) {
		case nil:
			if typ == "long" || typ == "integer" {
				return nil, errors.New("Cannot convert non-finite values (NA or inf) to integer")
			}
			return math.NaN(), nil
		case float64:
			f = x
		case bool:
			if x {
				f = 1
			}
		case string:
			n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("could not convert string to float: '%s'", x)
			}
			f = n
		default:
			return nil, fmt.Errorf("cannot convert %s", compact(x))
		}
		switch typ {
		case "float":
			return float64(float32(f)), nil
		case "long", "integer":
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, errors.New("Cannot convert non-finite values (NA or inf) to integer")
			}
			return math.Trunc(f), nil
		}
		return f, nil
	case "boolean":
		switch x := v.(type) {
		case bool:
			return x, nil
		case float64:
			return x != 0, nil
		}
		return v, nil
	}
	return v, nil // string and others: unchanged
}

func numpyType(t string) string {
	switch t {
	case "double":
		return "float64"
	case "float":
		return "float32"
	case "long":
		return "int64"
	case "integer":
		return "int32"
	case "boolean":
		return "bool"
	}
	return "object"
}

// encode writes v as MLflow's server writes its predictions (Python's
// json.dumps: ", " and ": " separators, floats as repr, NaN and
// ±Infinity as bare tokens).
func encode(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case rawJSON:
		buf.Write(x)
	case nil:
		buf.WriteString("null")
	case float32:
		writeFloat(buf, float64(x))
	case float64:
		writeFloat(buf, x)
	case string:
		pyjson.WriteString(buf, x)
	case []float32:
		writeList(buf, x, func(f float32) error { writeFloat(buf, float64(f)); return nil })
	case [][]float32:
		writeList(buf, x, func(row []float32) error { return encode(buf, row) })
	case []int64:
		writeList(buf, x, func(n int64) error { buf.WriteString(strconv.FormatInt(n, 10)); return nil })
	case []float64:
		writeList(buf, x, func(f float64) error { writeFloat(buf, f); return nil })
	case [][]float64:
		writeList(buf, x, func(row []float64) error { return encode(buf, row) })
	case []any:
		return writeList(buf, x, func(e any) error { return encode(buf, e) })
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	return nil
}

// writeList writes xs as a JSON array with Python's ", " separator,
// each element by each; it stops at the first error.
func writeList[T any](buf *bytes.Buffer, xs []T, each func(T) error) error {
	buf.WriteByte('[')
	for i, x := range xs {
		if i > 0 {
			buf.WriteString(", ")
		}
		if err := each(x); err != nil {
			return err
		}
	}
	buf.WriteByte(']')
	return nil
}

func writeFloat(buf *bytes.Buffer, f float64) {
	switch {
	case math.IsNaN(f):
		buf.WriteString("NaN")
	case math.IsInf(f, 1):
		buf.WriteString("Infinity")
	case math.IsInf(f, -1):
		buf.WriteString("-Infinity")
	default:
		buf.WriteString(format.PyFloat(f))
	}
}

// cellNumber is a frame cell as a model's number: a number, a boolean as
// 1 or 0, null as NaN (missing); false for anything else.
func cellNumber(c any) (float64, bool) {
	switch c := c.(type) {
	case float64:
		return c, true
	case bool:
		if c {
			return 1, true
		}
		return 0, true
	case nil:
		return math.NaN(), true
	}
	return 0, false
}

// notANumber is the scoring error of a cell a model cannot take.
func notANumber(c any) error {
	return badRequest("Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference. Error: %s is not a number", compact(c))
}

// xgbPredictArgs are the params of a params schema that mlflow.xgboost's
// pyfunc hands to XGBoost's predict (Booster's or the scikit-learn
// wrapper's keyword arguments), which change its answer.
func xgbPredictArgs(specs []paramSpec) []string {
	var args []string
	for _, p := range specs {
		switch p.Name {
		case "output_margin", "pred_leaf", "pred_contribs", "approx_contribs", "pred_interactions",
			"validate_features", "training", "iteration_range", "strict_shape", "base_margin", "ntree_limit":
			args = append(args, p.Name)
		}
	}
	return args
}

// xgbPredictor predicts an XGBoost booster in Go, as mlflow.xgboost's
// pyfunc does: booster.predict(DMatrix(frame)), or the scikit-learn
// wrapper's predict(frame) when the model was logged as one
// (xgboost.Estimator says how each differs): columns by the booster's
// feature names when it has them and the frame is named, else by
// position; a missing value is NaN.
type xgbPredictor struct{ e *xgboost.Estimator }

func (p *xgbPredictor) Predict(_ context.Context, f *Frame, _ map[string]any) (any, error) {
	bst := p.e.Model
	nf := bst.NumFeature
	cols := make([]int, nf) // feature j is the frame's column cols[j]
	if len(bst.FeatureNames) == nf && f.Columns != nil {
		index := map[string]int{}
		for i, c := range f.Columns {
			index[c] = i
		}
		var missing []string
		for j, n := range bst.FeatureNames {
			i, ok := index[n]
			if !ok {
				missing = append(missing, n)
			}
			cols[j] = i
		}
		if len(missing) > 0 || len(f.Columns) != nf {
			return nil, badRequest("Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference. Error: feature_names mismatch: %s %s", compact(bst.FeatureNames), compact(f.Columns))
		}
	} else {
		if w := f.Width(); w != nf {
			return nil, badRequest("Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference. Error: Feature shape mismatch, expected: %d, got %d", nf, w)
		}
		for j := range cols {
			cols[j] = j
		}
	}
	x := make([]float32, len(f.Rows)*nf)
	for r, row := range f.Rows {
		for j, i := range cols {
			v := float32(math.NaN())
			if i < len(row) {
				n, ok := cellNumber(row[i])
				if s, isStr := row[i].(string); !ok && isStr {
					f, err := strconv.ParseFloat(s, 32)
					if err != nil {
						return nil, badRequest("Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference. Error: could not convert string to float: '%s'", s)
					}
					n, ok = f, true
				}
				if !ok {
					return nil, notANumber(row[i])
				}
				v = float32(n)
			}
			x[r*nf+j] = v
		}
	}
	return p.e.Predict(x), nil
}
