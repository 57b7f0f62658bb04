package onnx

import (
	"maps"
	"slices"
	"strings"
	"testing"

	gonnxpb "github.com/advancedclimatesystems/gonnx/onnx"
	"gorgonia.org/tensor"
)

// TestExtraOpsReviewed: every operator ops.go adds was checked by
// make_onnx_opsets.py against each version ONNX defines up to
// newestOpset, and every one it checked is in ops.go.
func TestExtraOpsReviewed(t *testing.T) {
	got := slices.Sorted(maps.Keys(extraOps))
	want := slices.Sorted(maps.Keys(extraOpsReviewed))
	if !slices.Equal(got, want) {
		t.Fatalf("ops.go has %v; make_onnx_opsets.py reviewed %v", got, want)
	}
}

// FuzzExtraOps: any node of an operator ops.go adds — attributes, input
// shapes and values from the fuzzer — is run or refused with an error,
// never a panic (the index arithmetic of slicing, pooling, padding,
// broadcasting and reducing).
func FuzzExtraOps(f *testing.F) {
	names := slices.Sorted(maps.Keys(extraOps))
	for i := range names {
		f.Add([]byte{byte(i), 2, 3, 4, 1, 0, 2, 1, 1, 3, 0, 1, 2, 255, 7, 1, 0, 9})
	}
	f.Add([]byte{byte(slices.Index(names, "Slice")), 2, 4, 5, 254, 127, 1, 1, 0, 0, 0, 0})
	f.Add([]byte{byte(slices.Index(names, "Conv")), 4, 1, 2, 5, 5, 2, 3, 1, 1, 2, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		at := 0
		next := func() int {
			if at >= len(b) {
				return 0
			}
			at++
			return int(b[at-1])
		}
		small := func() int64 { return int64(int8(next())) % 6 } // -5..5
		name := names[next()%len(names)]
		rank := next()%4 + 1
		shape := make([]int, rank)
		size := 1
		for i := range shape {
			shape[i] = next()%4 + 1
			size *= shape[i]
		}
		x := make([]float32, size)
		for i := range x {
			x[i] = float32(int8(next())) / 8
		}
		node := &gonnxpb.NodeProto{OpType: name, Output: []string{"y"}}
		if next()%3 == 0 {
			node.Output = append(node.Output, "y2")
		}
		for _, a := range []string{"axis", "keepdims", "group", "ceil_mode", "count_include_pad", "select_last_index", "noop_with_empty_axes", "blocksize", "batch_dims", "upper", "k", "size", "exclusive", "reverse"} {
			if next()%2 == 0 {
				node.Attribute = append(node.Attribute, &gonnxpb.AttributeProto{Name: a, Type: gonnxpb.AttributeProto_INT, I: small()})
			}
		}
		for _, a := range []string{"axes", "perm", "kernel_shape", "strides", "pads", "dilations"} {
			if next()%2 == 0 {
				ints := make([]int64, next()%5)
				for i := range ints {
					ints[i] = small()
				}
				node.Attribute = append(node.Attribute, &gonnxpb.AttributeProto{Name: a, Type: gonnxpb.AttributeProto_INTS, Ints: ints})
			}
		}
		for _, a := range []string{"alpha", "epsilon"} {
			if next()%2 == 0 {
				node.Attribute = append(node.Attribute, &gonnxpb.AttributeProto{Name: a, Type: gonnxpb.AttributeProto_FLOAT, F: float32(small())})
			}
		}
		strs := map[string][]string{
			"mode":                           {"constant", "edge", "reflect", "linear", "cubic", "nearest", "CRD"},
			"auto_pad":                       {"SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET"},
			"equation":                       {"ij,jk->ik", "...i,...i->...", "ii->i", "i,i", "ab...,b->a...", "->", "a,b->ab", "...", "i->ij"},
			"coordinate_transformation_mode": {"align_corners", "tf_crop_and_resize", "pytorch_half_pixel", "asymmetric"},
			"reduction":                      {"add", "mul", "max"},
		}
		for _, name := range slices.Sorted(maps.Keys(strs)) {
			if next()%3 == 0 {
				v := strs[name][next()%len(strs[name])]
				node.Attribute = append(node.Attribute, &gonnxpb.AttributeProto{Name: name, Type: gonnxpb.AttributeProto_STRING, S: []byte(v)})
			}
		}
		in := []tensor.Tensor{tensor.New(tensor.WithShape(shape...), tensor.WithBacking(x))}
		for k := next() % 5; k > 0; k-- {
			switch next() % 4 {
			case 0: // int64, as starts, ends, axes, pads
				v := make([]int64, next()%9)
				for i := range v {
					v[i] = small()
				}
				if len(v) == 0 {
					in = append(in, tensor.New(tensor.FromScalar(small())))
				} else {
					in = append(in, tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(v)))
				}
			case 1: // float, as a scale, bias or another operand
				n := next()%4 + 1
				v := make([]float32, n)
				for i := range v {
					v[i] = float32(small())
				}
				in = append(in, tensor.New(tensor.WithShape(n), tensor.WithBacking(v)))
			case 2: // the input again, as weights or another operand
				in = append(in, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), x...))))
			default:
				in = append(in, nil)
			}
		}
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("%s %v with %d inputs panicked: %v", name, node.Attribute, len(in), r)
			}
		}()
		o := extraOps[name]()
		if err := o.Init(node); err != nil {
			return
		}
		in, err := o.ValidateInputs(in)
		if err != nil {
			return
		}
		o.Apply(in)
	})
}

