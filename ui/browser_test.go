package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
)

// xss is logged everywhere a user can put text; no page may run it.
const xss = `<script>alert("xss")</script><img src=x onerror=alert(1)>`

type seeded struct {
	srv             *testutil.Server
	exp             string
	runA, runB, kid string
	xssExp, xssRun  string
	xssDataset      string // an evaluation dataset of xssExp
}

// seed fills a server with experiments, runs (params, a metric history,
// tags, a nested run, artifacts) and a registered model, with script
// injection attempts in every kind of user text. The server serves its UI
// under prefix (mlrun server --static-prefix; "" for the root).
func seed(t *testing.T, prefix ...string) *seeded {
	t.Helper()
	srv := testutil.StartServer(t, true, func(o *server.Options) {
		if len(prefix) > 0 {
			o.StaticPrefix = prefix[0]
		}
	})
	st := srv.Store
	ctx := context.Background()
	s := &seeded{srv: srv}
	var err error
	if s.exp, err = st.CreateExperiment(ctx, "wine-quality", "", nil); err != nil {
		t.Fatal(err)
	}
	if s.xssExp, err = st.CreateExperiment(ctx, "exp "+xss, "", []store.Tag{{Key: "mlflow.note.content", Value: "about " + xss}}); err != nil {
		t.Fatal(err)
	}
	mk := func(exp, name string, alpha string, start int64, tags ...store.Tag) string {
		r, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp, RunName: name, StartTime: start, UserID: "alice", Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		var ms []store.Metric
		for i := 0; i < 500; i++ {
			v := 1 / (1 + float64(i)*alphaF(alpha))
			ms = append(ms, store.Metric{Key: "rmse", Value: v, Timestamp: start + int64(i)*10, Step: int64(i)})
			if len(ms) == 1000 {
				break
			}
		}
		if err := st.LogBatch(ctx, r.Info.RunID, ms[:500], []store.Param{{Key: "alpha", Value: alpha}, {Key: "model", Value: "enet"}}, []store.Tag{{Key: "team", Value: "ml"}}); err != nil {
			t.Fatal(err)
		}
		fin := store.StatusFinished
		end := start + 6000
		st.UpdateRun(ctx, r.Info.RunID, store.UpdateRun{Status: &fin, EndTime: &end})
		return r.Info.RunID
	}
	s.runA = mk(s.exp, "alpha-run", "0.5", 1700000000000)
	s.runB = mk(s.exp, "beta-run", "0.9", 1700000100000)
	s.kid = mk(s.exp, "child-run", "0.5", 1700000050000, store.Tag{Key: "mlflow.parentRunId", Value: s.runA}, store.Tag{Key: "mlflow.note.content", Value: "a child " + xss})
	s.xssRun = mk(s.xssExp, "run "+xss, xss, 1700000200000, store.Tag{Key: "note", Value: xss})
	st.LogParam(ctx, s.runA, store.Param{Key: "note", Value: xss})
	// Artifacts: a text file, an image, an MLmodel.
	art := func(run, p string, b []byte) {
		r, _ := st.GetRun(ctx, run)
		dst := filepath.Join(srv.Artifacts, strings.TrimPrefix(r.Info.ArtifactURI, "mlflow-artifacts:/"), filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(dst), 0o755)
		os.WriteFile(dst, b, 0o644)
	}
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for x := 0; x < 40; x++ {
		img.Set(x, 10, color.RGBA{0, 100, 200, 255})
	}
	var pngBuf bytes.Buffer
	png.Encode(&pngBuf, img)
	art(s.runA, "notes.txt", []byte("hello from the run\n"+xss+"\n"))
	art(s.runA, "plot.png", pngBuf.Bytes())
	art(s.runA, "model/MLmodel", []byte("flavors:\n  sklearn:\n    sklearn_version: 1.2.1\n"))
	art(s.runA, "mlrun/step.log", []byte("epoch 1\nepoch 2\n"))
	// The registry.
	if _, err := st.CreateRegisteredModel(ctx, "wine-model", []store.Tag{{Key: "owner", Value: xss}}, "desc "+xss); err != nil {
		t.Fatal(err)
	}
	r, _ := st.GetRun(ctx, s.runA)
	v, err := st.CreateModelVersion(ctx, registryVersion("wine-model", r.Info.ArtifactURI+"/model", s.runA))
	if err != nil {
		t.Fatal(err)
	}
	st.SetAlias(ctx, "wine-model", "champion", v.Version)
	st.TransitionStage(ctx, "wine-model", v.Version, "Production", false)
	if err := st.LogInputs(ctx, s.runA, []store.DatasetInput{{Dataset: store.Dataset{Name: "wine " + xss, Digest: "5a1f00d", SourceType: "local", Source: "{}", Schema: "{}"},
		Tags: []store.Tag{{Key: "mlflow.data.context", Value: "training"}}}}); err != nil {
		t.Fatal(err)
	}
	rb, _ := st.GetRun(ctx, s.runB)
	if _, err := st.CreateModelVersion(ctx, registryVersion("wine-model", rb.Info.ArtifactURI+"/model", s.runB)); err != nil {
		t.Fatal(err)
	}
	// MLflow 3's GenAI side: an evaluation dataset with records, a scorer.
	quoted, _ := json.Marshal(xss)
	d, err := st.CreateEvaluationDataset(ctx, "qa "+xss, []store.Tag{{Key: "team", Value: xss}}, []string{s.xssExp})
	if err != nil {
		t.Fatal(err)
	}
	s.xssDataset = d.ID
	if _, _, err := st.UpsertDatasetRecords(ctx, d.ID, []json.RawMessage{
		json.RawMessage(`{"inputs": {"question": ` + string(quoted) + `}, "expectations": {"answer": "Paris"}, "outputs": "Paris!"}`),
		json.RawMessage(`{"inputs": {"question": "2+2?"}, "source": {"source_type": "TRACE", "source_data": {"trace_id": "tr-1"}}}`),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RegisterScorer(ctx, s.xssExp, "judge "+xss, `{"instructions": `+string(quoted)+`}`); err != nil {
		t.Fatal(err)
	}
	// A prompt of MLflow 3's prompt registry: a model with the prompt tag,
	// a version's template in its mlflow.prompt.text tag.
	promptTags := []store.Tag{{Key: "mlflow.prompt.is_prompt", Value: "true"}}
	if _, err := st.CreateRegisteredModel(ctx, "qa-prompt", promptTags, "desc "+xss); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateModelVersion(ctx, registry.CreateVersion{Name: "qa-prompt", Source: "dummy-source", Description: "first " + xss,
		Tags: append(promptTags, store.Tag{Key: "mlflow.prompt.text", Value: "Answer {{question}} " + xss}, store.Tag{Key: "lang", Value: "en"})}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateModelVersion(ctx, registry.CreateVersion{Name: "qa-prompt", Source: "dummy-source", Description: "second",
		Tags: append(promptTags, store.Tag{Key: "mlflow.prompt.text", Value: "Answer {{question}} " + xss + "\nBe brief."})}); err != nil {
		t.Fatal(err)
	}
	st.SetAlias(ctx, "qa-prompt", "production", "1")
	return s
}

func alphaF(s string) float64 {
	var f float64
	fmt.Sscanf(s, "%g", &f)
	if f == 0 || math.IsNaN(f) {
		return 0.1
	}
	return f
}

// screenshotDir is where CI keeps the screenshots (see the README).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("MLRUN_SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join("..", "ci-artifacts", "ui-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func browser(t *testing.T) (context.Context, *atomic.Bool) {
	t.Helper()
	exe := testutil.Require(t, "chromium", "apt-get install chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel3)
	dialog := new(atomic.Bool)
	err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialog.Store(true) // an injected alert() ran; the test fails on it
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx, dialog
}

func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	os.WriteFile(filepath.Join(screenshotDir(t), name+".png"), buf, 0o644)
}

// tab wraps a browser tab with helpers that fail the test.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func (b tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// text is the element's visible text, read with JavaScript (no DOM node
// ids, which a page still settling after a navigation can invalidate).
func (b tab) text(sel string) string {
	b.t.Helper()
	b.until(`document.querySelector(` + strconvQuote(sel) + `) !== null`)
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector(`+strconvQuote(sel)+`).innerText`))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b tab) strings(expr string) []string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func (b tab) int(expr string) int {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// click clicks an element with JavaScript, waiting for it to exist.
func (b tab) click(sel string) {
	b.t.Helper()
	b.until(`document.querySelector(` + strconvQuote(sel) + `) !== null`)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector(`+strconvQuote(sel)+`).click(), true`)); err != nil {
		b.t.Fatalf("click %s: %v", sel, err)
	}
}

