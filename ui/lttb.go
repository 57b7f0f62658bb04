package ui

import "math"

// Point is one (x, y) sample of a series.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// LTTB downsamples pts to at most n points with Largest-Triangle-Three-
// Buckets, keeping the first and last points and the shape of the series.
// Non-finite y values are dropped first (they cannot be drawn).
func LTTB(pts []Point, n int) []Point {
	clean := pts[:0:0]
	for _, p := range pts {
		if !math.IsNaN(p.Y) && !math.IsInf(p.Y, 0) {
			clean = append(clean, p)
		}
	}
	pts = clean
	if n >= len(pts) || n < 3 {
		return pts
	}
	out := make([]Point, 0, n)
	out = append(out, pts[0])
	every := float64(len(pts)-2) / float64(n-2)
	a := 0
	for i := 0; i < n-2; i++ {
		// The next bucket's average.
		start := int(math.Floor(float64(i+1)*every)) + 1
		end := min(int(math.Floor(float64(i+2)*every))+1, len(pts))
		var ax, ay float64
		for _, p := range pts[start:end] {
			ax += p.X
			ay += p.Y
		}
		if cnt := float64(end - start); cnt > 0 {
			ax, ay = ax/cnt, ay/cnt
		}
		// This bucket: the point making the largest triangle with a and the average.
		lo := int(math.Floor(float64(i)*every)) + 1
		hi := min(int(math.Floor(float64(i+1)*every))+1, len(pts))
		best, bestArea := lo, -1.0
		for j := lo; j < hi; j++ {
			area := math.Abs((pts[a].X-ax)*(pts[j].Y-pts[a].Y) - (pts[a].X-pts[j].X)*(ay-pts[a].Y))
			if area > bestArea {
				best, bestArea = j, area
			}
		}
		out = append(out, pts[best])
		a = best
	}
	return append(out, pts[len(pts)-1])
}
