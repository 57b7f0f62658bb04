#!/usr/bin/python3
"""Makes the ONNX models the Go ONNX runtime is tested on (Debian's
python3-onnx builds and checks them) and writes, to onnx/predictions.json,
the values numpy computes for each graph in float32 — Debian's onnx 1.12
has no onnx.reference evaluator and onnxruntime is not packaged, so numpy
evaluates the same operators.

Run from this folder:  /usr/bin/python3 make_onnx_predictions.py
"""
import json

import numpy as np
import onnx
from onnx import TensorProto, helper

rng = np.random.RandomState(3)
rows = rng.rand(7, 4).astype(np.float32)
out = {"onnx_version": onnx.__version__, "rows": rows.astype(np.float64).tolist(), "models": {}}


def save(name, nodes, inits, outputs, opset=13, inputs=None):
    graph = helper.make_graph(nodes, name, inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              outputs, initializer=inits)
    model = helper.make_model(graph, producer_name="mlrun-fixtures", opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, "onnx/" + name + ".onnx")


def tensor(name, a):
    return helper.make_tensor(name, TensorProto.FLOAT, a.shape, a.flatten().tolist())


# A two-layer perceptron: Gemm, Relu, Gemm, Sigmoid.
W1, b1 = rng.randn(4, 3).astype(np.float32), rng.randn(3).astype(np.float32)
W2, b2 = rng.randn(3, 2).astype(np.float32), rng.randn(2).astype(np.float32)
save("mlp", [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "W2", "b2"], ["z"]), helper.make_node("Sigmoid", ["z"], ["y"])],
     [tensor("W1", W1), tensor("b1", b1), tensor("W2", W2), tensor("b2", b2)],
     [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])])
h = np.maximum(rows @ W1 + b1, np.float32(0))
y = (np.float32(1) / (np.float32(1) + np.exp(-(h @ W2 + b2)))).astype(np.float32)
out["models"]["mlp.onnx"] = {"output": "y", "values": y.astype(np.float64).tolist()}

# linear.onnx (make_fixtures.py): y = x @ W + B.
W = np.array([[1.0], [-2.0], [0.5], [3.0]], dtype=np.float32)
out["models"]["linear.onnx"] = {"output": "y", "values": (rows @ W + np.float32(0.1)).astype(np.float64).tolist()}

# external/model.onnx: saved as mlflow.onnx.save_model saves (onnx.save_model
# with save_as_external_data=True, its default): W1 (1 KiB) goes to a
# uuid-named file beside model.onnx, the smaller tensors stay inside.
from onnx import numpy_helper
import os
E1, e1 = rng.randn(4, 64).astype(np.float32), rng.randn(64).astype(np.float32)
E2, e2 = rng.randn(64, 2).astype(np.float32), rng.randn(2).astype(np.float32)
graph = helper.make_graph([helper.make_node("Gemm", ["x", "W1", "b1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
                           helper.make_node("Gemm", ["r", "W2", "b2"], ["y"])], "external",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
                          initializer=[numpy_helper.from_array(E1, "W1"), numpy_helper.from_array(e1, "b1"),
                                       numpy_helper.from_array(E2, "W2"), numpy_helper.from_array(e2, "b2")])
model = helper.make_model(graph, producer_name="mlrun-fixtures", opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.checker.check_model(model)
os.makedirs("onnx/external", exist_ok=True)
for f in os.listdir("onnx/external"):
    os.remove(os.path.join("onnx/external", f))
onnx.save_model(model, "onnx/external/model.onnx", save_as_external_data=True)
assert len(os.listdir("onnx/external")) == 2, "W1 was not saved as external data"
h = np.maximum(rows @ E1 + e1, np.float32(0))
out["models"]["external/model.onnx"] = {"output": "y", "values": (h @ E2 + e2).astype(np.float32).astype(np.float64).tolist()}

# Later opsets run where their operators mean what opset 13 meant
# (opsets.go, from make_onnx_opsets.py): Relu (14 added input types) at 15,
# the perceptron at 17.
save("opset15", [helper.make_node("Relu", ["x"], ["y"])], [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])], opset=15)
out["models"]["opset15.onnx"] = {"output": "y", "values": np.maximum(rows, np.float32(0)).astype(np.float64).tolist()}
# Earlier opsets run where their operators mean what opset 13's do: Relu
# (unchanged since 6) at 12.
save("opset12", [helper.make_node("Relu", ["x"], ["y"])], [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])], opset=12)
out["models"]["opset12.onnx"] = out["models"]["opset15.onnx"]
save("mlp17", [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
               helper.make_node("Gemm", ["r", "W2", "b2"], ["z"]), helper.make_node("Sigmoid", ["z"], ["y"])],
     [tensor("W1", W1), tensor("b1", b1), tensor("W2", W2), tensor("b2", b2)],
     [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])], opset=17)
