package format

import (
	"math"
	"strconv"
)

// Float prints a metric value: six significant digits, NaN and ±Infinity
// by MLflow's names.
func Float(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}
