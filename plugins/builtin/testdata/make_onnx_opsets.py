#!/usr/bin/python3
"""Writes ../onnx/opsets.go: for each operator of gonnx's opset-13 runtime, how
its ONNX definition changed in the opsets after 13 that Debian's onnx knows
(onnx.defs.get_all_schemas_with_history(): 1.12.0 knows up to opset 17). A
later version either only allows more input types ("types"), or also adds
attributes ("attrs"), each with the default that keeps opset 13's behaviour,
or changes more ("changed": inputs, outputs, attributes removed or given
another default). mlrun runs a model of a later opset on the opset-13
runtime only when every node's operator is unchanged, or changed by types
alone, or by attributes the node leaves at those defaults.

The operators mlrun adds to gonnx's (../onnx/ops.go: OURS below) implement,
by hand, every version ONNX defines from opset 13 to the newest: each lists the
versions its Go code was checked against (BatchNormalization's 14 and 15 added
training_mode and changed the optional outputs, which inference refuses;
the others' later versions only take more input types). A version not listed
stops this script, to be reviewed; an operator that ONNX defines only after
13 is refused in a model of an earlier opset (opsetIntroduced). A model of an
opset before 13 runs when each of its operators means there what it means in
13 (sameSince).

Run from this folder:  /usr/bin/python3 make_onnx_opsets.py && gofmt -w ../onnx/opsets.go
"""
import onnx
import onnx.defs as D
from onnx import helper

GONNX = ("Abs Acos Acosh Add And Asin Asinh Atan Atanh Cast Concat Constant ConstantOfShape Conv Cos "
         "Cosh Div Equal Flatten Gather Gemm Greater GreaterOrEqual GRU Less LessOrEqual LSTM MatMul Mul "
         "Not Or PRelu Relu Reshape RNN Shape Sigmoid Sin Sinh Slice Softmax Squeeze Sub Tan Tanh "
         "Transpose Unsqueeze Xor").split()

OURS = {
    "ArgMax": {13}, "ArgMin": {13}, "AveragePool": {11}, "BatchNormalization": {9, 14, 15}, "Ceil": {13}, "Celu": {12},
    "Conv": {11}, "GlobalAveragePool": {1}, "GlobalMaxPool": {1}, "MaxPool": {12}, "Pad": {13},
    "Clip": {13}, "Dropout": {13}, "Elu": {6}, "Erf": {13}, "Exp": {13}, "Floor": {13},
    "HardSigmoid": {6}, "HardSwish": {14}, "Identity": {13, 14, 16}, "LayerNormalization": {17},
    "LeakyRelu": {6, 16}, "Log": {13}, "LogSoftmax": {13}, "Max": {13}, "Mean": {13}, "Min": {13},
    "Neg": {13}, "Pow": {13, 15}, "Reciprocal": {13}, "ReduceL1": {13}, "ReduceL2": {13},
    "ReduceLogSum": {13}, "ReduceLogSumExp": {13}, "ReduceMax": {13}, "ReduceMean": {13}, "ReduceMin": {13}, "ReduceProd": {13},
    "ReduceSum": {13}, "ReduceSumSquare": {13}, "Round": {11}, "Selu": {6}, "Sign": {13},
    "Slice": {13}, "Softplus": {1}, "Softsign": {1}, "Sqrt": {13}, "Sum": {13},
    "ThresholdedRelu": {10}, "Transpose": {13}, "Where": {9, 16},
    "Concat": {13}, "CumSum": {11, 14}, "Expand": {13}, "GatherElements": {13}, "Hardmax": {13}, "InstanceNormalization": {6},
    "IsInf": {10}, "IsNaN": {13}, "Mod": {13}, "Range": {11}, "Shrink": {9}, "Size": {13}, "Split": {13},
    "Tile": {13}, "TopK": {11}, "Trilu": {14},
    "ConvTranspose": {11}, "DepthToSpace": {13}, "Resize": {13}, "SpaceToDepth": {13}, "Upsample": {10},
    "CastLike": {15}, "Einsum": {12}, "EyeLike": {9}, "GatherND": {13}, "LRN": {13},
    "MeanVarianceNormalization": {13}, "NonZero": {13}, "OneHot": {11}, "Scatter": {11},
    "ScatterElements": {13, 16}, "ScatterND": {13, 16},
}

# The ai.onnx.ml operators of ops.go (ml.go), each with the versions of
# that domain its Go code was checked against (TreeEnsemble's 3 added the
# *_as_tensor attributes, which it reads).
OURS_ML = {
    "ArrayFeatureExtractor": {1}, "Binarizer": {1}, "Imputer": {1}, "LinearClassifier": {1},
    "FeatureVectorizer": {1}, "Normalizer": {1}, "OneHotEncoder": {1}, "SVMClassifier": {1}, "SVMRegressor": {1}, "TreeEnsembleClassifier": {1, 3},
    "TreeEnsembleRegressor": {1, 3},
}
ML_LAST = 3

last = D.onnx_opset_version()


def params(ps):
    return [(p.name, p.option, p.typeStr) for p in ps]


def default(a):
    if not a.default_value.name:
        return None
    return helper.get_attribute_value(a.default_value)


def compare(old, new):
    """'types', ('attrs', {name: default}) or 'changed'."""
    if params(old.inputs) != params(new.inputs) or params(old.outputs) != params(new.outputs):
        return "changed"
    olds = {c.type_param_str: set(c.allowed_type_strs) for c in old.type_constraints}
    news = {c.type_param_str: set(c.allowed_type_strs) for c in new.type_constraints}
    if olds.keys() != news.keys() or any(not olds[k] <= news[k] for k in olds):
        return "changed"
    added = {}
    for name, a in new.attributes.items():
        if name not in old.attributes:
            if a.required:
                return "changed"
            added[name] = default(a)
            continue
        o = old.attributes[name]
        if o.type != a.type or o.required != a.required or default(o) != default(a):
            return "changed"
    if any(name not in new.attributes for name in old.attributes):
        return "changed"
    return ("attrs", added) if added else "types"


