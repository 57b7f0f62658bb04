package testutil

import (
	"context"
	"io"
	"testing"

	"github.com/mlrun/mlrun/internal/load"
)

// Scrape returns the value of the unlabelled metric name on the server
// at base's GET /metrics; a missing or malformed one fails the test.
func Scrape(t testing.TB, base, name string) float64 {
	t.Helper()
	m, err := load.Scrape(context.Background(), base, name)
	return metric(t, m, err, name)
}

// MetricValue returns the value of the unlabelled metric name in a
// Prometheus text exposition; a missing or malformed one fails the test.
func MetricValue(t testing.TB, text io.Reader, name string) float64 {
	t.Helper()
	m, err := load.ParseMetrics(text, name)
	return metric(t, m, err, name)
}

// metric is name's value in m, or the test's failure.
func metric(t testing.TB, m map[string]float64, err error, name string) float64 {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	v, ok := m[name]
	if !ok {
		t.Fatalf("/metrics has no %s", name)
	}
	return v
}