out["models"]["mlp17.onnx"] = out["models"]["mlp.onnx"]

# What skl2onnx makes of StandardScaler + LinearRegression today: ai.onnx.ml's
# Scaler and LinearRegressor, opset imports ai.onnx 17 and ai.onnx.ml 3.
off, sc = rng.randn(4).astype(np.float32), (rng.rand(4) + 0.5).astype(np.float32)
coef, ic = rng.randn(4).astype(np.float32), np.float32(0.3)
graph = helper.make_graph([helper.make_node("Scaler", ["x"], ["s"], domain="ai.onnx.ml", offset=off.tolist(), scale=sc.tolist()),
                           helper.make_node("LinearRegressor", ["s"], ["y"], domain="ai.onnx.ml", coefficients=coef.tolist(), intercepts=[float(ic)])],
                          "sklearn17", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])])
model = helper.make_model(graph, producer_name="mlrun-fixtures", opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "onnx/sklearn17.onnx")
out["models"]["sklearn17.onnx"] = {"output": "y", "values": (((rows - off) * sc) @ coef + ic).reshape(-1, 1).astype(np.float32).astype(np.float64).tolist()}

# What the Go runtime refuses: an operator it lacks (randomness), an opset before 13,
# an attribute added after 13 set to what opset 13 could not do, an
# operator of another domain (onnxruntime's contrib ops), an operator the
# model's opset does not define yet, and at load, by a batch of zeros, a
# node asking for training (ops.go refuses it when it runs).
save("random", [helper.make_node("RandomNormalLike", ["x"], ["y"])], [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])])
# Softmax at opset 11 flattened its input to 2-D from axis on, which
# opset 13's does not.
save("softmax11", [helper.make_node("Softmax", ["x"], ["y"], axis=1)], [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])], opset=11)
save("allowzero", [helper.make_node("Reshape", ["x", "s"], ["y"], allowzero=1)],
     [helper.make_tensor("s", TensorProto.INT64, [2], [-1, 2])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["M", 2])], opset=14)
graph = helper.make_graph([helper.make_node("FusedMatMul", ["x", "x"], ["y"], domain="com.microsoft", transB=1)], "contrib",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "N"])])
model = helper.make_model(graph, producer_name="mlrun-fixtures", opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])
model.ir_version = 8
onnx.save(model, "onnx/contrib.onnx")
# LayerNormalization at opset 16: onnx.checker refuses it too, so it is saved unchecked.
graph = helper.make_graph([helper.make_node("LayerNormalization", ["x", "g"], ["y"])], "early",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
                          initializer=[helper.make_tensor("g", TensorProto.FLOAT, [4], [1, 1, 1, 1])])
model = helper.make_model(graph, producer_name="mlrun-fixtures", opset_imports=[helper.make_opsetid("", 16)])
model.ir_version = 8
onnx.save(model, "onnx/layernorm16.onnx")
save("dropout_training", [helper.make_node("Dropout", ["x", "r", "t"], ["y"])],
     [helper.make_tensor("r", TensorProto.FLOAT, [], [0.5]), helper.make_tensor("t", TensorProto.BOOL, [], [True])],
     [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])])

# Nodes gonnx failed on when it ran them, which ops.go runs: a Transpose
# without perm (its default, reversed axes), a Slice whose end lies past
# the axis (as PyTorch writes x[:, -3:]).
save("transpose_noperm", [helper.make_node("Transpose", ["x"], ["y"])], [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, "N"])])
out["models"]["transpose_noperm.onnx"] = {"output": "y", "values": rows.T.astype(np.float64).tolist()}
save("slice_past_end", [helper.make_node("Slice", ["x", "st", "en", "ax"], ["y"])],
     [helper.make_tensor("st", TensorProto.INT64, [1], [-3]), helper.make_tensor("en", TensorProto.INT64, [1], [2**63 - 1]),
      helper.make_tensor("ax", TensorProto.INT64, [1], [1])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])])
out["models"]["slice_past_end.onnx"] = {"output": "y", "values": rows[:, -3:].astype(np.float64).tolist()}

with open("onnx/predictions.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote", len(out["models"]), "predictions")