def go_value(v):
    if v is None:
        return "nil"
    if isinstance(v, int):
        return "int64(%d)" % v
    raise SystemExit("an added attribute with a default of type %s: teach make_onnx_opsets.py" % type(v))


for op in sorted(OURS_ML):
    seen = {D.get_schema(op, v, "ai.onnx.ml").since_version for v in range(1, ML_LAST + 1)}
    if not seen <= OURS_ML[op]:
        raise SystemExit("%s: ai.onnx.ml versions %s, reviewed %s: review ml.go against the new ones" % (op, sorted(seen), sorted(OURS_ML[op])))
try:
    D.get_schema("TreeEnsembleClassifier", ML_LAST + 1, "ai.onnx.ml")
    if D.get_schema("TreeEnsembleClassifier", ML_LAST + 1, "ai.onnx.ml").since_version > ML_LAST:
        raise SystemExit("onnx knows ai.onnx.ml opsets after %d: review ml.go and raise ML_LAST" % ML_LAST)
except onnx.defs.SchemaError:
    pass

introduced = []
for op in sorted(OURS):
    seen = set()
    for v in range(13, last + 1):
        try:
            seen.add(D.get_schema(op, v).since_version)
        except onnx.defs.SchemaError:
            continue
    if not seen or not seen <= OURS[op]:
        raise SystemExit("%s: versions %s, reviewed %s: review ops.go against the new ones" % (op, sorted(seen), sorted(OURS[op])))
    try:
        D.get_schema(op, 13)
    except onnx.defs.SchemaError:
        first = min(seen)
        introduced.append('\t"%s": %d,' % (op, first))

lines = []
for op in [g for g in GONNX if g not in OURS]:
    at13 = D.get_schema(op, 13).since_version
    changes = []
    prev = D.get_schema(op, 13)
    for v in range(14, last + 1):
        s = D.get_schema(op, v)
        if s.since_version == prev.since_version:
            continue
        kind = compare(D.get_schema(op, 13), s)
        if kind == "changed":
            changes.append("{since: %d, changed: true}" % s.since_version)
        elif kind == "types":
            changes.append("{since: %d}" % s.since_version)
        else:
            attrs = ", ".join('"%s": %s' % (k, go_value(d)) for k, d in sorted(kind[1].items()))
            changes.append("{since: %d, attrs: map[string]any{%s}}" % (s.since_version, attrs))
        prev = s
    if changes:
        lines.append('\t"%s": {%s},' % (op, ", ".join(changes)))

# Older opsets: the oldest opset from which each operator of the runtime
# means what opset 13's does (by the same comparison, older against 13),
# so that a model of an opset before 13 runs when every node's operator
# is that old. Opset 13 changed what Softmax's, LogSoftmax's and Hardmax's
# axis means (no longer the input flattened to 2-D), which no schema field
# shows: they run as of 13 only.
AXIS_13 = {"Softmax", "LogSoftmax", "Hardmax"}
# PRelu-6 applied a one-dimensional slope per channel (axis 1); from 7 it
# broadcasts from the last axis, a change no schema field shows either.
FLOOR = {"PRelu": 7}
# Operators whose older versions ops.go implements by hand as well:
# Upsample's scales as an attribute (7) or an input (9), deprecated in 10.
OLDER = {"Upsample": 7}
older = []
for op in sorted(set(GONNX) | set(OURS)):
    try:
        s13 = D.get_schema(op, 13)
    except onnx.defs.SchemaError:
        continue
    first = 13
    if op not in AXIS_13:
        for v in range(12, 0, -1):
            try:
                s = D.get_schema(op, v)
            except onnx.defs.SchemaError:
                break
            if compare(s, s13) == "changed" or v < FLOOR.get(op, 0):
                break
            first = v
    older.append('\t"%s": %d,' % (op, min(first, OLDER.get(op, first))))

with open("../onnx/opsets.go", "w") as f:
    f.write("""// Code generated by testdata/make_onnx_opsets.py from onnx %s's operator schemas; DO NOT EDIT.

package onnx

// newestOpset is the newest ai.onnx opset whose operator schemas the
// table below was made from.
const newestOpset = %d

// newestMLOpset is the newest ai.onnx.ml opset whose operators of ml.go
// were checked against their schemas.
const newestMLOpset = %d

// opsetChanges lists, for each operator of the opset-13 runtime that
// ONNX changed after opset 13, the versions that changed it: by input
// types alone, by attributes added with defaults that keep opset 13's
// behaviour (a node must leave them at those defaults; nil: absent), or
// otherwise (changed). An operator not listed is unchanged through
// newestOpset.
var opsetChanges = map[string][]opChange{
%s
}

// extraOpsReviewed are the operators of ops.go, each checked against
// every version ONNX defines up to newestOpset.
var extraOpsReviewed = map[string]bool{
%s
}

// opsetIntroduced is the opset that first defines each of those that
// came after 13: a model of an earlier opset cannot use it.
var opsetIntroduced = map[string]int64{
%s
}

// sameSince is, for each operator of the runtime that opset 13 defines,
// the oldest opset from which it means what it means in 13: a node of a
// model of an older opset runs when its operator is that old.
var sameSince = map[string]int64{
%s
}
""" % (onnx.__version__, last, ML_LAST, "\n".join(lines), "\n".join('\t"%s": true,' % op for op in sorted(set(OURS) | set(OURS_ML))), "\n".join(introduced), "\n".join(older)))
print("wrote", len(lines), "changed operators, opsets up to", last)
