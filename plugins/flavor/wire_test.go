package flavor

import (
	"strings"
	"testing"

	"github.com/mlrun/mlrun/plugins/internal/proto/flavorv1"
)

// TestPyfuncExtraIsAProtoField: the python_function keys travel in the
// declared field pyfunc_extra_json, not hidden in flavor_json; a response
// of an older plugin (the hidden key) is still read.
func TestPyfuncExtraIsAProtoField(t *testing.T) {
	m := &Model{Flavor: map[string]any{"pickled_model": "model.pkl"}, PyfuncExtra: map[string]any{"model_path": "model.pkl", "predict_fn": "predict"}}
	r, err := modelToProto(m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.FlavorJson, "pyfunc") || r.PyfuncExtraJson != `{"model_path":"model.pkl","predict_fn":"predict"}` {
		t.Fatalf("on the wire: flavor_json %q, pyfunc_extra_json %q", r.FlavorJson, r.PyfuncExtraJson)
	}
	back, err := modelFromProto(r)
	if err != nil || back.PyfuncExtra["predict_fn"] != "predict" || len(back.Flavor) != 1 {
		t.Fatalf("read back: %+v %v", back, err)
	}
	legacy, err := modelFromProto(&flavorv1.InspectResponse{FlavorJson: `{"data":"m","\u0000pyfunc":{"model_path":"m"}}`})
	if err != nil || legacy.PyfuncExtra["model_path"] != "m" || len(legacy.Flavor) != 1 {
		t.Fatalf("an older plugin's response: %+v %v", legacy, err)
	}
	if _, err := modelFromProto(&flavorv1.InspectResponse{PyfuncExtraJson: "{"}); err == nil {
		t.Fatal("malformed pyfunc_extra_json accepted")
	}
}
