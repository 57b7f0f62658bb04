package onnx

import (
	"maps"
	"slices"
	"testing"
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