// until polls a JavaScript condition (after a click that navigates).
func (b tab) until(expr string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		// The page must also be parsed to the end: a condition on the top of
		// a page can hold while the rest (a pager below a table) is not
		// there yet.
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && (`+expr+`)`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for %s (%v)", expr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func has(t *testing.T, where, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Fatalf("%s does not show %q:\n%.2000s", where, w, text)
		}
	}
}

// TestPagesInChromium walks every page in a real browser, at the root and
// under --static-prefix (every link, form, redirect and script request
// must carry the prefix, or the walk breaks).
func TestPagesInChromium(t *testing.T) {
	for _, prefix := range []string{"", "/mlflow"} {
		t.Run("prefix="+prefix, func(t *testing.T) { pagesInChromium(t, prefix) })
	}
}

func pagesInChromium(t *testing.T, prefix string) {
	s := seed(t, prefix)
	ctx, dialog := browser(t)
	b := tab{t, ctx}
	base := s.srv.URL + prefix
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	shot := func(t *testing.T, ctx context.Context, name string) {
		if prefix == "" { // the same pages; one set of screenshots
			shot(t, ctx, name)
		}
	}

	// Experiments.
	b.do(chromedp.Navigate(base + "/experiments"))
	has(t, "experiments", b.text("#experiments"), "wine-quality", "Default", "exp "+xss)
	shot(t, ctx, "01-experiments")

	// The runs table: seeded values, the nested run under its parent.
	b.do(chromedp.Navigate(base + "/experiments/" + s.exp))
	has(t, "runs", b.text("#runs"), "alpha-run", "beta-run", "child-run", "0.5", "0.9", "params.alpha", "metrics.rmse")
	order := b.strings(`[...document.querySelectorAll("#runs tbody tr td.name a")].map(a => a.textContent)`)
	if strings.Join(order, ",") != "beta-run,alpha-run,child-run" {
		t.Fatalf("rows (child under its parent): %v", order)
	}
	shot(t, ctx, "02-runs")

	// The search box, with the API's grammar, and an inline error.
	b.do(chromedp.SetValue(css("#filter"), "params.alpha = '0.9'"), chromedp.Submit(css("#filter")))
	b.until(`document.querySelector("#filter") && document.querySelector("#filter").defaultValue == "params.alpha = '0.9'"`)
	if text := b.text("#runs tbody"); !strings.Contains(text, "beta-run") || strings.Contains(text, "alpha-run") {
		t.Fatalf("search: %s", text)
	}
	b.do(chromedp.SetValue(css("#filter"), "params.alpha = 0.9"), chromedp.Submit(css("#filter")))
	b.until(`document.querySelector("#search-error") !== null`)
	has(t, "search error", b.text("#search-error"), "Expected a quoted string value")

	// Sorting by a column, both ways.
	b.do(chromedp.Navigate(base+"/experiments/"+s.exp), chromedp.Click(chromedp.JSPath(`[...document.querySelectorAll("th.sortable a")].filter(a => a.textContent == "params.alpha")`)), chromedp.WaitVisible(css("th.sortable.desc")))
	sortedBy := b.text("th.sortable.desc")
	order = b.strings(`[...document.querySelectorAll("#runs tbody tr td.name a")].map(a => a.textContent)`)
	if sortedBy != "params.alpha" || order[0] != "beta-run" {
		t.Fatalf("sorted by %s DESC: %v", sortedBy, order)
	}
	b.click(`th.sortable.desc a`)
	b.until(`document.querySelector("th.sortable.asc") !== null`)
	order = b.strings(`[...document.querySelectorAll("#runs tbody tr td.name a")].map(a => a.textContent)`)
	if order[len(order)-1] != "beta-run" {
		t.Fatalf("sorted by params.alpha ASC: %v", order)
	}

	// A run's page: info, params, metrics, artifacts, previews, the log.
	b.do(chromedp.Navigate(base + "/runs/" + s.runA + "?file=notes.txt"))
	has(t, "run", b.text("main"), "alpha-run", "alice", "FINISHED", "rmse", "notes.txt", "plot.png", "model/", "hello from the run", "epoch 2", xss)
	has(t, "run's datasets", b.text("#datasets"), "wine "+xss, "5a1f00d", "training", "local")
	shot(t, ctx, "03-run")
	// A child run: its description, and its parent linked.
	b.do(chromedp.Navigate(base+"/runs/"+s.kid), chromedp.WaitVisible(css("#parent-run")))
	has(t, "child run", b.text("#run-description"), "a child "+xss)
	b.do(chromedp.Click(css("#parent-run")), chromedp.WaitVisible(css("#run-name")))
	has(t, "child → parent link", b.text("#run-name"), "alpha-run")
	b.do(chromedp.Navigate(base + "/runs/" + s.runA))
	// Its traces: the experiment's traces page filtered on the run.
	b.do(chromedp.Click(css("#run-traces")), chromedp.WaitVisible(css("#traces")))
	if f := b.strings(`[document.querySelector("#filter").value]`); len(f) != 1 || f[0] != "run_id = '"+s.runA+"'" {
		t.Errorf("the run's traces link filters on %q", f)
	}
	b.do(chromedp.Navigate(base+"/runs/"+s.runA+"?file=plot.png"), chromedp.WaitVisible(css("#preview-image")), chromedp.Sleep(300*time.Millisecond))
	if w := b.int(`document.querySelector("#preview-image").naturalWidth`); w != 40 {
		t.Fatalf("image preview width %d", w)
	}
	b.do(chromedp.Navigate(base + "/runs/" + s.runA + "?path=model&file=model/MLmodel"))
	has(t, "MLmodel preview", b.text("#preview"), "sklearn_version: 1.2.1")

	// A chart of two runs, with log scale and smoothing.
	b.do(chromedp.Navigate(base+"/charts?runs="+s.runA+","+s.runB+"&key=rmse"), chromedp.WaitVisible(css(`#chart[data-loaded="true"]`)))
	if lines := b.strings(`[...document.querySelectorAll("#chart polyline.series")].map(l => l.dataset.points)`); len(lines) != 2 || lines[0] != "500" {
		t.Fatalf("chart lines %v", lines)
	}
	b.do(chromedp.Click(css("#log-scale")), chromedp.SetValue(css("#smoothing"), "0.8"))
	shot(t, ctx, "04-chart")

	// Compare two runs picked in the table.
	b.do(chromedp.Navigate(base+"/experiments/"+s.exp),
		chromedp.Click(css(`input[value="`+s.runA+`"]`)), chromedp.Click(css(`input[value="`+s.runB+`"]`)),
		chromedp.Click(css("#compare-btn")), chromedp.WaitVisible(css("#compare")), chromedp.WaitVisible(css(`#chart[data-loaded="true"]`)))
	has(t, "compare", b.text("#compare"), "alpha-run", "beta-run", "alpha", "rmse")
	if diffs, pc := b.int(`document.querySelectorAll("#compare tr.diff").length`), b.int(`document.querySelectorAll("#parallel polyline").length`); diffs < 2 || pc != 2 {
		t.Fatalf("compare: %d differing rows, %d parallel-coordinate lines", diffs, pc)
	}
	shot(t, ctx, "05-compare")

	// The registry, and a version's link to its run.
	b.do(chromedp.Navigate(base + "/models"))
	has(t, "models", b.text("#models"), "wine-model", "@champion", "Production")
	shot(t, ctx, "06-models")
	b.do(chromedp.Navigate(base + "/models/wine-model"))
	has(t, "model", b.text("main"), "v1", "Production", "@champion", s.runA, "desc "+xss)
	shot(t, ctx, "07-model")
	b.do(chromedp.Click(css(`#versions a[href="`+prefix+`/runs/`+s.runA+`"]`)), chromedp.WaitVisible(css("#run-name")))
	has(t, "version → run link", b.text("#run-name"), "alpha-run")
	// The versions' runs compared side by side.
	b.do(chromedp.Navigate(base+"/models/wine-model"), chromedp.Click(css("#compare-versions")), chromedp.WaitVisible(css("#compare")))
	if n := b.strings(`[...document.querySelectorAll("#compare thead th a")].map(a => a.textContent)`); strings.Join(n, ",") != "beta-run,alpha-run" {
		t.Errorf("the versions' comparison shows runs %v, want beta-run (v2) and alpha-run (v1)", n)
	}

	// Paging: one run a page, every run once.
	var paged []string
	b.do(chromedp.Navigate(base + "/experiments/" + s.exp + "?n=1"))
	for i := 0; i < 5; i++ {
		paged = append(paged, b.strings(`[...document.querySelectorAll("#runs tbody td.name a")].map(a => a.textContent)`)...)
		// Follow the page's own "Next page" link; Navigate waits for the
		// new page to load (a JavaScript click did not, and raced in CI).
		next := b.strings(`[...document.querySelectorAll("#next-page")].map(a => a.href)`)
		if len(next) == 0 {
			break
		}
		b.do(chromedp.Navigate(next[0]), chromedp.WaitVisible(css("#first-page")))
	}
	if strings.Join(paged, ",") != "beta-run,child-run,alpha-run" {
		t.Fatalf("paged runs: %v", paged)
	}

	// Delete selected runs, see them under "deleted", restore them.
	b.do(chromedp.Navigate(base+"/experiments/"+s.exp), chromedp.Click(css(`input[value="`+s.runB+`"]`)),
		chromedp.Click(css(`button[formaction$="/runs/delete"]`)))
	b.until(`document.querySelector("#runs") && !document.querySelector("#runs tbody").textContent.includes("beta-run")`)
	if r, _ := s.srv.Store.GetRun(context.Background(), s.runB); r.Info.LifecycleStage != "deleted" {
		t.Fatalf("delete through the UI: %s", r.Info.LifecycleStage)
	}
	b.do(chromedp.Navigate(base+"/experiments/"+s.exp+"?view=deleted_only"), chromedp.Click(css(`input[value="`+s.runB+`"]`)),
		chromedp.Click(css(`button[formaction$="/runs/restore"]`)))
	b.until(`document.querySelector("#runs") && !document.querySelector("#runs tbody").textContent.includes("beta-run")`)
	if r, _ := s.srv.Store.GetRun(context.Background(), s.runB); r.Info.LifecycleStage != "active" {
		t.Fatalf("restore through the UI: %s", r.Info.LifecycleStage)
	}

	// A running run's chart refreshes by itself.
	live, err := s.srv.Store.CreateRun(context.Background(), store.CreateRun{ExperimentID: s.exp, RunName: "live-run"})
	if err != nil {
		t.Fatal(err)
	}
	s.srv.Store.LogMetric(context.Background(), live.Info.RunID, store.Metric{Key: "loss", Value: 1, Timestamp: 1, Step: 0})
	b.do(chromedp.Navigate(base+"/charts?runs="+live.Info.RunID+"&key=loss"), chromedp.WaitVisible(css(`#chart[data-loaded="true"]`)))
	if n := b.strings(`[...document.querySelectorAll("#chart polyline.series")].map(l => l.dataset.points)`); len(n) != 1 || n[0] != "1" {
		t.Fatalf("live chart before: %v", n)
	}
	s.srv.Store.LogMetric(context.Background(), live.Info.RunID, store.Metric{Key: "loss", Value: 0.5, Timestamp: 2, Step: 1})
	s.srv.Store.LogMetric(context.Background(), live.Info.RunID, store.Metric{Key: "loss", Value: 0.25, Timestamp: 3, Step: 2})
	deadline := time.Now().Add(15 * time.Second)
	for {
		n := b.strings(`[...document.querySelectorAll("#chart polyline.series")].map(l => l.dataset.points)`)
		if len(n) == 1 && n[0] == "3" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running run's chart did not refresh: %v", n)
		}
		b.do(chromedp.Sleep(500 * time.Millisecond))
	}

	// MLflow 3's GenAI pages, reached by their links (under the prefix).
	b.do(chromedp.Navigate(base+"/experiments/"+s.xssExp), chromedp.Click(css("#datasets-link")), chromedp.WaitVisible(css("#datasets")))
	has(t, "datasets", b.text("#datasets"), "qa "+xss, s.xssDataset)
	shot(t, ctx, "08-datasets")
	b.do(chromedp.Click(css(`#datasets tbody a`)), chromedp.WaitVisible(css("#records")))
	has(t, "dataset", b.text("#records"), "Paris!", "tr-1", "TRACE")
	shot(t, ctx, "09-dataset")
	b.do(chromedp.Navigate(base+"/experiments/"+s.xssExp), chromedp.Click(css("#scorers-link")), chromedp.WaitVisible(css("#scorers")))
	has(t, "scorers", b.text("#scorers"), "judge "+xss)
	shot(t, ctx, "10-scorers")
	b.do(chromedp.Click(css("#prompts-link")), chromedp.WaitVisible(css("#prompts")))
	has(t, "prompts", b.text("#prompts"), "qa-prompt", "@production")
	b.do(chromedp.Click(css(`#prompts tbody a`)), chromedp.WaitVisible(css("#prompt-versions")))
	has(t, "prompt", b.text("#prompt-versions"), "Answer {{question}} "+xss, "lang=en")
	shot(t, ctx, "11-prompt")

	// Create an experiment through the form (POST with the CSRF token).
	b.do(chromedp.Navigate(base+"/experiments"), chromedp.SetValue(css(`input[name="name"]`), "made-in-ui"),
		chromedp.Submit(css(`input[name="name"]`)))
	b.until(`document.querySelector("#runs") !== null`)
	if _, err := s.srv.Store.GetExperimentByName(context.Background(), "made-in-ui"); err != nil {
		t.Fatalf("create through the UI: %v", err)
	}
	// The injected scripts never ran.
	b.do(chromedp.Navigate(base+"/experiments/"+s.xssExp), chromedp.Navigate(base+"/runs/"+s.xssRun), chromedp.Navigate(base+"/models/wine-model"),
		chromedp.Navigate(base+"/datasets/"+s.xssDataset), chromedp.Navigate(base+"/experiments/"+s.xssExp+"/scorers"), chromedp.Navigate(base+"/prompts/qa-prompt"))
	if dialog.Load() {
		t.Fatal("an injected script ran in the browser")
	}
}

