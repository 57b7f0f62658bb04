package server_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/server"
)

// guarded starts a real server with MLflow's security middleware made of
// sec, and returns a function that sends one request with the given Host
// and Origin (and the headers in extra) and returns the answer.
func guarded(t *testing.T, sec server.Security) (*testutil.Server, func(method, path, host, origin, body string, extra ...string) (int, string, http.Header)) {
	t.Helper()
	g, err := server.NewGuard(sec)
	if err != nil {
		t.Fatal(err)
	}
	srv := testutil.StartServer(t, true, func(o *server.Options) { o.Guard = g })
	return srv, func(method, path, host, origin, body string, extra ...string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Host = host
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for i := 0; i+1 < len(extra); i += 2 {
			req.Header.Set(extra[i], extra[i+1])
		}
		return send(t, req)
	}
}

// TestGuardHosts: with MLflow's default allowed hosts, requests naming
// localhost or a private address are served and any other Host gets 403
// with MLflow's message (but /health and /version); a list replaces the
// defaults, with fnmatch patterns; "*" serves every Host.
func TestGuardHosts(t *testing.T) {
	_, call := guarded(t, server.Security{})
	const search = "/api/2.0/mlflow/experiments/search?max_results=1"
	for host, want := range map[string]int{
		"localhost:5000": 200, "localhost": 200, "127.0.0.1:8080": 200, "[::1]:5000": 200, "0.0.0.0:5000": 200,
		"192.168.1.20:5000": 200, "10.1.2.3": 200, "172.16.0.1:5000": 200, "172.31.255.1": 200, "LocalHost:5000": 200,
		"172.32.0.1:5000": 403, "172.15.0.1": 403, "203.0.113.7:5000": 403, "attacker.example:5000": 403,
		"localhost.attacker.example": 403, "127.0.0.1.nip.io:5000": 403, "[::2]:5000": 403,
	} {
		code, body, h := call("GET", search, host, "", "")
		if code != want {
			t.Errorf("Host %s: %d, want %d (%s)", host, code, want, body)
		}
		if want == 403 && (body != "Invalid Host header - possible DNS rebinding attack detected" || h.Get("Content-Type") != "text/plain") {
			t.Errorf("Host %s refused with %q (%s)", host, body, h.Get("Content-Type"))
		}
	}
	if name, err := os.Hostname(); err == nil && name != "" {
		if code, body, _ := call("GET", search, name+":5000", "", ""); code != 200 {
			t.Errorf("the machine's own name %s: %d %s", name, code, body)
		}
	}
	for _, path := range []string{"/health", "/version"} {
		if code, _, _ := call("GET", path, "attacker.example", "", ""); code != 200 {
			t.Errorf("GET %s with another Host: %d, want 200", path, code)
		}
	}

	_, call = guarded(t, server.Security{AllowedHosts: []string{"mlflow.example.com", "*.corp.example:5000", "node-?.lab"}})
	for host, want := range map[string]int{
		"mlflow.example.com": 200, "MLflow.Example.com": 200, "a.b.corp.example:5000": 200, "node-7.lab": 200,
		"mlflow.example.com:5000": 403, "corp.example:5000": 403, "node-17.lab": 403, "localhost:5000": 403, "": 403,
	} {
		if code, body, _ := call("GET", search, host, "", ""); code != want {
			t.Errorf("Host %q with a list: %d, want %d (%s)", host, code, want, body)
		}
	}
	_, call = guarded(t, server.Security{AllowedHosts: []string{"*"}})
	if code, _, _ := call("GET", search, "anything.example:1234", "", ""); code != 200 {
		t.Errorf("Host with '*' allowed: %d", code)
	}
}

