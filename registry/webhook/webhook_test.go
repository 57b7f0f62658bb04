package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/registry"
)

// TestPublic: the addresses a webhook may reach by default.
func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "8.8.8.8": true, "2606:4700::1111": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.5.4": false, "192.168.0.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "192.0.2.2": false, "198.18.0.1": false, "224.0.0.1": false, "255.255.255.255": false,
		"::1": false, "fe80::1": false, "fd00::1": false, "::ffff:127.0.0.1": false, "::ffff:8.8.8.8": true, "2001:db8::1": false,
	} {
		if got := Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestConnectRefusesPrivate: even a URL that passed the checks cannot
// make a delivery connect to a private address (a name resolving there,
// or rebound after the check); allowed, it does.
func TestConnectRefusesPrivate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	d := New(Options{AllowedSchemes: []string{"http"}})
	defer d.Close()
	resp, err := d.client.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("connected to loopback")
	}
	if !strings.Contains(err.Error(), "not a public address") {
		t.Fatalf("refusal: %v", err)
	}
	hook := &registry.Webhook{URL: srv.URL, Secret: "k"}
	if res := d.Test(context.Background(), hook, registry.ModelVersionCreated); res.Success || !strings.Contains(res.Error, "not a public address") {
		t.Fatalf("test delivery to loopback: %+v", res)
	}
	open := New(Options{AllowedSchemes: []string{"http"}, AllowPrivate: true})
	defer open.Close()
	if res := open.Test(context.Background(), hook, registry.ModelVersionCreated); !res.Success || res.ResponseStatus != 204 {
		t.Fatalf("with private addresses allowed: %+v", res)
	}
}

// TestSignLikePython: the signature is the one MLflow's Python computes.
func TestSignLikePython(t *testing.T) {
	id, ts, body := "3c9e8f0a-1b2c-4d5e-8f90-123456789abc", "1733500000", []byte(`{"entity":"model_version","action":"created","data":{"name":"é"}}`)
	out, err := exec.Command("python3", "-c", `import base64, hashlib, hmac, sys
s = hmac.new(sys.argv[1].encode(), f"{sys.argv[2]}.{sys.argv[3]}.{sys.argv[4]}".encode(), hashlib.sha256).digest()
print("v1," + base64.b64encode(s).decode(), end="")`, "s3cr3t", id, ts, string(body)).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v %s", err, out)
	}
	if got := Sign("s3cr3t", id, ts, body); got != string(out) {
		t.Fatalf("Sign = %s, Python %s", got, out)
	}
}

// TestOptionsFromEnv reads MLflow's variables, and refuses bad values.
func TestOptionsFromEnv(t *testing.T) {
	t.Setenv("MLFLOW_WEBHOOK_ALLOWED_SCHEMES", "https, HTTP")
	t.Setenv("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", "true")
	t.Setenv("MLFLOW_WEBHOOK_REQUEST_TIMEOUT", "5")
	t.Setenv("MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES", "0")
	o, err := OptionsFromEnv()
	if err != nil || strings.Join(o.AllowedSchemes, ",") != "https,http" || !o.AllowPrivate || o.Timeout.Seconds() != 5 || o.MaxRetries != -1 {
		t.Fatalf("%+v %v", o, err)
	}
	if err := o.CheckURL("http://127.0.0.1:9/x"); err != nil {
		t.Errorf("http to loopback, allowed: %v", err)
	}
	t.Setenv("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", "maybe")
	if _, err := OptionsFromEnv(); err == nil || !strings.Contains(err.Error(), "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS") {
		t.Errorf("a bad value: %v", err)
	}
}
