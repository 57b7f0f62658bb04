package load

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Scrape reads the unlabelled metrics named names off the server at
// base's GET /metrics (a Prometheus text exposition); a name the server
// does not expose is missing from the map.
func Scrape(ctx context.Context, base string, names ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/metrics: %s", base, resp.Status)
	}
	return ParseMetrics(resp.Body, names...)
}

// ParseMetrics reads the unlabelled metrics named names in a Prometheus
// text exposition; a name not in it is missing from the map.
func ParseMetrics(text io.Reader, names ...string) (map[string]float64, error) {
	m := map[string]float64{}
	sc := bufio.NewScanner(text)
	for sc.Scan() {
		for _, name := range names {
			v, ok := strings.CutPrefix(sc.Text(), name+" ")
			if !ok {
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("metric %s: %w", sc.Text(), err)
			}
			m[name] = f
		}
	}
	return m, sc.Err()
}