// TestTreeEnsembleRefusals: a tree whose branch leads back up, or to a
// node it lacks, weights for a node no tree has, and a single class label
// other than 1 are refused when the node is read, naming what is wrong, where a walk
// could loop for ever or index past the nodes.
func TestTreeEnsembleRefusals(t *testing.T) {
	ints := func(name string, v ...int64) *gonnxpb.AttributeProto {
		return &gonnxpb.AttributeProto{Name: name, Type: gonnxpb.AttributeProto_INTS, Ints: v}
	}
	floats := func(name string, v ...float32) *gonnxpb.AttributeProto {
		return &gonnxpb.AttributeProto{Name: name, Type: gonnxpb.AttributeProto_FLOATS, Floats: v}
	}
	strs := func(name string, v ...string) *gonnxpb.AttributeProto {
		a := &gonnxpb.AttributeProto{Name: name, Type: gonnxpb.AttributeProto_STRINGS}
		for _, s := range v {
			a.Strings = append(a.Strings, []byte(s))
		}
		return a
	}
	// Node 0 branches to nodes 1 (a leaf) and 2 (a leaf).
	node := func(yes int64, leafNode int64, labels *gonnxpb.AttributeProto) *gonnxpb.NodeProto {
		return &gonnxpb.NodeProto{OpType: "TreeEnsembleClassifier", Output: []string{"y", "z"}, Attribute: []*gonnxpb.AttributeProto{
			ints("nodes_treeids", 0, 0, 0), ints("nodes_nodeids", 0, 1, 2), ints("nodes_featureids", 0, 0, 0),
			strs("nodes_modes", "BRANCH_LEQ", "LEAF", "LEAF"), floats("nodes_values", 0.5, 0, 0),
			ints("nodes_truenodeids", yes, 0, 0), ints("nodes_falsenodeids", 2, 0, 0),
			ints("class_treeids", 0, 0), ints("class_nodeids", leafNode, 2), ints("class_ids", 0, 1), floats("class_weights", 1, 1),
			labels,
		}}
	}
	labels := ints("classlabels_int64s", 0, 1)
	for name, c := range map[string]struct {
		n    *gonnxpb.NodeProto
		want string
	}{
		"cycle":          {node(0, 1, labels), "tree 0 has a cycle"},
		"missing child":  {node(7, 1, labels), "node 0 of tree 0 leads to a node the tree lacks"},
		"stray weight":   {node(1, 9, labels), "a weight for node 9 of tree 0, which it lacks"},
		"one text label": {node(1, 1, strs("classlabels_strings", "a")), `one class label, ["a"]: ONNX's reference runs only [1]`},
	} {
		err := extraOps["TreeEnsembleClassifier"]().Init(c.n)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	if err := extraOps["TreeEnsembleClassifier"]().Init(node(1, 1, labels)); err != nil {
		t.Errorf("a sound tree: %v", err)
	}
}
