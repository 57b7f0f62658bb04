package rest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/artifact/proxied"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/rest"
)

// TestTransfersAreNotCut: with a 300 ms call timeout, an artifact
// download that streams for longer still arrives whole (no whole-request
// timeout), while a JSON call to a server that does not answer ends with
// the deadline instead of hanging.
func TestTransfersAreNotCut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/2.0/mlflow-artifacts/") {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			for i := 0; i < 10; i++ { // 10 × 100 ms: over three timeouts in all
				w.Write([]byte(strings.Repeat("x", 100)))
				w.(http.Flusher).Flush()
				time.Sleep(100 * time.Millisecond)
			}
			return
		}
		select { // a JSON call that never gets its answer
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}))
	defer srv.Close()
	c, err := rest.New(srv.URL, rest.Options{CallTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rc, _, err := proxied.New(c, "1/r/artifacts").Open(context.Background(), "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || len(b) != 1000 {
		t.Fatalf("a 1 s download with a 300 ms call timeout: %d bytes, %v", len(b), err)
	}
	st, err := rest.Open(srv.URL, rest.Options{CallTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := st.GetExperiment(context.Background(), "0"); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "timeout") {
			t.Fatalf("a JSON call to a silent server: %v, want a timeout", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a JSON call to a silent server did not end")
	}
}

// TestHTMLErrorsAreOneLine: a server without an endpoint answers with a
// framework's HTML 404 page (MLflow 2.x has no logged models): the error
// is ErrUnsupported in one line; other HTML errors fold into one line.
func TestHTMLErrorsAreOneLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if strings.Contains(r.URL.Path, "logged-models") {
			w.WriteHeader(404)
			io.WriteString(w, "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.</p>\n")
			return
		}
		w.WriteHeader(502)
		io.WriteString(w, "<html>\n<body>\n<h1>502 Bad Gateway</h1>\n</body>\n</html>\n")
	}))
	defer srv.Close()
	st, err := rest.Open(srv.URL, rest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.CreateLoggedModel(context.Background(), store.LoggedModel{ExperimentID: "0"})
	if !errors.Is(err, store.ErrUnsupported) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "<") {
		t.Fatalf("logged model on a server without the endpoint: %v", err)
	}
	_, err = st.GetExperiment(context.Background(), "0")
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Fatalf("an HTML 502: %q", err)
	}
}
