package onnx_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gonnxpb "github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/mlrun/mlrun/plugins/builtin/onnx"
	"github.com/mlrun/mlrun/plugins/flavor"
)

const externalDir = "../testdata/onnx/external"

// externalCopy copies the external-data fixture (model.onnx and its data
// file, as mlflow.onnx.save_model writes them) into a new folder, with
// edit applied to the model's W1 tensor, and returns the folder and the
// data file's name.
func externalCopy(t *testing.T, edit func(w1 *gonnxpb.TensorProto)) (string, string) {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir(externalDir)
	if err != nil {
		t.Fatal(err)
	}
	var data string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(externalDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() != "model.onnx" {
			data = e.Name()
		} else if edit != nil {
			mp := &gonnxpb.ModelProto{}
			if err := proto.Unmarshal(b, mp); err != nil {
				t.Fatal(err)
			}
			for _, w := range mp.GetGraph().GetInitializer() {
				if w.GetName() == "W1" {
					edit(w)
				}
			}
			if b, err = proto.Marshal(mp); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if data == "" {
		t.Fatal("the fixture has no external data file")
	}
	return dir, data
}

func setLocation(loc string) func(*gonnxpb.TensorProto) {
	return func(w *gonnxpb.TensorProto) {
		for _, e := range w.ExternalData {
			if e.Key == "location" {
				e.Value = loc
			}
		}
	}
}

// TestExternalDataRefusals: a tensor whose external data is not wholly
// in a file inside the model's folder is refused at load, naming the
// tensor and why, as an invalid model: never read from outside the
// folder, never run with zeros in place of the weights.
func TestExternalDataRefusals(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		edit  func(*gonnxpb.TensorProto)
		after func(dir, data string)
		want  string
	}{
		"parent":   {edit: setLocation("../secret"), want: `location "../secret" is not a file inside the model's folder`},
		"absolute": {edit: setLocation(outside), want: "is not a file inside the model's folder"},
		"missing":  {after: func(dir, data string) { os.Remove(filepath.Join(dir, data)) }, want: "no such file"},
		"short": {after: func(dir, data string) { os.Truncate(filepath.Join(dir, data), 1000) },
			want: "holds 1000 bytes, not 1024 at offset 0"},
		"link out": {after: func(dir, data string) {
			os.Remove(filepath.Join(dir, data))
			os.Symlink(outside, filepath.Join(dir, data))
		}, want: "escapes"},
		"bad offset": {edit: func(w *gonnxpb.TensorProto) {
			w.ExternalData = append(w.ExternalData, &gonnxpb.StringStringEntryProto{Key: "offset", Value: "-4"})
		}, want: `offset "-4" is not a byte count`},
		"no data": {edit: func(w *gonnxpb.TensorProto) {
			w.ExternalData, w.DataLocation = nil, gonnxpb.TensorProto_DEFAULT
		}, want: "0 values for dims [4 64]"},
		"wrong length": {edit: func(w *gonnxpb.TensorProto) {
			w.ExternalData = append(w.ExternalData[:1], &gonnxpb.StringStringEntryProto{Key: "length", Value: "512"})
		}, want: "512 bytes of data for dims [4 64] of 4-byte elements"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir, data := externalCopy(t, c.edit)
			if c.after != nil {
				c.after(dir, data)
			}
			_, err := onnx.LoadPredictor(filepath.Join(dir, "model.onnx"))
			if !errors.Is(err, flavor.ErrInvalidModel) || !strings.Contains(err.Error(), `tensor "W1"`) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want an invalid model naming W1 and %q", err, c.want)
			}
			// Logging the file refuses it the same way, writing nothing.
			dst := filepath.Join(t.TempDir(), "logged")
			_, err = onnx.Flavor{}.Save(context.Background(), &flavor.SaveRequest{Path: filepath.Join(dir, "model.onnx"), DestDir: dst})
			if !errors.Is(err, flavor.ErrInvalidModel) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("save: err = %v", err)
			}
			if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("save wrote %s: %v", dst, err)
			}
		})
	}
}

// TestSaveInlinesExternalData: logging a model whose weights are in a
// file beside it writes a folder whose model.onnx holds them, so the
// logged model predicts as the original does (numpy's values).
func TestSaveInlinesExternalData(t *testing.T) {
	dir, _ := externalCopy(t, nil)
	dst := filepath.Join(t.TempDir(), "logged")
	r, err := onnx.Flavor{}.Save(context.Background(), &flavor.SaveRequest{Path: filepath.Join(dir, "model.onnx"), DestDir: dst})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dst, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	mp := &gonnxpb.ModelProto{}
	if err := proto.Unmarshal(b, mp); err != nil {
		t.Fatal(err)
	}
	if onnx.HasExternalData(mp) {
		t.Fatal("the logged model.onnx still points at external data")
	}
	for _, f := range r.Files {
		if f != "model.onnx" && !strings.Contains("MLmodel conda.yaml python_env.yaml requirements.txt", f) {
			t.Errorf("logged %s", f)
		}
	}
	want, err := onnx.LoadPredictor(filepath.Join(externalDir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := onnx.LoadPredictor(filepath.Join(dst, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{0.1, 0.2, 0.3, 0.4, -1, 2, 0.5, 0}
	a, err := want.Predict(x, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	g, err := got.Predict(x, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range a["y"].Values {
		if g["y"].Values[i] != v {
			t.Fatalf("logged model predicts %v, the original %v", g["y"].Values, a["y"].Values)
		}
	}
}