// TestGuardCrossSiteWrites: a page of another site can neither change
// data (403 with MLflow's message, and nothing written) nor read answers
// (no Access-Control-Allow-Origin), nor pass a preflight; localhost's
// pages, listed origins and the server's own UI can, with CORS headers.
// With every Host allowed, a page that names the server by its own name
// (DNS rebinding) is no longer taken for the server's own.
func TestGuardCrossSiteWrites(t *testing.T) {
	srv, call := guarded(t, server.Security{AllowedOrigins: []string{"https://app.example.com", "https://*.tools.example"}})
	ctx := context.Background()
	const create, search = "/api/2.0/mlflow/experiments/create", "/api/2.0/mlflow/experiments/search?max_results=10"
	body := func(name string) string { return `{"name":"` + name + `"}` }
	exists := func(name string) bool {
		_, err := srv.Store.GetExperimentByName(ctx, name)
		return err == nil
	}
	const local = "127.0.0.1:5000"
	for _, tc := range []struct {
		method, path, host, origin string
		code                       int
		allowOrigin                bool
	}{
		{"POST", create, local, "https://attacker.example", 403, false},
		{"POST", "/ajax-api/2.0/mlflow/experiments/create", local, "http://attacker.example:5000", 403, false},
		{"DELETE", "/api/2.0/mlflow-artifacts/artifacts/x/y.txt", local, "null", 403, false},
		{"POST", create, local, "http://localhost:3000", 200, true},
		{"POST", create, local, "http://[::1]:8888", 200, true},
		{"POST", create, local, "https://app.example.com", 200, true},
		{"POST", create, local, "https://nb.tools.example", 200, true},
		{"POST", create, local, "https://app.example.com.attacker.example", 403, false},
		{"POST", create, "192.168.1.20:5000", "http://192.168.1.20:5000", 200, true}, // the server's own UI
		{"POST", create, "192.168.1.20:5000", "http://192.168.1.21:5000", 403, false},
		{"GET", search, local, "https://attacker.example", 200, false},
		{"GET", search, local, "https://app.example.com", 200, true},
	} {
		name := strings.NewReplacer(":", "-", "/", "-", ".", "-").Replace(tc.method + tc.origin + tc.host)
		code, got, h := call(tc.method, tc.path, tc.host, tc.origin, body(name))
		if code != tc.code {
			t.Errorf("%s %s from %s (Host %s): %d, want %d (%s)", tc.method, tc.path, tc.origin, tc.host, code, tc.code, got)
		}
		if code == 403 && got != "Cross-origin request blocked" {
			t.Errorf("%s from %s refused with %q", tc.method, tc.origin, got)
		}
		if acao := h.Get("Access-Control-Allow-Origin"); (acao == tc.origin) != tc.allowOrigin || (acao != "" && acao != tc.origin) {
			t.Errorf("%s from %s: Access-Control-Allow-Origin %q", tc.method, tc.origin, acao)
		}
		if tc.path == create && exists(name) != (code == 200) {
			t.Errorf("%s from %s: answered %d, experiment created: %v", tc.method, tc.origin, code, exists(name))
		}
	}

	preflight := func(origin string) (int, http.Header) {
		code, _, h := call("OPTIONS", create, local, origin, "", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,authorization")
		return code, h
	}
	if code, h := preflight("https://app.example.com"); code != 204 || h.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		h.Get("Access-Control-Allow-Headers") != "content-type,authorization" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		h.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("preflight of an allowed origin: %d %v", code, h)
	}
	if code, h := preflight("https://attacker.example"); code != 403 || h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight of another site: %d %v", code, h)
	}

	// Every Host served: a page on a name rebound to the server is
	// another site, whatever Host it sends.
	_, call = guarded(t, server.Security{AllowedHosts: []string{"*"}})
	if code, got, _ := call("POST", create, "rebound.attacker.example:5000", "http://rebound.attacker.example:5000", body("rebound")); code != 403 {
		t.Errorf("a rebound page's write with every Host allowed: %d %s", code, got)
	}
}

// TestGuardHeaders: every answer says nosniff and X-Frame-Options
// (SAMEORIGIN unless told, the UI's pages DENY; NONE leaves it out); a bad
// value is an error.
func TestGuardHeaders(t *testing.T) {
	for frame, wants := range map[string][2]string{"": {"SAMEORIGIN", "DENY"}, "deny": {"DENY", "DENY"}, "sameorigin": {"SAMEORIGIN", "SAMEORIGIN"}, "NONE": {"", ""}} {
		_, call := guarded(t, server.Security{FrameOptions: frame})
		for _, path := range []string{"/api/2.0/mlflow/experiments/search", "/health", "/"} {
			_, _, h := call("GET", path, "localhost:5000", "", "")
			want := wants[0]
			if path == "/" { // the UI's pages
				want = wants[1]
			}
			if h.Get("X-Frame-Options") != want || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("X-Frame-Options %q, GET %s: %q, nosniff %q", frame, path, h.Get("X-Frame-Options"), h.Get("X-Content-Type-Options"))
			}
		}
	}
	if _, err := server.NewGuard(server.Security{FrameOptions: "ALLOW-FROM https://x.example"}); err == nil || !strings.Contains(err.Error(), "use SAMEORIGIN, DENY or NONE") {
		t.Errorf("a bad X-Frame-Options: %v", err)
	}
}

// TestGuardPatterns: fnmatch's sets and the escaped bracket of MLflow's
// IPv6 default.
func TestGuardPatterns(t *testing.T) {
	_, call := guarded(t, server.Security{AllowedHosts: []string{"[[]::1]:*", "host[0-9].lab", "db[!x].lab", "[broken"}})
	for host, want := range map[string]int{"[::1]:5000": 200, "host3.lab": 200, "hosta.lab": 403, "dby.lab": 200, "dbx.lab": 403, "[broken": 200, "b": 403} {
		if code, _, _ := call("GET", "/api/2.0/mlflow/experiments/search", host, "", ""); code != want {
			t.Errorf("Host %s: %d, want %d", host, code, want)
		}
	}
}
