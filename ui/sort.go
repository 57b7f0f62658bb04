package ui

import "sort"

func sortByX(pts []Point) {
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
}
