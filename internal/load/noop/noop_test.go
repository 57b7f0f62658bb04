package noop_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/internal/load"
	"github.com/mlrun/mlrun/internal/load/noop"
)

// TestHandlerAnswersTheWorkloads: every workload the handler is for runs
// against it without an error, answered at once and after a Flusher's
// group commits; those wrote and flushed their block into the folder.
func TestHandlerAnswersTheWorkloads(t *testing.T) {
	dir := t.TempDir()
	fl, err := noop.NewFlusher(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	for name, wait := range map[string]func() error{"at once": nil, "flushed": fl.Wait} {
		srv := httptest.NewServer(noop.Handler(wait))
		for _, w := range load.Workloads {
			if !noop.Workloads[w.Name] {
				continue
			}
			r, err := load.Drive(context.Background(), []string{srv.URL}, 3, 200*time.Millisecond, load.Env{WriteExperimentID: "1"}, w)
			if err != nil || r.FirstError != nil || r.Requests == 0 {
				t.Errorf("%s, %s: %d requests, %v %v", name, w.Name, r.Requests, err, r.FirstError)
			}
		}
		srv.Close()
	}
	if st, err := os.Stat(filepath.Join(dir, "noop-flush")); err != nil || st.Size() < 4096 {
		t.Fatalf("the flusher's file: %v %v, want a block written", st, err)
	}
}

// TestFlusherClosed: once the Flusher is closed, a wait is ErrClosed, the
// handler answers it with a 500 that says so, and the file is gone; a
// body that is not JSON is a 400.
func TestFlusherClosed(t *testing.T) {
	dir := t.TempDir()
	fl, err := noop.NewFlusher(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := fl.Wait(); err != nil {
		t.Fatalf("a wait before closing: %v", err)
	}
	if err := fl.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fl.Wait(); !errors.Is(err, noop.ErrClosed) {
		t.Fatalf("a wait after closing: %v, want ErrClosed", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "noop-flush")); !os.IsNotExist(err) {
		t.Fatalf("the flusher's file after closing: %v, want it removed", err)
	}
	srv := httptest.NewServer(noop.Handler(fl.Wait))
	defer srv.Close()
	for body, want := range map[string]struct {
		status int
		text   string
	}{
		`{"run_id": "r"}`: {http.StatusInternalServerError, "noop: flusher closed"},
		`{"run_id":`:      {http.StatusBadRequest, "unexpected EOF"},
	} {
		resp, err := http.Post(srv.URL+"/api/2.0/mlflow/runs/log-batch", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want.status || !strings.Contains(string(b), want.text) {
			t.Errorf("%s: %d %q, want %d and %q", body, resp.StatusCode, b, want.status, want.text)
		}
	}
}
