package sklearn

import (
	"fmt"
	"math"
)

// Models that answer the nearest of their centers: KMeans and
// MiniBatchKMeans (a cluster's index), NearestCentroid (a class).

// centers reads a 2-D array of k centers of the input's width.
func centers(g *stage, s *state, key string) ([][]float64, error) {
	a := s.array(key)
	v := s.floats(key)
	if s.err != nil {
		return nil, s.err
	}
	if len(a.shape) != 2 || a.shape[0] == 0 || a.shape[1] == 0 {
		return nil, fmt.Errorf("%w: %s's %s has the shape %v", ErrNotInGo, g.class, key, a.shape)
	}
	c := rows(v, a.shape[1])
	return c, s.widths(g, c[0])
}

// kMeans makes the stage of a fitted KMeans or MiniBatchKMeans, whose
// predict is the index of the nearest cluster center as its Lloyd step
// finds it: the smallest ||c||² - 2 x·c, the first of equals.
func kMeans(g *stage, s *state, predictFn string) (*stage, error) {
	if predictFn != "predict" {
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	c, err := centers(g, s, "cluster_centers_")
	if err != nil {
		return nil, err
	}
	norms := make([]float64, len(c))
	for j, cj := range c {
		for _, v := range cj {
			norms[j] += v * v
		}
	}
	g.predict = func(x *matrix) any {
		out := make([]int64, x.rows)
		for r := range out {
			row := x.row(r)
			best := math.Inf(1)
			for j, cj := range c {
				var dot float64
				for i, v := range row {
					dot += v * cj[i]
				}
				if d := norms[j] - 2*dot; j == 0 || d < best {
					best, out[r] = d, int64(j)
				}
			}
		}
		return out
	}
	return g, nil
}

// nearestCentroid makes the stage of a fitted NearestCentroid: the class
// of the nearest centroid (euclidean or manhattan), the first of equals.
func nearestCentroid(g *stage, s *state, predictFn string) (*stage, error) {
	if predictFn != "predict" {
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	classes := s.classes()
	c, err := centers(g, s, "centroids_")
	if err != nil {
		return nil, err
	}
	if len(classes) != len(c) {
		return nil, fmt.Errorf("%w: NearestCentroid with %d classes for %d centroids", ErrNotInGo, len(classes), len(c))
	}
	var dist func(a, b []float64) float64
	switch m := s.str("metric"); m {
	case "euclidean":
		dist = func(a, b []float64) float64 {
			var d float64
			for i, v := range a {
				d += (v - b[i]) * (v - b[i])
			}
			return d
		}
	case "manhattan":
		dist = func(a, b []float64) float64 {
			var d float64
			for i, v := range a {
				d += math.Abs(v - b[i])
			}
			return d
		}
	default:
		return nil, fmt.Errorf("%w: NearestCentroid with the metric %q", ErrNotInGo, m)
	}
	g.predict = func(x *matrix) any {
		out := make([]any, x.rows)
		for r := range out {
			row := x.row(r)
			best, bestD := 0, math.Inf(1)
			for j, cj := range c {
				if d := dist(row, cj); j == 0 || d < bestD {
					best, bestD = j, d
				}
			}
			out[r] = classes[best]
		}
		return out
	}
	return g, s.err
}
