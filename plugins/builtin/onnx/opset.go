package onnx

import (
	"fmt"

	gonnxpb "github.com/advancedclimatesystems/gonnx/onnx"
)

// runtimeOpset is the one ai.onnx opset gonnx implements.
const runtimeOpset = 13

// opChange is a version of an operator after opset 13 (opsets.go).
type opChange struct {
	since   int64
	attrs   map[string]any // added attributes and the defaults that keep opset 13's behaviour
	changed bool           // changed otherwise: opset 13's operator does not run it
}

// asRuntimeOpset lets the opset-13 runtime run a model of a later opset
// (up to newestOpset) when each of its nodes means what it meant in
// opset 13: its operator is unchanged since, or changed only to take
// more input types, or by attributes the node leaves at the defaults
// that keep the old behaviour; and a model of an earlier opset when each
// of its operators means there what it means in 13 (sameSince: unchanged
// since, but for more input types and attributes added with such
// defaults). The model's ai.onnx opset import is then set to 13. A model
// with a node that changed is refused by an error naming the opset and
// the node; so is a node of
// a domain other than ai.onnx and ai.onnx.ml (gonnx looks operators up
// by name alone), or of an operator its model's opset does not define
// yet (opsetIntroduced).
func asRuntimeOpset(mp *gonnxpb.ModelProto) error {
	var v int64 = -1
	for _, o := range mp.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			v = o.GetVersion()
		}
		if o.GetDomain() == "ai.onnx.ml" && o.GetVersion() > newestMLOpset {
			return fmt.Errorf("ai.onnx.ml opset %d: mlrun's Go ONNX runtime (gonnx) runs models of ai.onnx.ml opsets up to %d", o.GetVersion(), newestMLOpset)
		}
	}
	for _, n := range mp.GetGraph().GetNode() {
		switch d := n.GetDomain(); d {
		case "", "ai.onnx":
			if since, ok := opsetIntroduced[n.GetOpType()]; ok && v != -1 && since > v {
				return fmt.Errorf("opset %d: operator %s is defined from opset %d on", v, n.GetOpType(), since)
			}
		case "ai.onnx.ml":
		default:
			return fmt.Errorf("node %q: operator %s of domain %s is not supported by mlrun's Go ONNX runtime (gonnx), which runs ai.onnx and ai.onnx.ml operators", n.GetName(), n.GetOpType(), d)
		}
	}
	if v == runtimeOpset || v == -1 {
		return nil
	}
	if v > newestOpset {
		return fmt.Errorf("opset %d: mlrun's Go ONNX runtime (gonnx) runs models of opsets up to %d", v, newestOpset)
	}
	if v < runtimeOpset {
		for _, n := range mp.GetGraph().GetNode() {
			if n.GetDomain() != "" && n.GetDomain() != "ai.onnx" {
				continue
			}
			// An operator the runtime lacks is named later, by the check
			// of every node's operator.
			if since, ok := sameSince[n.GetOpType()]; ok && since > v {
				return fmt.Errorf("opset %d: operator %s of opset %d is not opset %d's, which mlrun's Go ONNX runtime (gonnx) runs (it does from opset %d)", v, n.GetOpType(), v, runtimeOpset, since)
			}
		}
		setOpset(mp)
		return nil
	}
	for _, n := range mp.GetGraph().GetNode() {
		if n.GetDomain() != "" && n.GetDomain() != "ai.onnx" {
			continue
		}
		for _, c := range opsetChanges[n.GetOpType()] {
			if c.since > v {
				break
			}
			if c.changed {
				return fmt.Errorf("opset %d: operator %s changed in opset %d; mlrun's Go ONNX runtime (gonnx) runs it as opset %d defines it", v, n.GetOpType(), c.since, runtimeOpset)
			}
			for _, a := range n.GetAttribute() {
				def, added := c.attrs[a.GetName()]
				if !added {
					continue
				}
				if d, ok := def.(int64); !ok || a.GetType() != gonnxpb.AttributeProto_INT || a.GetI() != d {
					return fmt.Errorf("opset %d: node %q sets %s's attribute %s (added in opset %d), which mlrun's Go ONNX runtime (gonnx) does not implement", v, n.GetName(), n.GetOpType(), a.GetName(), c.since)
				}
			}
		}
	}
	setOpset(mp)
	return nil
}

// setOpset sets the model's ai.onnx opset import to the runtime's.
func setOpset(mp *gonnxpb.ModelProto) {
	for _, o := range mp.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			o.Version = runtimeOpset
		}
	}
}
