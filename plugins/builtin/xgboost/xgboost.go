package xgboost

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/plugins/flavor"
)

// Flavor is the xgboost flavor.
type Flavor struct{}

var _ flavor.Flavor = Flavor{}

// Describe implements flavor.Flavor.
func (Flavor) Describe(context.Context) (*flavor.Description, error) {
	return &flavor.Description{Name: "xgboost", Version: "0.1.0", FilePatterns: []string{"*.json", "*.ubj", "*.xgb", "*.model", "*.bin"},
		Description: "XGBoost boosters in JSON, UBJSON or the legacy binary format"}, nil
}

// Facts is what Read found.
type Facts struct {
	Format     string // json, ubj or xgb
	Version    string // the XGBoost version that wrote the file ("" for legacy binaries)
	Objective  string
	NumFeature int64
	NumClass   int64
	NumTrees   int64
	Booster    string // gbtree, dart, gblinear
	ModelClass string // xgboost.core.Booster or the sklearn wrapper's class
}

// Read reads an XGBoost model file.
func Read(path string) (*Facts, error) {
	data, format, err := readFile(path)
	if err != nil {
		return nil, err
	}
	switch format {
	case "json":
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, flavor.Invalid("%s is not valid XGBoost JSON: %v", path, err)
		}
		return fromDoc(path, doc, "json")
	case "ubj":
		doc, err := decodeUBJSON(data)
		if err != nil {
			return nil, flavor.Invalid("%s is not valid XGBoost UBJSON: %v", path, err)
		}
		return fromDoc(path, doc, "ubj")
	}
	f, err := readLegacy(path, data)
	if err != nil {
		return nil, err
	}
	// The attributes come after the trees: only a booster that reads
	// whole tells its scikit-learn wrapper.
	if m, err := modelFromLegacy(data); err == nil {
		f.ModelClass = sklearnClass(m.Attributes["scikit_learn"])
	}
	return f, nil
}

// sklearnClass is the model class MLflow records for a booster whose
// scikit_learn attribute is meta: the wrapper that saved it, by its
// _estimator_type, or the Booster.
func sklearnClass(meta string) string {
	m, _ := SklearnMeta(meta)
	switch m["_estimator_type"] {
	case "classifier":
		return ClassifierClass
	case "regressor":
		return RegressorClass
	case "ranker":
		return RankerClass
	}
	return BoosterClass
}

// readFile reads an XGBoost model file and tells its format by its
// first bytes: "json" (an object whose first key is quoted), "ubj" (an
// object in UBJSON), else "xgb" (the legacy binary format).
func readFile(path string) ([]byte, string, error) {
	data, err := flavor.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil, "", flavor.Invalid("%s is empty", path)
	case trimmed[0] == '{' && len(trimmed) > 1 && bytes.HasPrefix(bytes.TrimLeft(trimmed[1:], " \t\r\n"), []byte(`"`)):
		return data, "json", nil
	case data[0] == '{':
		return data, "ubj", nil
	}
	return data, "xgb", nil
}

func field(doc any, path ...string) any {
	for _, p := range path {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[p]
	}
	return doc
}

