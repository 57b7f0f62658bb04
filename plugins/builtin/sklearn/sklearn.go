package sklearn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/plugins/flavor"
)

// Flavor is the sklearn flavor.
type Flavor struct{}

var _ flavor.Flavor = Flavor{}

// Version is the plugin's version.
const Version = "0.1.0"

// Describe implements flavor.Flavor.
func (Flavor) Describe(context.Context) (*flavor.Description, error) {
	return &flavor.Description{Name: "sklearn", Version: Version, FilePatterns: []string{"*.pkl", "*.pickle", "*.joblib"},
		Description: "scikit-learn estimators pickled with pickle, cloudpickle or joblib (read without unpickling)"}, nil
}

// Facts is what Read found.
type Facts struct {
	Estimator      string   // module.Class of the top-level object
	SklearnVersion string   // the top-level estimator's _sklearn_version
	Steps          []string // name=module.Class, for Pipelines
	NFeatures      int64    // n_features_in_, 0 if absent
	Protocol       int
	Joblib         bool
	Cloudpickle    bool // by-value code from cloudpickle was seen
}

// Read reads the pickle at path.
func Read(path string) (*Facts, error) {
	f, _, err := read(path)
	return f, err
}

// read reads the pickle at path: its facts, and what the walk found.
func read(path string) (*Facts, *result, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%w: %s", flavor.ErrNotFound, path)
		}
		return nil, nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, nil, flavor.Invalid("%s is a folder, not a pickle file", path)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	head, _ := br.Peek(2)
	if len(head) == 0 {
		return nil, nil, flavor.Invalid("%s is empty", path)
	}
	if len(head) == 2 && (head[0] == 'Z' && head[1] == 'F' || head[0] == 0x78 || head[0] == 0x1f && head[1] == 0x8b) {
		return nil, nil, flavor.Invalid("%s is a compressed joblib file; save it with compress=0 to inspect it", path)
	}
	res, err := walk(&reader{r: br})
	if err != nil {
		if errors.Is(err, ErrUnsafe) {
			return nil, nil, flavor.Invalid("refusing %s: %v", path, strings.TrimPrefix(err.Error(), ErrUnsafe.Error()+": "))
		}
		return nil, nil, flavor.Invalid("%s: %v", path, err)
	}
	o, ok := res.top.(*object)
	if !ok || !strings.HasPrefix(o.class.module, "sklearn") {
		return nil, nil, flavor.Invalid("%s is a pickle, but not of a scikit-learn estimator (its top-level object is %s)", path, describe(res.top))
	}
	facts := &Facts{Estimator: o.class.String(), Protocol: res.protocol}
	for _, g := range res.globals {
		if strings.HasPrefix(g.module, "joblib") {
			facts.Joblib = true
		}
		if strings.HasPrefix(g.module, "cloudpickle") {
			facts.Cloudpickle = true
		}
	}
	if st, ok := o.state.(*dict); ok {
		facts.SklearnVersion, _ = st.get("_sklearn_version").(string)
		facts.NFeatures, _ = st.get("n_features_in_").(int64)
		if steps, ok := st.get("steps").(*list); ok {
			for _, s := range steps.items {
				t, ok := s.(*tuple)
				if !ok || len(t.items) < 2 {
					continue
				}
				name, _ := t.items[0].(string)
				facts.Steps = append(facts.Steps, name+"="+describe(t.items[1]))
				if facts.NFeatures == 0 {
					if est, ok := t.items[1].(*object); ok {
						if es, ok := est.state.(*dict); ok {
							facts.NFeatures, _ = es.get("n_features_in_").(int64)
						}
					}
				}
			}
		}
	}
	if facts.SklearnVersion == "" {
		return nil, nil, flavor.Invalid("%s: the estimator %s carries no _sklearn_version (not pickled by scikit-learn)", path, facts.Estimator)
	}
	return facts, res, nil
}

func describe(v any) string {
	switch v := v.(type) {
	case *object:
		return v.class.String()
	case nil:
		return "None"
	case *dict:
		return "a dict"
	case *list:
		return "a list"
	case *tuple:
		return "a tuple"
	case string:
		return "a string"
	}
	return fmt.Sprintf("a %T", v)
}

// Inspect implements flavor.Flavor.
func (Flavor) Inspect(ctx context.Context, req *flavor.InspectRequest) (*flavor.Model, error) {
	f, err := Read(req.Path)
	if err != nil {
		return nil, err
	}
	format := "cloudpickle"
	reqs := []string{"cloudpickle", "scikit-learn==" + f.SklearnVersion}
	if f.Joblib {
		format = "pickle" // joblib files load with joblib; MLflow's loader uses pickle for them
		reqs = []string{"joblib", "scikit-learn==" + f.SklearnVersion}
	}
	m := &flavor.Model{
		Facts: map[string]string{
			"estimator":       f.Estimator,
			"sklearn_version": f.SklearnVersion,
			"pickle_protocol": strconv.Itoa(f.Protocol),
		},
		Flavor: map[string]any{
			"code": nil, "pickled_model": "model.pkl", "serialization_format": format, "sklearn_version": f.SklearnVersion,
		},
		LoaderModule: "mlflow.sklearn",
		PyfuncExtra:  map[string]any{"model_path": "model.pkl", "predict_fn": "predict"},
		Requirements: reqs,
		ModelFile:    "model.pkl",
	}
	if len(f.Steps) > 0 {
		m.Facts["steps"] = strings.Join(f.Steps, ", ")
	}
	if f.Joblib {
		m.Facts["joblib"] = "true"
	}
	// Whether mlrun serves it in Go, or why a Python worker would.
	m.Facts["served_in"] = "go"
	if _, err := LoadPredictor(req.Path, "predict"); err != nil {
		m.Facts["served_in"] = "python: " + strings.TrimPrefix(err.Error(), ErrNotInGo.Error()+": ")
	}
	if f.NFeatures > 0 {
		// Only a count of features, not their types: no signature (an
		// inferred tensor one makes MLflow's pyfunc refuse float32 and
		// list input; MLflow writes none without an input example).
		m.Facts["n_features_in"] = strconv.FormatInt(f.NFeatures, 10)
	}
	return m, nil
}

// Save implements flavor.Flavor.
func (f Flavor) Save(ctx context.Context, req *flavor.SaveRequest) (*flavor.SaveResponse, error) {
	return flavor.SaveModel(ctx, f, req)
}