// TestLoggedValuesAreEscaped checks the raw HTML of every page that shows
// user text: the injected markup appears only escaped.
func TestLoggedValuesAreEscaped(t *testing.T) {
	s := seed(t)
	for _, p := range []string{
		"/experiments", "/experiments/" + s.xssExp, "/experiments/" + s.exp, "/runs/" + s.xssRun, "/runs/" + s.runA + "?file=notes.txt",
		"/compare?runs=" + s.runA + "," + s.xssRun, "/charts?runs=" + s.xssRun, "/models", "/models/wine-model",
		"/experiments/" + s.xssExp + "/datasets", "/datasets/" + s.xssDataset, "/experiments/" + s.xssExp + "/scorers",
		"/prompts", "/prompts/qa-prompt",
	} {
		resp, err := http.Get(s.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
		if bytes.Contains(b, []byte(`<script>alert`)) || bytes.Contains(b, []byte(`<img src=x`)) {
			t.Errorf("%s shows the injected markup unescaped", p)
		}
		if !bytes.Contains(b, []byte(`&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;`)) && !bytes.Contains(b, []byte(`&lt;script&gt;`)) {
			t.Errorf("%s does not show the logged value at all", p)
		}
	}
}

// TestGenAIPages: an experiment's evaluation datasets, a dataset with its
// records (a trace's source linked to the trace), and the experiment's
// scorers, each reached from the experiment's page; the prompt registry's
// prompts, apart from the models, with their templates.
func TestGenAIPages(t *testing.T) {
	s := seed(t)
	page := func(p string) string { t.Helper(); return getPage(t, s.srv.URL+p) }
	if runs := page("/experiments/" + s.xssExp); !strings.Contains(runs, `href="/experiments/`+s.xssExp+`/datasets"`) || !strings.Contains(runs, `href="/experiments/`+s.xssExp+`/scorers"`) {
		t.Errorf("the experiment's page links neither its datasets nor its scorers")
	} else if !strings.Contains(runs, `<p id="experiment-description" class="description">about &lt;script&gt;`) {
		t.Errorf("the experiment's page lacks its description (mlflow.note.content)")
	}
	if list := page("/experiments/" + s.xssExp + "/datasets"); !strings.Contains(list, `href="/datasets/`+s.xssDataset+`"`) || !strings.Contains(list, `{&#34;num_records&#34;: 2}`) {
		t.Errorf("datasets page:\n%s", list)
	}
	if empty := page("/experiments/" + s.exp + "/datasets"); !strings.Contains(empty, "No evaluation datasets.") {
		t.Errorf("an experiment without datasets:\n%s", empty)
	}
	d := page("/datasets/" + s.xssDataset)
	for _, want := range []string{`&#34;answer&#34;: &#34;Paris&#34;`, `&#34;Paris!&#34;`, `<a href="/traces/tr-1">tr-1</a>`, `href="/experiments/` + s.xssExp + `/datasets"`} {
		if !strings.Contains(d, want) {
			t.Errorf("dataset page lacks %s:\n%s", want, d)
		}
	}
	if sc := page("/experiments/" + s.xssExp + "/scorers"); !strings.Contains(sc, "&lt;script&gt;") || !strings.Contains(sc, "<td>1</td><td>1</td>") {
		t.Errorf("scorers page:\n%s", sc)
	}
	// A trace's page shows its feedback and expectations.
	tr, err := s.srv.Store.StartTrace(context.Background(), s.xssExp, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.srv.Store.CreateAssessment(context.Background(), store.Assessment{TraceID: tr.RequestID, Name: "relevance", Type: "feedback",
		Value: "0.9", SourceType: "LLM_JUDGE", SourceID: "judge-1", Rationale: "because " + xss, Valid: true}); err != nil {
		t.Fatal(err)
	}
	if tp := page("/traces/" + tr.RequestID); !strings.Contains(tp, "<td>relevance</td><td>feedback</td><td><code>0.9</code></td>") ||
		!strings.Contains(tp, "because &lt;script&gt;") || !strings.Contains(tp, "LLM_JUDGE (judge-1)") {
		t.Errorf("trace page's assessments:\n%s", tp)
	}
	if list := page("/experiments/" + s.xssExp + "/traces"); !strings.Contains(list, `<td class="assessments"><span class="pill">relevance=0.9</span>`) {
		t.Errorf("the trace list lacks the trace's feedback:\n%s", list)
	}
	// Sessions: the traces sharing an mlflow.trace.session, latest first.
	var inS1 []string
	for i, tr := range []struct{ session, user string }{{"s-1", "alice"}, {"s-1", "bob"}, {"s-2", "alice"}} {
		ti, err := s.srv.Store.StartTrace(context.Background(), s.xssExp, int64(10+10*i), []store.Tag{{Key: "mlflow.trace.session", Value: tr.session}, {Key: "mlflow.trace.user", Value: tr.user}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tr.session == "s-1" {
			inS1 = append(inS1, ti.RequestID)
		}
	}
	sessions := page("/experiments/" + s.xssExp + "/sessions")
	rows := regexp.MustCompile(`(?s)<tr>\s*<td><a href="([^"]*)">(s-\d)</a></td>\s*<td>(\d+)</td><td>0</td><td>[^<]*</td><td>[^<]*</td>\s*<td>([^<]*)</td>`).FindAllStringSubmatch(sessions, -1)
	if len(rows) != 2 || rows[0][2] != "s-2" || rows[1][2] != "s-1" || rows[1][3] != "2" || rows[1][4] != "alice, bob" {
		t.Fatalf("sessions page (%v):\n%s", rows, sessions)
	}
	if traces := page(html.UnescapeString(rows[1][1])); !strings.Contains(traces, inS1[0]) || !strings.Contains(traces, inS1[1]) || strings.Contains(traces, tr.RequestID) {
		t.Errorf("the session's traces (%s):\n%s", rows[1][1], traces)
	}

	// Prompts: listed apart from the models, a version's template shown.
	if list := page("/prompts"); !strings.Contains(list, `href="/prompts/qa-prompt"`) || !strings.Contains(list, "@production → v1") || strings.Contains(list, "wine-model") {
		t.Errorf("prompts page:\n%s", list)
	}
	if models := page("/models"); strings.Contains(models, "qa-prompt") {
		t.Errorf("the models page lists the prompt")
	}
	if p := page("/prompts/qa-prompt"); !strings.Contains(p, "Answer {{question}} &lt;script&gt;") || !strings.Contains(p, "lang=en") || strings.Contains(p, "mlflow.prompt.is_prompt=") {
		t.Errorf("prompt page:\n%s", p)
	}
	// Two versions compared, as MLflow's prompt page compares them: the
	// line both have, the one v2 added.
	if p := page("/prompts/qa-prompt"); !strings.Contains(p, `id="compare"`) || strings.Contains(p, `id="prompt-diff"`) {
		t.Errorf("prompt page: no compare form, or a diff nobody asked for")
	}
	if p := page("/prompts/qa-prompt?from=1&to=2"); !strings.Contains(p, `<span class="same">  Answer {{question}} &lt;script&gt;`) ||
		!strings.Contains(p, `<span class="add">&#43; Be brief.</span>`) || strings.Contains(p, `class="del"`) || !strings.Contains(p, "v1 → v2") {
		t.Errorf("prompt comparison:\n%s", p)
	}
	for _, bad := range []string{"/prompts/wine-model", "/prompts/nope", "/prompts/qa-prompt?from=1&to=9"} {
		resp, err := http.Get(s.srv.URL + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", bad, resp.StatusCode)
		}
	}
	resp, err := http.Get(s.srv.URL + "/datasets/d-nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("an unknown dataset's page: %d", resp.StatusCode)
	}
}

func TestFormsNeedTheCSRFToken(t *testing.T) {
	s := seed(t)
	resp, err := http.PostForm(s.srv.URL+"/experiments/create", url.Values{"name": {"sneaky"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a POST without the token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", s.srv.URL+"/experiments/"+s.exp+"/delete", strings.NewReader("csrf=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "mlrun_csrf", Value: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"})
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a POST with a wrong token: %d", resp.StatusCode)
	}
	if e, _ := s.srv.Store.GetExperiment(context.Background(), s.exp); e.LifecycleStage != "active" {
		t.Fatal("a forged POST changed data")
	}
	if _, err := s.srv.Store.GetExperimentByName(context.Background(), "sneaky"); err == nil {
		t.Fatal("a forged POST created an experiment")
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestMLflowHashRoutes: the links MLflow's client prints (MLflow's UI
// routes after '#', on the tracking URI: the root, even when the UI is
// under --static-prefix) land on this UI's pages: runs, experiments and
// their tabs (traces, a trace by MLflow's query or clean URL, logged
// models and one of them, datasets, judges), registered models, prompts,
// compared runs.
func TestMLflowHashRoutes(t *testing.T) {
	for _, prefix := range []string{"", "/mlflow"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			s := seed(t, prefix)
			ctx, _ := browser(t)
			b := tab{t, ctx}
			for hash, want := range map[string]string{
				"/#/experiments/" + s.exp + "/runs/" + s.runA:                                            "/runs/" + s.runA,
				"/#/experiments/" + s.exp:                                                                "/experiments/" + s.exp,
				"/#/models/wine-model/versions/1":                                                        "/models/wine-model",
				"/#/experiments/" + s.exp + "/traces":                                                    "/experiments/" + s.exp + "/traces",
				"/#/experiments/" + s.exp + "/traces?selectedEvaluationId=tr-0123":                       "/traces/tr-0123",
				"/#/experiments/" + s.exp + "/traces/tr-4567":                                            "/traces/tr-4567",
				"/#/experiments/" + s.exp + "/models/m-89ab":                                             "/logged-models/m-89ab",
				"/#/experiments/" + s.exp + "/datasets":                                                  "/experiments/" + s.exp + "/datasets",
				"/#/experiments/" + s.exp + "/chat-sessions":                                             "/experiments/" + s.exp + "/sessions",
				"/#/experiments/" + s.exp + "/judges":                                                    "/experiments/" + s.exp + "/scorers",
				"/#/prompts/greeting":                                                                    "/prompts/greeting",
				"/#/compare-runs?runs=[%22" + s.runA + "%22,%22" + s.runB + "%22]&experiments=[%221%22]": "/compare?runs=" + s.runA + "%2C" + s.runB,
			} {
				b.do(chromedp.Navigate(s.srv.URL + hash))
				b.until(`location.pathname + location.search === ` + strconvQuote(prefix+want))
			}
		})
	}
}
