package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// limitedServer serves a new store with a 1,000-byte upload cap and a
// 300 ms stall timeout, through the same http.Server mlrun uses.
func limitedServer(t *testing.T) (base, dest string) {
	dir := t.TempDir()
	dest = filepath.Join(dir, "mlartifacts")
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "mlflow.db"), sqlite.Options{ArtifactRoot: "mlflow-artifacts:/"})
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(st, server.Options{Artifacts: local.New(dest), ArtifactRoots: []string{dest}, UploadLimit: 1000,
		StallTimeout: 300 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.HTTPServer(h)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); st.Close() })
	return "http://" + ln.Addr().String(), dest
}

// files lists every file under dir (temporary ones included).
func files(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestUploadLimit: an upload over --max-upload-size is refused with 413,
// whether its length is declared or streamed, and leaves no file.
func TestUploadLimit(t *testing.T) {
	base, dest := limitedServer(t)
	url := base + "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/"
	put := func(name string, body io.Reader) (int, string) {
		req, _ := http.NewRequest("PUT", url+name, body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, b := put("ok.bin", bytes.NewReader(make([]byte, 1000))); st != 200 {
		t.Fatalf("an upload at the cap: %d %s", st, b)
	}
	if st, b := put("declared.bin", bytes.NewReader(make([]byte, 1001))); st != 413 || !strings.Contains(b, "--max-upload-size") {
		t.Fatalf("a declared upload over the cap: %d %s", st, b)
	}
	// No Content-Length: the cap is found while streaming.
	if st, b := put("streamed.bin", io.MultiReader(bytes.NewReader(make([]byte, 800)), bytes.NewReader(make([]byte, 800)))); st != 413 {
		t.Fatalf("a streamed upload over the cap: %d %s", st, b)
	}
	if got := files(dest); len(got) != 1 || filepath.Base(got[0]) != "ok.bin" {
		t.Fatalf("files after refused uploads: %v, want only ok.bin", got)
	}
}

// TestStalledUploadEnds: an upload that stops sending is ended by the
// server (the connection closes) and keeps nothing, while a slow but
// steady one that takes longer than the stall timeout in all succeeds.
func TestStalledUploadEnds(t *testing.T) {
	base, dest := limitedServer(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/stalled.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n0123456789")
	// The server must end it: read until it closes (bounded, not timed).
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	io.Copy(io.Discard, conn)
	if err := conn.SetReadDeadline(time.Time{}); err == nil {
		if _, err := conn.Read(make([]byte, 1)); err == nil {
			t.Fatal("the stalled upload's connection is still open")
		}
	}
	if got := files(dest); len(got) != 0 {
		t.Fatalf("a stalled upload left %v", got)
	}

	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < 6; i++ {
			pw.Write(bytes.Repeat([]byte{'x'}, 100))
			time.Sleep(120 * time.Millisecond) // 720 ms in all, never 300 ms without a byte
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("PUT", base+"/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/steady.bin", pr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(bufio.NewReader(resp.Body))
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("a steady upload: %d %s", resp.StatusCode, b)
	}
	if c, _ := os.ReadFile(filepath.Join(dest, "1/r/artifacts/steady.bin")); len(c) != 600 {
		t.Fatalf("steady upload kept %d bytes, want 600", len(c))
	}
}

// TestBulkIntervalSampling follows MLflow's get-history-bulk-interval:
// 1,000 steps with max_results 100 give 101 points (100 spread + the
// last); every run's first and last step is kept; within a step range
// MLflow's index check keeps only the range's last step when the range
// does not start at the first step (its quirk, matched).
func TestBulkIntervalSampling(t *testing.T) {
	ts := newServer(t)
	ctx := context.Background()
	a, _ := ts.store.CreateRun(ctx, store.CreateRun{})
	b, _ := ts.store.CreateRun(ctx, store.CreateRun{})
	for i := 0; i < 1000; i += 100 {
		var ms []store.Metric
		for j := i; j < i+100; j++ {
			ms = append(ms, store.Metric{Key: "loss", Value: float64(j), Timestamp: int64(j), Step: int64(j)})
		}
		if err := ts.store.LogBatch(ctx, a.Info.RunID, ms, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	ts.store.LogBatch(ctx, b.Info.RunID, []store.Metric{{Key: "loss", Value: 1, Timestamp: 1, Step: 5}, {Key: "loss", Value: 2, Timestamp: 2, Step: 7}}, nil, nil)
	steps := func(query string) map[string][]int {
		t.Helper()
		status, body := ts.do(t, "GET", "/api/2.0/mlflow/metrics/get-history-bulk-interval?metric_key=loss&run_ids="+a.Info.RunID+"&run_ids="+b.Info.RunID+query, "", nil)
		var out struct {
			Metrics []struct {
				Step  int    `json:"step"`
				RunID string `json:"run_id"`
			} `json:"metrics"`
		}
		if status != 200 || json.Unmarshal(body, &out) != nil {
			t.Fatalf("bulk-interval %s: %d %s", query, status, body)
		}
		got := map[string][]int{}
		for _, m := range out.Metrics {
			got[m.RunID] = append(got[m.RunID], m.Step)
		}
		return got
	}
	got := steps("&max_results=100")
	want := map[int]bool{999: true, 5: true, 7: true}
	for i := 0; i < 100; i++ {
		want[i*10] = true
	}
	if len(got[a.Info.RunID]) != len(want) {
		t.Fatalf("run a: %d points, want %d (MLflow's 100 spread + last, and run b's first/last steps)", len(got[a.Info.RunID]), len(want))
	}
	for _, st := range got[a.Info.RunID] {
		if !want[st] {
			t.Fatalf("run a has step %d", st)
		}
	}
	if g := got[b.Info.RunID]; len(g) != 2 || g[0] != 5 || g[1] != 7 {
		t.Fatalf("run b: %v", g)
	}
	if g := steps("&max_results=10&start_step=100&end_step=199")[a.Info.RunID]; len(g) != 1 || g[0] != 199 {
		t.Fatalf("range 100..199, max 10: %v, want MLflow's [199]", g)
	}
	if g := steps("&max_results=500&start_step=100&end_step=199")[a.Info.RunID]; len(g) != 100 {
		t.Fatalf("range 100..199, max 500: %d points, want all 100", len(g))
	}
}
