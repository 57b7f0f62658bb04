package serve

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/internal/pyjson"
	"github.com/mlrun/mlrun/plugins/builtin/onnx"
)

// onnxPredictor runs an ONNX model in Go, answering as mlflow.onnx's
// pyfunc does: for a DataFrame (named columns, no tensor signature) a
// frame of each output flattened, as records; otherwise a dict of each
// output's tensor as nested lists.
type onnxPredictor struct {
	p      *onnx.Predictor
	tensor bool // the model has a tensor signature: it gets arrays
}

func (o *onnxPredictor) Predict(_ context.Context, f *Frame, _ map[string]any) (any, error) {
	if len(o.p.Inputs) > 1 || f.Dict && o.byName(f) {
		return o.predictByName(f)
	}
	if len(o.p.Shape) > 2 || f.nested() {
		shape, x, err := f.tensor()
		if err != nil {
			return nil, err
		}
		out, err := o.p.PredictTensor(x, shape)
		if err != nil {
			return nil, badRequest("Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference. Error: %v", err)
		}
		return o.write(f, out), nil
	}
	cols := f.Width()
	if o.p.Width > 0 && cols != o.p.Width {
		return nil, badRequest("Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference. Error: input %s has %d columns; the model takes %d", o.p.Input, cols, o.p.Width)
	}
	x := make([]float64, 0, len(f.Rows)*cols)
	for _, row := range f.Rows {
		for j := 0; j < cols; j++ {
			v := math.NaN()
			if j < len(row) {
				n, ok := cellNumber(row[j])
				if !ok {
					return nil, notANumber(row[j])
				}
				v = n
			}
			x = append(x, v)
		}
	}
	out, err := o.p.Predict(x, len(f.Rows), cols)
	if err != nil {
		return nil, badRequest("Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference. Error: %v", err)
	}
	return o.write(f, out), nil
}

// byName says whether the frame's columns are the model's inputs' names.
func (o *onnxPredictor) byName(f *Frame) bool {
	if len(f.Columns) != len(o.p.Inputs) {
		return false
	}
	for _, in := range o.p.Inputs {
		if !slices.Contains(f.Columns, in.Name) {
			return false
		}
	}
	return true
}

// predictByName feeds each of the model's inputs the frame's column of
// its name, as mlflow.onnx's pyfunc does for a model of several inputs
// (a DataFrame's column as a 1-D array) or for a dict (each array as
// given); a positional frame (a numpy array) is refused with MLflow's
// message.
func (o *onnxPredictor) predictByName(f *Frame) (any, error) {
	var names []string
	for _, in := range o.p.Inputs {
		names = append(names, "'"+in.Name+"'")
	}
	if f.Columns == nil {
		return nil, badRequest("Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference. Error: Unable to map numpy array input to the expected model input. Numpy arrays can only be used as input for MLflow ONNX models that have a single input. This model requires %d inputs. Please pass in data as either a dictionary or a DataFrame with the following tensors: [%s].",
			len(o.p.Inputs), strings.Join(names, ", "))
	}
	feeds := map[string]onnx.Feed{}
	for _, in := range o.p.Inputs {
		j := slices.Index(f.Columns, in.Name)
		if j < 0 {
			return nil, badRequest("Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference. Error: '%s'", in.Name)
		}
		shape, x, err := f.column(j)
		if err != nil {
			return nil, err
		}
		feeds[in.Name] = onnx.Feed{Values: x, Shape: shape}
	}
	out, err := o.p.PredictInputs(feeds)
	if err != nil {
		return nil, badRequest("Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference. Error: %v", err)
	}
	return o.write(f, out), nil
}

// write answers as mlflow.onnx's pyfunc does for the frame f: a dict of
// outputs for a dict or an array, records of each output, flattened, for
// a DataFrame.
func (o *onnxPredictor) write(f *Frame, out map[string]onnx.Output) rawJSON {
	var buf bytes.Buffer
	records := f.Columns != nil && !o.tensor && !(f.Dict && o.byName(f))
	if records {
		n := -1
		for _, name := range o.p.Outputs {
			l := len(out[name].Values) + len(out[name].Strings)
			if keys := out[name].Keys; keys != nil {
				l /= len(keys) // a row is a map
			}
			if n >= 0 && l != n {
				records = false // outputs of different lengths make no frame
			} else {
				n = l
			}
		}
		if records {
			buf.WriteByte('[')
			for i := 0; i < n; i++ {
				if i > 0 {
					buf.WriteString(", ")
				}
				buf.WriteByte('{')
				for k, name := range o.p.Outputs {
					writeKey(&buf, k, name)
					if t := out[name]; t.Keys != nil {
						writeMap(&buf, t.Keys, t.Values[i*len(t.Keys):(i+1)*len(t.Keys)])
					} else {
						writeValue(&buf, t, i)
					}
				}
				buf.WriteByte('}')
			}
			buf.WriteByte(']')
			return rawJSON(buf.Bytes())
		}
	}
	buf.WriteByte('{')
	for k, name := range o.p.Outputs {
		writeKey(&buf, k, name)
		t := out[name]
		if t.Keys != nil {
			buf.WriteByte('[')
			for i := 0; i < len(t.Values)/len(t.Keys); i++ {
				if i > 0 {
					buf.WriteString(", ")
				}
				writeMap(&buf, t.Keys, t.Values[i*len(t.Keys):(i+1)*len(t.Keys)])
			}
			buf.WriteByte(']')
			continue
		}
		writeNested(&buf, t, t.Shape, 0)
	}
	buf.WriteByte('}')
	return rawJSON(buf.Bytes())
}

// writeKey writes the k-th key of a JSON object as Python writes it.
func writeKey(buf *bytes.Buffer, k int, name string) {
	if k > 0 {
		buf.WriteString(", ")
	}
	pyjson.WriteString(buf, name)
	buf.WriteString(": ")
}

// writeNested writes the output's values from offset at, of the given
// shape, as nested lists.
func writeNested(buf *bytes.Buffer, t onnx.Output, shape []int, at int) {
	if len(shape) == 0 {
		if len(t.Values)+len(t.Strings) > at {
			writeValue(buf, t, at)
		}
		return
	}
	stride := 1
	for _, d := range shape[1:] {
		stride *= d
	}
	buf.WriteByte('[')
	for i := 0; i < shape[0]; i++ {
		if i > 0 {
			buf.WriteString(", ")
		}
		writeNested(buf, t, shape[1:], at+i*stride)
	}
	buf.WriteByte(']')
}

// writeValue writes the output's i-th value as Python writes it: text
// as a JSON string, an integer output's value as an int (3), a float's
// as a float (3.0).
func writeValue(buf *bytes.Buffer, t onnx.Output, i int) {
	switch {
	case t.Strings != nil:
		pyjson.WriteString(buf, t.Strings[i])
	case t.Int:
		buf.WriteString(strconv.FormatFloat(t.Values[i], 'f', -1, 64))
	default:
		writeFloat(buf, t.Values[i])
	}
}

// writeMap writes one row of a ZipMap's output as Python's json writes
// the dict {label: value}: the labels as keys (an integer label as its
// text).
func writeMap(buf *bytes.Buffer, keys []string, values []float64) {
	buf.WriteByte('{')
	for k, key := range keys {
		writeKey(buf, k, key)
		writeFloat(buf, values[k])
	}
	buf.WriteByte('}')
}
