package onnx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	gonnxpb "github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/mlrun/mlrun/plugins/flavor"
)

// Flavor is the onnx flavor.
type Flavor struct{}

var _ flavor.Flavor = Flavor{}

// Describe implements flavor.Flavor.
func (Flavor) Describe(context.Context) (*flavor.Description, error) {
	return &flavor.Description{Name: "onnx", Version: "0.1.0", FilePatterns: []string{"*.onnx"},
		Description: "ONNX ModelProto files, read without loading weights"}, nil
}

// Tensor is a graph input or output.
type Tensor struct {
	Name     string
	ElemType int64
	DType    string  // numpy name, "" when it has no TensorSpec form
	Shape    []int64 // -1 for symbolic or unknown dimensions
	HasShape bool
	IsTensor bool
}

// Facts is what Read found.
type Facts struct {
	IRVersion       int64
	Opsets          map[string]int64 // domain ("ai.onnx" for the default) → version
	ProducerName    string
	ProducerVersion string
	GraphName       string
	Inputs          []Tensor
	Outputs         []Tensor
}

var dtypes = map[int64]string{
	1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "str",
	9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128",
}

// fields walks one protobuf message, calling fn for each field.
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return errors.New("bad field tag")
		}
		b = b[l:]
		var (
			val []byte
			n   uint64
		)
		switch typ {
		case protowire.VarintType:
			n, l = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			val, l = protowire.ConsumeBytes(b)
		case protowire.Fixed32Type:
			var v uint32
			v, l = protowire.ConsumeFixed32(b)
			n = uint64(v)
		case protowire.Fixed64Type:
			n, l = protowire.ConsumeFixed64(b)
		default:
			l = protowire.ConsumeFieldValue(num, typ, b)
		}
		if l < 0 {
			return fmt.Errorf("field %d: %v", num, protowire.ParseError(l))
		}
		b = b[l:]
		if err := fn(num, typ, val, n); err != nil {
			return err
		}
	}
	return nil
}

// Read reads an ONNX file.
func Read(path string) (*Facts, error) {
	data, err := flavor.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, flavor.Invalid("%s is empty", path)
	}
	f := &Facts{Opsets: map[string]int64{}}
	var graph []byte
	err = fields(data, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			f.IRVersion = int64(n)
		case num == 2 && typ == protowire.BytesType:
			f.ProducerName = string(v)
		case num == 3 && typ == protowire.BytesType:
			f.ProducerVersion = string(v)
		case num == 7 && typ == protowire.BytesType:
			graph = v
		case num == 8 && typ == protowire.BytesType:
			domain, version := "", int64(0)
			if err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
				if num == 1 && typ == protowire.BytesType {
					domain = string(v)
				} else if num == 2 && typ == protowire.VarintType {
					version = int64(n)
				}
				return nil
			}); err != nil {
				return err
			}
			if domain == "" {
				domain = "ai.onnx"
			}
			f.Opsets[domain] = version
		}
		return nil
	})
	if err != nil {
		return nil, flavor.Invalid("%s is not an ONNX model (protobuf: %v)", path, err)
	}
	if f.IRVersion <= 0 || f.IRVersion > 100 || graph == nil {
		return nil, flavor.Invalid("%s is not an ONNX model (no ir_version or graph)", path)
	}
	initializers := map[string]bool{}
	var inputs, outputs [][]byte
	err = fields(graph, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 2:
			f.GraphName = string(v)
		case 5: // initializer: TensorProto, name is field 8
			return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
				if num == 8 && typ == protowire.BytesType {
					initializers[string(v)] = true
				}
				return nil
			})
		case 11:
			inputs = append(inputs, v)
		case 12:
			outputs = append(outputs, v)
		}
		return nil
	})
	if err != nil {
		return nil, flavor.Invalid("%s: malformed graph: %v", path, err)
	}
	for _, in := range inputs {
		t, err := valueInfo(in)
		if err != nil {
			return nil, flavor.Invalid("%s: malformed graph input: %v", path, err)
		}
		if !initializers[t.Name] { // IR < 4 lists weights as inputs too
			f.Inputs = append(f.Inputs, t)
		}
	}
	for _, out := range outputs {
		t, err := valueInfo(out)
		if err != nil {
			return nil, flavor.Invalid("%s: malformed graph output: %v", path, err)
		}
		f.Outputs = append(f.Outputs, t)
	}
	return f, nil
}

// valueInfo decodes a ValueInfoProto: name, and a tensor type's element
// type and shape.
func valueInfo(b []byte) (Tensor, error) {
	var t Tensor
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			t.Name = string(v)
		case 2: // TypeProto
			return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
				if num != 1 || typ != protowire.BytesType { // tensor_type only
					return nil
				}
				t.IsTensor = true
				return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
					switch {
					case num == 1 && typ == protowire.VarintType:
						t.ElemType = int64(n)
					case num == 2 && typ == protowire.BytesType:
						t.HasShape = true
						return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
							if num != 1 || typ != protowire.BytesType {
								return nil
							}
							dim := int64(-1)
							err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
								if num == 1 && typ == protowire.VarintType {
									dim = int64(n)
								}
								return nil
							})
							t.Shape = append(t.Shape, dim)
							return err
						})
					}
					return nil
				})
			})
		}
		return nil
	})
	t.DType = dtypes[t.ElemType]
	return t, err
}

