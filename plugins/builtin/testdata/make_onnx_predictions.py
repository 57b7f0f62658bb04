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

# What the Go runtime refuses: an operator it lacks, another opset.
save("erf", [helper.make_node("Erf", ["x"], ["y"])], [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])])
save("opset15", [helper.make_node("Relu", ["x"], ["y"])], [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])], opset=15)

with open("onnx/predictions.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote", len(out["models"]), "predictions")
