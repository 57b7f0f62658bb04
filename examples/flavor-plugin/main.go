// Command mlrun-flavor-csvmodel is an example third-party flavor: it reads
// a "linear model as CSV" file (a header of feature names, then one row of
// coefficients, the last column being the intercept) and saves it as an
// MLflow model directory, and predicts with it (the optional Predict
// capability: `mlrun models serve` of such a model runs through it).
// Build it, put it on MLRUN_PLUGIN_PATH, and `mlrun models inspect
// --flavor csvmodel model.csv` runs it.
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/mlrun/mlrun/plugins/flavor"
)

type csvModel struct{}

func (csvModel) Describe(context.Context) (*flavor.Description, error) {
	return &flavor.Description{Name: "csvmodel", Version: "1.0.0", FilePatterns: []string{"*.csv"},
		Description: "linear models stored as a CSV row of coefficients"}, nil
}

func (csvModel) Inspect(ctx context.Context, req *flavor.InspectRequest) (*flavor.Model, error) {
	f, err := os.Open(req.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", flavor.ErrNotFound, req.Path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 2 || len(rows[0]) < 2 || len(rows[0]) != len(rows[1]) {
		return nil, flavor.Invalid("%s is not a csvmodel file (want a header row and one row of coefficients)", req.Path)
	}
	for _, v := range rows[1] {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return nil, flavor.Invalid("coefficient %q is not a number", v)
		}
	}
	n := len(rows[0]) - 1
	return &flavor.Model{
		Facts:           map[string]string{"features": strconv.Itoa(n), "intercept": rows[1][n]},
		Flavor:          map[string]any{"data": "model.csv", "csvmodel_version": "1.0.0"},
		SignatureInputs: fmt.Sprintf(`[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, %d]}}]`, n),
		ModelFile:       "model.csv",
	}, nil
}

func (c csvModel) Save(ctx context.Context, req *flavor.SaveRequest) (*flavor.SaveResponse, error) {
	return flavor.SaveModel(ctx, c, req)
}

// LoadPredictor implements flavor.Predictor: the optional serving
// capability (`mlrun models serve` of a csvmodel model uses it).
func (c csvModel) LoadPredictor(ctx context.Context, dir string) (flavor.Session, error) {
	path := filepath.Join(dir, "model.csv")
	m, err := c.Inspect(ctx, &flavor.InspectRequest{Path: path})
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	n, _ := strconv.Atoi(m.Facts["features"])
	l := &linear{coef: make([]float64, n)}
	for i := range l.coef {
		l.coef[i], _ = strconv.ParseFloat(rows[1][i], 64)
	}
	l.intercept, _ = strconv.ParseFloat(rows[1][n], 64)
	return l, nil
}

// linear is a loaded csvmodel: x·coef + intercept for each row.
type linear struct {
	coef      []float64
	intercept float64
}

func (l *linear) Predict(_ context.Context, b *flavor.Batch, _ map[string]any) (json.RawMessage, error) {
	out := make([]float64, len(b.Rows))
	for r, row := range b.Rows {
		if len(row) != len(l.coef) {
			return nil, fmt.Errorf("row %d has %d values; the model has %d features", r, len(row), len(l.coef))
		}
		y := l.intercept
		for i, v := range row {
			x, ok := v.(float64)
			if !ok {
				return nil, fmt.Errorf("row %d: %v is not a number", r, v)
			}
			y += x * l.coef[i]
		}
		out[r] = y
	}
	return json.Marshal(out)
}

func (l *linear) Close() error { return nil }

func main() { flavor.Serve(csvModel{}) }