func num(v any) (int64, bool) {
	switch v := v.(type) {
	case json.Number:
		return num(string(v))
	case string:
		s := strings.Trim(v, "[]")
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, true
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return int64(f), true
		}
	case float64:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

func fromDoc(path string, doc any, format string) (*Facts, error) {
	learner := field(doc, "learner")
	if learner == nil {
		return nil, flavor.Invalid("%s is JSON, but not an XGBoost model (no 'learner')", path)
	}
	f := &Facts{Format: format, ModelClass: BoosterClass}
	if v, ok := field(doc, "version").([]any); ok {
		var parts []string
		for _, p := range v {
			n, _ := num(p)
			parts = append(parts, strconv.FormatInt(n, 10))
		}
		f.Version = strings.Join(parts, ".")
	}
	f.Objective, _ = field(learner, "objective", "name").(string)
	f.NumFeature, _ = num(field(learner, "learner_model_param", "num_feature"))
	f.NumClass, _ = num(field(learner, "learner_model_param", "num_class"))
	f.Booster, _ = field(learner, "gradient_booster", "name").(string)
	model := field(learner, "gradient_booster", "model")
	if f.Booster == "dart" {
		model = field(learner, "gradient_booster", "gbtree", "model")
	}
	if n, ok := num(field(model, "gbtree_model_param", "num_trees")); ok {
		f.NumTrees = n
	} else if trees, ok := field(model, "trees").([]any); ok {
		f.NumTrees = int64(len(trees))
	}
	if s, ok := field(learner, "attributes", "scikit_learn").(string); ok {
		f.ModelClass = sklearnClass(s)
	}
	if f.Objective == "" {
		return nil, flavor.Invalid("%s: the model names no objective", path)
	}
	return f, nil
}

// readLegacy reads the header of XGBoost's legacy binary format: optional
// "binf", then f32 base_score, u32 num_feature, i32 num_class, …, and the
// length-prefixed objective name.
func readLegacy(path string, data []byte) (*Facts, error) {
	b := bytes.TrimPrefix(data, []byte("binf"))
	if len(b) < 136+8 {
		return nil, flavor.Invalid("%s is not an XGBoost model (not JSON, not UBJSON, too short for the binary format)", path)
	}
	f := &Facts{Format: "xgb", ModelClass: BoosterClass}
	base := math.Float32frombits(binary.LittleEndian.Uint32(b[0:]))
	f.NumFeature = int64(binary.LittleEndian.Uint32(b[4:]))
	f.NumClass = int64(int32(binary.LittleEndian.Uint32(b[8:])))
	if math.IsNaN(float64(base)) || f.NumFeature <= 0 || f.NumFeature > 1<<24 || f.NumClass < 0 || f.NumClass > 1<<16 {
		return nil, flavor.Invalid("%s is not an XGBoost model (its binary header does not parse)", path)
	}
	p := 136
	str := func() (string, error) {
		if p+8 > len(b) {
			return "", errors.New("truncated")
		}
		n := binary.LittleEndian.Uint64(b[p:])
		p += 8
		if n > 1024 || p+int(n) > len(b) {
			return "", errors.New("bad string length")
		}
		s := string(b[p : p+int(n)])
		p += int(n)
		return s, nil
	}
	var err error
	if f.Objective, err = str(); err != nil {
		return nil, flavor.Invalid("%s: binary model header: objective %v", path, err)
	}
	if f.Booster, err = str(); err != nil {
		return nil, flavor.Invalid("%s: binary model header: booster %v", path, err)
	}
	if !strings.Contains(f.Objective, ":") {
		return nil, flavor.Invalid("%s is not an XGBoost model (objective %q)", path, f.Objective)
	}
	// gbtree model param: i32 num_trees first.
	if f.Booster == "gbtree" || f.Booster == "dart" {
		if p+4 <= len(b) {
			f.NumTrees = int64(int32(binary.LittleEndian.Uint32(b[p:])))
		}
	}
	return f, nil
}

// Inspect implements flavor.Flavor.
func (Flavor) Inspect(ctx context.Context, req *flavor.InspectRequest) (*flavor.Model, error) {
	f, err := Read(req.Path)
	if err != nil {
		return nil, err
	}
	file := "model." + f.Format
	facts := map[string]string{
		"format": f.Format, "objective": f.Objective, "num_feature": strconv.FormatInt(f.NumFeature, 10),
		"num_class": strconv.FormatInt(f.NumClass, 10), "num_trees": strconv.FormatInt(f.NumTrees, 10),
		"booster": f.Booster, "model_class": f.ModelClass,
	}
	req2 := "xgboost"
	if f.Version != "" {
		facts["xgboost_version"] = f.Version
		req2 = "xgboost==" + f.Version
	}
	m := &flavor.Model{
		Facts: facts,
		Flavor: map[string]any{
			"code": nil, "data": file, "model_class": f.ModelClass, "model_format": f.Format, "xgb_version": f.Version,
		},
		LoaderModule: "mlflow.xgboost",
		PyfuncExtra:  map[string]any{"data": file},
		Requirements: []string{req2},
		ModelFile:    file,
	}
	if f.NumFeature > 0 {
		// A count, not an exact schema: a fact, no signature (an inferred
		// float32 tensor one makes MLflow's pyfunc refuse float64 numpy
		// and pandas input; MLflow writes none without an input example).
		m.Facts["num_feature"] = strconv.FormatInt(f.NumFeature, 10)
	}
	return m, nil
}

// Save implements flavor.Flavor.
func (f Flavor) Save(ctx context.Context, req *flavor.SaveRequest) (*flavor.SaveResponse, error) {
	return flavor.SaveModel(ctx, f, req)
}
