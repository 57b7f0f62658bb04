package testutil

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Scrape returns the value of the unlabelled metric name on the server
// at base's GET /metrics; a missing or malformed one fails the test.
func Scrape(t testing.TB, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return MetricValue(t, resp.Body, name)
}

// MetricValue returns the value of the unlabelled metric name in a
// Prometheus text exposition; a missing or malformed one fails the test.
func MetricValue(t testing.TB, text io.Reader, name string) float64 {
	t.Helper()
	sc := bufio.NewScanner(text)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}
