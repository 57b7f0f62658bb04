// Command mlrun-flavor-csvmodel is an example third-party flavor: it reads
// a "linear model as CSV" file (a header of feature names, then one row of
// coefficients, the last column being the intercept) and saves it as an
// MLflow model directory. Build it, put it on MLRUN_PLUGIN_PATH, and
// `mlrun models inspect --flavor csvmodel model.csv` runs it.
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
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

func main() { flavor.Serve(csvModel{}) }
