package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkGuard: what MLflow's security middleware costs a request with
// the default hosts: a client naming 127.0.0.1:port (no Origin), and a
// browser page of localhost writing.
func BenchmarkGuard(b *testing.B) {
	g, err := NewGuard(Security{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, host, origin, method string }{
		{"client", "127.0.0.1:5000", "", "POST"},
		{"private-address", "192.168.1.20:5000", "", "GET"},
		{"browser-localhost", "localhost:5000", "http://localhost:3000", "POST"},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest(c.method, "/api/2.0/mlflow/runs/log-batch", nil)
			r.Host = c.host
			if c.origin != "" {
				r.Header.Set("Origin", c.origin)
			}
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				if ok, _ := g.admit(w, r, ""); !ok {
					b.Fatal("refused")
				}
			}
		})
	}
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}
