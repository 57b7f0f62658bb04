package testutil

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// CreateRunRecorder starts a real mlrun server behind a proxy that keeps
// the JSON body of every runs/create call on its way. It returns the
// proxy's URL and a check that exactly one create call was made and that
// it carried start_time and user_id itself, as MLflow's client does
// (MLflow's server fills in neither).
func CreateRunRecorder(t testing.TB) (string, func(t testing.TB)) {
	t.Helper()
	target, _ := url.Parse(StartServer(t, true).URL)
	var mu sync.Mutex
	var creates []map[string]any
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/runs/create") {
			b, _ := io.ReadAll(r.Body)
			var m map[string]any
			json.Unmarshal(b, &m)
			mu.Lock()
			creates = append(creates, m)
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL, func(t testing.TB) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(creates) != 1 {
			t.Fatalf("%d runs/create calls", len(creates))
		}
		if ts, _ := creates[0]["start_time"].(float64); ts < float64(time.Now().Add(-time.Hour).UnixMilli()) {
			t.Errorf("runs/create start_time = %v", creates[0]["start_time"])
		}
		if u, _ := creates[0]["user_id"].(string); u == "" {
			t.Errorf("runs/create user_id is empty: %v", creates[0])
		}
	}
}
