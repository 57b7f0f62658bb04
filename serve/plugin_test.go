package serve_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/plugins"
	"github.com/mlrun/mlrun/plugins/flavor"
	"github.com/mlrun/mlrun/serve"
)

// TestPluginPredicts: a third-party flavor that implements the protocol's
// optional Predict (examples/flavor-plugin, built as the real executable
// and found through the real loader) serves its model: a model folder
// its Save wrote is scored through /invocations by two sessions on the
// plugin; a batch it refuses is MLflow's generic 400 with its message,
// and the sessions go on.
func TestPluginPredicts(t *testing.T) {
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, plugins.Prefix+"csvmodel"), "../examples/flavor-plugin").CombinedOutput(); err != nil {
		t.Fatalf("build the example plugin: %v\n%s", err, out)
	}
	opts := plugins.Options{Dirs: []string{bin}, Pins: map[string]string{}}
	src := filepath.Join(t.TempDir(), "lin.csv")
	os.WriteFile(src, []byte("a,b,intercept\n2,-1,0.5\n"), 0o644)
	p, err := plugins.Open(context.Background(), "csvmodel", opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "model")
	if _, err := p.Save(context.Background(), &flavor.SaveRequest{Path: src, DestDir: dir}); err != nil {
		t.Fatal(err)
	}
	p.Close()

	m, err := serve.Load(dir, serve.LoadOptions{Plugins: &opts, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Flavor != "csvmodel" || m.Runtime != "plugin" {
		t.Fatalf("flavor %s runtime %s", m.Flavor, m.Runtime)
	}
	srv := httptest.NewServer(serve.NewHandler(m, serve.Options{}))
	defer srv.Close()
	// 2*a - b + 0.5
	if code, _, body := post(t, srv.URL, "application/json", `{"inputs": [[1, 1], [3, 0.5]]}`); code != 200 || body != `{"predictions": [1.5,6]}` {
		t.Errorf("predict: %d %s", code, body)
	}
	if code, _, body := post(t, srv.URL, "application/json", `{"inputs": [[1, 1, 1]]}`); code != 400 || !strings.Contains(body, "Shape of input (1, 3) does not match expected shape (-1, 2)") {
		t.Errorf("signature: %d %s", code, body)
	}
	if code, _, body := post(t, srv.URL, "application/json", `{"inputs": [[1, "x"]]}`); code != 400 || !strings.Contains(body, `"error_code":"BAD_REQUEST"`) || !strings.Contains(body, "row 0: x is not a number") {
		t.Errorf("refused batch: %d %s", code, body)
	}
	for i := 0; i < 4; i++ {
		if code, _, body := post(t, srv.URL, "application/json", `{"dataframe_split": {"data": [[0, 0]]}}`); code != 200 || body != `{"predictions": [0.5]}` {
			t.Errorf("after the refusal: %d %s", code, body)
		}
	}
	// No plugin for the flavor: not served.
	if _, err := serve.Load(dir, serve.LoadOptions{Plugins: &plugins.Options{Dirs: []string{t.TempDir()}, Pins: map[string]string{}}}); err == nil || !strings.Contains(err.Error(), "csvmodel") {
		t.Errorf("no plugin: %v", err)
	}
}
