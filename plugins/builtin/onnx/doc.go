// Package onnx is the built-in flavor for ONNX models: it decodes the
// ModelProto's protobuf wire format (only the fields it needs, never the
// weights or external data) for the IR version, opsets, producer, and the
// graph's inputs and outputs, turned into an MLflow tensor signature;
// and runs them for serving (Predictor), on gonnx and the operators this
// package adds to it.
package onnx
