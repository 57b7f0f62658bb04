package onnx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	gonnxpb "github.com/advancedclimatesystems/gonnx/onnx"
)

// elemSize is the bytes of one element of each fixed-width ONNX data
// type in raw_data.
var elemSize = map[int32]int{
	int32(gonnxpb.TensorProto_FLOAT): 4, int32(gonnxpb.TensorProto_UINT8): 1, int32(gonnxpb.TensorProto_INT8): 1,
	int32(gonnxpb.TensorProto_UINT16): 2, int32(gonnxpb.TensorProto_INT16): 2, int32(gonnxpb.TensorProto_INT32): 4,
	int32(gonnxpb.TensorProto_INT64): 8, int32(gonnxpb.TensorProto_BOOL): 1, int32(gonnxpb.TensorProto_FLOAT16): 2,
	int32(gonnxpb.TensorProto_DOUBLE): 8, int32(gonnxpb.TensorProto_UINT32): 4, int32(gonnxpb.TensorProto_UINT64): 8,
	int32(gonnxpb.TensorProto_COMPLEX64): 8, int32(gonnxpb.TensorProto_COMPLEX128): 16, int32(gonnxpb.TensorProto_BFLOAT16): 2,
}

// tensors calls fn on every tensor of g that holds data: its
// initializers and its nodes' tensor attributes, in subgraphs too.
func tensors(g *gonnxpb.GraphProto, fn func(*gonnxpb.TensorProto) error) error {
	for _, t := range g.GetInitializer() {
		if err := fn(t); err != nil {
			return err
		}
	}
	for _, n := range g.GetNode() {
		for _, a := range n.GetAttribute() {
			if t := a.GetT(); t != nil {
				if err := fn(t); err != nil {
					return err
				}
			}
			for _, t := range a.GetTensors() {
				if err := fn(t); err != nil {
					return err
				}
			}
			if sub := a.GetG(); sub != nil {
				if err := tensors(sub, fn); err != nil {
					return err
				}
			}
			for _, sub := range a.GetGraphs() {
				if err := tensors(sub, fn); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// HasExternalData reports whether any tensor of mp keeps its data in a
// file beside the model's (ONNX's external data).
func HasExternalData(mp *gonnxpb.ModelProto) bool {
	found := errors.New("found")
	return tensors(mp.GetGraph(), func(t *gonnxpb.TensorProto) error {
		if t.GetDataLocation() == gonnxpb.TensorProto_EXTERNAL {
			return found
		}
		return nil
	}) != nil
}

// InlineExternalData reads every tensor of mp whose data is external
// (mlflow.onnx.save_model writes each tensor of 1 KiB or more to a file
// beside model.onnx, by default) into its raw_data, from the files its
// locations name in dir, the model file's folder. A location must be a
// local path inside dir, read through os.Root so that no link leads
// out, as ONNX's checker requires. Then every tensor's data must fill its
// dims: a weight that is missing or short is an error, never zeros.
func InlineExternalData(mp *gonnxpb.ModelProto, dir string) error {
	var root *os.Root
	defer func() {
		if root != nil {
			root.Close()
		}
	}()
	return tensors(mp.GetGraph(), func(t *gonnxpb.TensorProto) error {
		if t.GetDataLocation() == gonnxpb.TensorProto_EXTERNAL {
			if root == nil {
				var err error
				if root, err = os.OpenRoot(dir); err != nil {
					return fmt.Errorf("tensor %q: its data is in a file beside the model: %w", t.GetName(), err)
				}
			}
			data, err := readExternal(root, t)
			if err != nil {
				return fmt.Errorf("tensor %q: external data: %w", t.GetName(), err)
			}
			t.RawData, t.ExternalData, t.DataLocation = data, nil, gonnxpb.TensorProto_DEFAULT
		}
		return checkData(t)
	})
}

// readExternal reads a tensor's external data: location (required),
// offset and length (optional, decimal).
func readExternal(root *os.Root, t *gonnxpb.TensorProto) ([]byte, error) {
	var location string
	offset, length := int64(0), int64(-1)
	for _, e := range t.GetExternalData() {
		var err error
		switch e.GetKey() {
		case "location":
			location = e.GetValue()
		case "offset":
			offset, err = strconv.ParseInt(e.GetValue(), 10, 64)
		case "length":
			length, err = strconv.ParseInt(e.GetValue(), 10, 64)
		}
		if err != nil || offset < 0 || (e.GetKey() == "length" && length < 0) {
			return nil, fmt.Errorf("%s %q is not a byte count", e.GetKey(), e.GetValue())
		}
	}
	if location == "" || !filepath.IsLocal(location) {
		return nil, fmt.Errorf("location %q is not a file inside the model's folder", location)
	}
	f, err := root.Open(location)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if length < 0 {
		length = st.Size() - offset
	}
	if offset > st.Size() || length > st.Size()-offset {
		return nil, fmt.Errorf("%s holds %d bytes, not %d at offset %d", location, st.Size(), length, offset)
	}
	data := make([]byte, length)
	if _, err := f.ReadAt(data, offset); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return data, nil
}

// checkData checks that a tensor's data fills its dims: raw_data of
// dims' product times the element's size, or as many typed values,
// whatever its data type says (gonnx reads the typed values it finds).
func checkData(t *gonnxpb.TensorProto) error {
	n := int64(1)
	for _, d := range t.GetDims() {
		if d < 0 || (d > 0 && n > (1<<40)/d) {
			return fmt.Errorf("tensor %q: dims %v", t.GetName(), t.GetDims())
		}
		n *= d
	}
	if t.GetDataLocation() == gonnxpb.TensorProto_EXTERNAL {
		return fmt.Errorf("tensor %q: its data is still external", t.GetName())
	}
	if raw := t.GetRawData(); len(raw) > 0 {
		size, fixed := elemSize[t.GetDataType()]
		if !fixed {
			return fmt.Errorf("tensor %q: raw data for data type %d", t.GetName(), t.GetDataType())
		}
		if int64(len(raw)) != n*int64(size) {
			return fmt.Errorf("tensor %q: %d bytes of data for dims %v of %d-byte elements", t.GetName(), len(raw), t.GetDims(), size)
		}
		return nil
	}
	var got int64
	switch {
	case len(t.GetFloatData()) > 0:
		got = int64(len(t.GetFloatData()))
		if t.GetDataType() == int32(gonnxpb.TensorProto_COMPLEX64) {
			got /= 2
		}
	case len(t.GetDoubleData()) > 0:
		got = int64(len(t.GetDoubleData()))
		if t.GetDataType() == int32(gonnxpb.TensorProto_COMPLEX128) {
			got /= 2
		}
	case len(t.GetInt64Data()) > 0:
		got = int64(len(t.GetInt64Data()))
	case len(t.GetInt32Data()) > 0:
		got = int64(len(t.GetInt32Data()))
	case len(t.GetUint64Data()) > 0:
		got = int64(len(t.GetUint64Data()))
	case len(t.GetStringData()) > 0:
		got = int64(len(t.GetStringData()))
	}
	if got != n {
		return fmt.Errorf("tensor %q: %d values for dims %v", t.GetName(), got, t.GetDims())
	}
	return nil
}
