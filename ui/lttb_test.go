package ui

import (
	"math"
	"testing"
)

func TestLTTB(t *testing.T) {
	var pts []Point
	for i := 0; i < 100000; i++ {
		y := math.Sin(float64(i) / 1000)
		if i == 50000 {
			y = 10 // a spike must survive
		}
		pts = append(pts, Point{X: float64(i), Y: y})
	}
	pts = append(pts, Point{X: 100001, Y: math.NaN()})
	got := LTTB(pts, 1000)
	if len(got) != 1000 || got[0] != pts[0] || got[len(got)-1].X != 99999 {
		t.Fatalf("%d points, first %v last %v", len(got), got[0], got[len(got)-1])
	}
	spike := false
	for i, p := range got {
		spike = spike || p.Y == 10
		if i > 0 && p.X <= got[i-1].X {
			t.Fatalf("not increasing at %d", i)
		}
	}
	if !spike {
		t.Fatal("the spike was lost")
	}
	if short := LTTB(pts[:10], 1000); len(short) != 10 {
		t.Fatalf("short series changed: %d", len(short))
	}
}
