package ui_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/mlrun/mlrun/registry"
)

func registryVersion(name, source, runID string) registry.CreateVersion {
	return registry.CreateVersion{Name: name, Source: source, RunID: runID}
}

// getPage returns the body of a GET of url, failing the test unless it
// answers 200.
func getPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}
