package plugins_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/plugins"
	"github.com/mlrun/mlrun/plugins/builtin"
	"github.com/mlrun/mlrun/plugins/builtin/testdata"
	"github.com/mlrun/mlrun/plugins/flavor"
	"github.com/mlrun/mlrun/plugins/plugintest"
)

// build compiles a Go main package into dir as name.
func build(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// TestBuiltinsThroughTheProcessBoundary builds each built-in flavor's
// executable and calls it through the real loader.
func TestBuiltinsThroughTheProcessBoundary(t *testing.T) {
	dir := t.TempDir()
	for _, name := range builtin.Names() {
		build(t, dir, plugins.Prefix+name, "../cmd/mlrun-flavor-"+name)
	}
	o := plugins.Options{Dirs: []string{dir}, Pins: map[string]string{}, Timeout: 20 * time.Second}
	ctx := context.Background()
	for name, file := range map[string]string{"sklearn": "sklearn/tree.joblib", "xgboost": "xgboost/multi.json", "onnx": "onnx/linear.onnx"} {
		p, err := plugins.Open(ctx, name, o)
		if err != nil {
			t.Fatal(err)
		}
		if p.Path != filepath.Join(dir, plugins.Prefix+name) {
			t.Fatalf("%s found at %s", name, p.Path)
		}
		m, err := p.Inspect(ctx, &flavor.InspectRequest{Path: testdata.Path(file)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(m.Facts) == 0 || m.ModelFile == "" {
			t.Fatalf("%s: %+v", name, m)
		}
		dst := filepath.Join(t.TempDir(), "model")
		r, err := p.Save(ctx, &flavor.SaveRequest{Path: testdata.Path(file), DestDir: dst})
		if err != nil || len(r.Files) != 5 {
			t.Fatalf("%s save: %v %v", name, err, r)
		}
		// A bad file keeps its kind across the boundary.
		_, err = p.Inspect(ctx, &flavor.InspectRequest{Path: testdata.Path("sklearn/evil_system.pkl")})
		if !errors.Is(err, flavor.ErrInvalidModel) || !strings.Contains(err.Error(), "flavor "+name+": Inspect:") {
			t.Fatalf("%s bad input: %v", name, err)
		}
		p.Close()
	}
}

func TestInProcessHarness(t *testing.T) {
	for name, f := range builtin.Flavors {
		c := plugintest.Client(t, f)
		d, err := c.Describe(context.Background())
		if err != nil || d.Name != name {
			t.Fatalf("%s: %+v %v", name, d, err)
		}
		_, err = c.Inspect(context.Background(), &flavor.InspectRequest{Path: "/no/such/model"})
		if !errors.Is(err, flavor.ErrNotFound) {
			t.Fatalf("%s: missing file: %v", name, err)
		}
	}
}

// TestMisbehavingPlugins: a plugin that crashes or hangs mid-call is an
// error naming the flavor and the call, and the host goes on.
func TestMisbehavingPlugins(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, plugins.Prefix+"misbehave", "./testplugins/misbehave")
	o := plugins.Options{Dirs: []string{dir}, Pins: map[string]string{}, Timeout: 2 * time.Second}
	ctx := context.Background()
	for file, want := range map[string]error{"crash": plugins.ErrExited, "panic": plugins.ErrExited, "hang": plugins.ErrTimeout} {
		p, err := plugins.Open(ctx, "misbehave", o)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = p.Inspect(ctx, &flavor.InspectRequest{Path: filepath.Join(dir, file)})
		if !errors.Is(err, want) || !strings.Contains(err.Error(), "flavor misbehave: Inspect:") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%s: got %v, want %v", file, err, want)
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%s: took %s", file, time.Since(start))
		}
		p.Close()
	}
	// The host still works: a healthy call on a new process.
	p, err := plugins.Open(ctx, "misbehave", o)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if m, err := p.Inspect(ctx, &flavor.InspectRequest{Path: "fine"}); err != nil || m.Facts["ok"] != "yes" {
		t.Fatalf("healthy call: %v", err)
	}
}

func TestChecksumPinsAndDiscovery(t *testing.T) {
	dir := t.TempDir()
	bin := build(t, dir, plugins.Prefix+"misbehave", "./testplugins/misbehave")
	b, _ := os.ReadFile(bin)
	sum := sha256.Sum256(b)
	ctx := context.Background()
	good := plugins.Options{Dirs: []string{dir}, Pins: map[string]string{"misbehave": hex.EncodeToString(sum[:])}}
	p, err := plugins.Open(ctx, "misbehave", good)
	if err != nil {
		t.Fatalf("right pin: %v", err)
	}
	p.Close()
	bad := plugins.Options{Dirs: []string{dir}, Pins: map[string]string{"misbehave": strings.Repeat("0", 64)}}
	if _, err := plugins.Open(ctx, "misbehave", bad); !errors.Is(err, plugins.ErrChecksum) {
		t.Fatalf("wrong pin: %v", err)
	}
	if _, err := plugins.Open(ctx, "nosuch", plugins.Options{Dirs: []string{dir}}); !errors.Is(err, plugins.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	t.Setenv("MLRUN_PLUGIN_PATH", dir)
	found := plugins.List(plugins.Options{}.FromEnv())
	has := false
	for _, f := range found {
		has = has || f.Name == "misbehave"
	}
	if !has {
		t.Fatalf("List did not find the plugin on MLRUN_PLUGIN_PATH: %v", found)
	}
	// A binary that is not a plugin is refused with a message, not a hang.
	notPlugin := filepath.Join(dir, plugins.Prefix+"bogus")
	os.WriteFile(notPlugin, []byte("#!/bin/sh\necho hello\n"), 0o755)
	if _, err := plugins.Open(ctx, "bogus", plugins.Options{Dirs: []string{dir}}); err == nil {
		t.Fatal("a non-plugin executable was accepted")
	}
}

// TestExampleFlavorPlugin builds examples/flavor-plugin and loads it
// through the real loader, as a third party's flavor.
func TestExampleFlavorPlugin(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, plugins.Prefix+"csvmodel", "../examples/flavor-plugin")
	p, err := plugins.Open(context.Background(), "csvmodel", plugins.Options{Dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	model := filepath.Join(t.TempDir(), "model.csv")
	os.WriteFile(model, []byte("a,b,c,intercept\n1,2,3,0.5\n"), 0o644)
	m, err := p.Inspect(context.Background(), &flavor.InspectRequest{Path: model})
	if err != nil || m.Facts["features"] != "3" || m.Facts["intercept"] != "0.5" {
		t.Fatalf("%+v %v", m, err)
	}
	dst := filepath.Join(t.TempDir(), "out")
	if _, err := p.Save(context.Background(), &flavor.SaveRequest{Path: model, DestDir: dst}); err != nil {
		t.Fatal(err)
	}
	mm, _ := os.ReadFile(filepath.Join(dst, "MLmodel"))
	if !strings.Contains(string(mm), "csvmodel:") || !strings.Contains(string(mm), "csvmodel_version: 1.0.0") {
		t.Fatalf("MLmodel:\n%s", mm)
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("just one line\n"), 0o644)
	if _, err := p.Inspect(context.Background(), &flavor.InspectRequest{Path: bad}); !errors.Is(err, flavor.ErrInvalidModel) {
		t.Fatalf("bad csv: %v", err)
	}
}