// signature renders tensors as MLflow TensorSpecs; "" when any of them
// has no TensorSpec form (non-tensor types, exotic dtypes, no shape).
func signature(ts []Tensor) string {
	if len(ts) == 0 {
		return ""
	}
	type spec struct {
		Name string `json:"name"`
		Type string `json:"type"`
		TS   struct {
			DType string  `json:"dtype"`
			Shape []int64 `json:"shape"`
		} `json:"tensor-spec"`
	}
	var out []spec
	for _, t := range ts {
		if !t.IsTensor || t.DType == "" || !t.HasShape {
			return ""
		}
		s := spec{Name: t.Name, Type: "tensor"}
		s.TS.DType, s.TS.Shape = t.DType, append([]int64{}, t.Shape...)
		if s.TS.Shape == nil {
			s.TS.Shape = []int64{}
		}
		out = append(out, s)
	}
	b, _ := json.Marshal(out)
	// MLflow writes json.dumps separators.
	r := strings.NewReplacer(`","`, `", "`, `":`, `": `, `},{`, `}, {`, `],"`, `], "`, `,-`, `, -`)
	return r.Replace(strings.ReplaceAll(string(b), ",", ", "))
}

// Inspect implements flavor.Flavor.
func (Flavor) Inspect(ctx context.Context, req *flavor.InspectRequest) (*flavor.Model, error) {
	f, err := Read(req.Path)
	if err != nil {
		return nil, err
	}
	var ops []string
	for d, v := range f.Opsets {
		ops = append(ops, d+"="+strconv.FormatInt(v, 10))
	}
	sort.Strings(ops)
	describe := func(ts []Tensor) string {
		var parts []string
		for _, t := range ts {
			parts = append(parts, fmt.Sprintf("%s:%s%v", t.Name, t.DType, t.Shape))
		}
		return strings.Join(parts, ", ")
	}
	m := &flavor.Model{
		Facts: map[string]string{
			"ir_version": strconv.FormatInt(f.IRVersion, 10), "opsets": strings.Join(ops, ","),
			"producer": strings.TrimSpace(f.ProducerName + " " + f.ProducerVersion),
			"inputs":   describe(f.Inputs), "outputs": describe(f.Outputs),
		},
		Flavor: map[string]any{
			"code": nil, "data": "model.onnx", "onnx_version": "", "onnx_session_options": nil,
			"providers": []string{"CUDAExecutionProvider", "CPUExecutionProvider"},
		},
		LoaderModule:     "mlflow.onnx",
		PyfuncExtra:      map[string]any{"data": "model.onnx"},
		SignatureInputs:  signature(f.Inputs),
		SignatureOutputs: signature(f.Outputs),
		Requirements:     []string{"onnx", "onnxruntime"},
		ModelFile:        "model.onnx",
	}
	return m, nil
}

// Save implements flavor.Flavor. A model whose tensors keep their data
// in files beside it (ONNX's external data) is saved with that data
// inside model.onnx, so the logged folder holds all of it.
func (f Flavor) Save(ctx context.Context, req *flavor.SaveRequest) (*flavor.SaveResponse, error) {
	inlined, err := inlinedCopy(req.Path)
	if err != nil {
		return nil, err
	}
	if inlined != "" {
		defer os.RemoveAll(filepath.Dir(inlined))
		r := *req
		r.Path = inlined
		req = &r
	}
	return flavor.SaveModel(ctx, saving{f, req.Installed["onnx"]}, req)
}

// inlinedCopy checks the data of every tensor of the model at path and,
// when the model has external data, writes a copy
// of it with that data inline into a new temporary folder, and returns
// its path ("" when the model has none). Protocol Buffers cap a message
// at 2 GiB: a larger model is refused.
func inlinedCopy(path string) (string, error) {
	b, err := flavor.ReadFile(path)
	if err != nil {
		return "", err
	}
	mp := &gonnxpb.ModelProto{}
	if err := proto.Unmarshal(b, mp); err != nil {
		return "", nil // Inspect says what is wrong with a model that does not parse
	}
	external := HasExternalData(mp)
	// Every tensor's data is checked, as onnx.checker does in MLflow's
	// save_model: a weight without its data is not logged.
	if err := InlineExternalData(mp, filepath.Dir(path)); err != nil {
		return "", flavor.Invalid("%s: %v", path, err)
	}
	if !external {
		return "", nil
	}
	if proto.Size(mp) > math.MaxInt32 {
		return "", flavor.Invalid("%s: with its external data the model is over 2 GiB, more than one ONNX file holds; mlrun logs models with their data inside", path)
	}
	out, err := proto.Marshal(mp)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	dir, err := os.MkdirTemp("", "mlrun-onnx-")
	if err != nil {
		return "", err
	}
	inlined := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(inlined, out, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return inlined, nil
}

// saving is the flavor as Save sees it: MLflow writes the onnx package's
// version where the model is logged as onnx_version, which a file cannot
// tell; it is "" when the logging environment has no onnx.
type saving struct {
	Flavor
	onnxVersion string
}

func (s saving) Inspect(ctx context.Context, req *flavor.InspectRequest) (*flavor.Model, error) {
	m, err := s.Flavor.Inspect(ctx, req)
	if err == nil && s.onnxVersion != "" {
		m.Flavor["onnx_version"] = s.onnxVersion
	}
	return m, err
}
