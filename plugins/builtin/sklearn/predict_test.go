package sklearn

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mlrun/mlrun/internal/pylines"
)

// TestPredictsAsScikitLearn fits models with Debian's scikit-learn
// (testdata/predict.py), pickles each with protocols 2, 4 and 5 and with
// cloudpickle (as MLflow saves them), and
// compares the Go predictor's answers with scikit-learn's own on random
// inputs and on inputs scikit-learn refuses: the same labels, the same
// numbers (to 1e-12 relative: numpy's BLAS may sum a dot product in
// another order), the same refusals with the same messages.
func TestPredictsAsScikitLearn(t *testing.T) {
	const install = "apt-get install python3-sklearn python3-pandas python3-cloudpickle"
	py := pylines.Debian(t, install, "sklearn", "pandas", "cloudpickle")
	script, err := os.ReadFile("testdata/predict.py")
	if err != nil {
		t.Fatal(err)
	}
	sk := pylines.StartWith(t, py, string(script), install, "sklearn", "pandas", "cloudpickle")
	req, _ := json.Marshal(map[string]string{"fit": t.TempDir()})
	var files map[string][]string
	if err := json.Unmarshal([]byte(sk.Ask(t, string(req))), &files); err != nil {
		t.Fatal(err)
	}
	cols := []string{"a", "b", "c", "d", "e"}
	numpyFitted := map[string]bool{"linreg_noicpt_numpy": true, "elasticnet_numpy": true, "sgd_binary": true,
		"pipe_robust_maxabs_linreg": true, "tree_reg_numpy": true, "extra_reg": true, "gb_reg_huber_zero": true, "gnb_10_numpy": true, "svc_poly_10": true, "nusvc_proba_10": true, "ada_samme_binary": true, "knn_grid_10": true, "knn_reg_dist": true, "lda_binary_lsqr": true, "calib_pipe_logreg": true, "voting_hard_weighted": true, "nusvr_linear": true, "mlp_reg_logistic": true, "svd_ridge": true,
		"nb_complement": true, "nb_categorical_min": true, "ridgeclscv_binary": true, "lassolars_ic": true, "glm_tweedie_log": true, "kmeans_minibatch": true, "nearest_centroid_manhattan": true, "qda_reg_binary": true, "iforest_sub": true,
		"normalizer_l2_knn": true, "quantile_normal_logreg": true, "kbins_onehot_dense_logreg": true, "bagging_features_knn": true, "bagging_reg_linear": true, "ttr_minmax_2targets": true, "spline_linear_nobias": true, "lof_brute_manhattan": true, "kridge_poly_2targets": true, "gpr_matern": true, "pls_reg_2targets": true, "gpc_matern_white": true, "ovr_pipe_knn": true, "calib_nusvc_ovo_binary": true}
	grid := func(name string) bool {
		return slices.Contains([]string{"tree_reg", "tree_cls", "forest_reg", "extra_cls", "gb_reg_stopped", "gb_multi", "hgb_poisson_nan", "hgb_binary", "hgb_cat_cls", "hgb_cat_reg_nan", "ada_reg", "knn_dist_grid", "knn_grid_10", "knn_reg_grid", "knn_ball_grid", "knn_manhattan_grid", "knn_cheb_ball_grid", "search_random_forest", "voting_soft_even", "voting_hard", "voting_hard_two", "stack_predict_grid", "poly_interaction_nobias", "poly_min2_bias", "quantile_grid_linreg", "rfe_transform_tree", "bagging_reg", "ttr_sqrt_grid", "ttr_robust_tree", "sfm_tree_maxfeat", "ovr_tree_grid", "func_validate_tree", "impute_indicator_all_tree", "spline_continue_quantile", "calib_ovr_tree"}, name) || strings.HasPrefix(name, "nb_")
	}
	proba := []string{"logreg_binary", "logreg_multi", "logreg_ovr", "logreg_10", "logregcv", "tree_cls", "forest_cls10", "extra_cls", "pipe_std_logreg", "pipe_std_forest", "gb_binary", "gb_multi", "hgb_binary", "hgb_multi", "hgb_cat_cls", "gnb", "gnb_10_numpy", "mlp_cls_relu", "mlp_binary_tanh", "pca_whiten_logreg", "select_kbest_tree", "svc_rbf_proba", "svc_sigmoid_proba_binary", "nusvc_proba_10", "ada_samme_r", "ada_samme_binary", "knn", "knn_dist_grid", "knn_grid_10", "knn_ball_grid", "knn_manhattan_grid", "knn_manhattan_ball", "lda_multi", "lda_binary_lsqr", "calib_linearsvc", "calib_forest_binary", "calib_pipe_logreg", "search_grid_logreg", "voting_soft", "voting_soft_even", "stack_cls", "stack_binary_pass",
		"nb_multinomial", "nb_complement", "nb_bernoulli", "nb_bernoulli_none", "nb_categorical", "nb_categorical_min", "sgd_log", "sgd_huber_binary", "sgd_huber_multi", "qda", "qda_reg_binary",
		"binarizer_bnb", "quantile_normal_logreg", "kbins_ordinal_tree", "kbins_onehot_dense_logreg", "rfecv_logreg_pipe", "select_percentile_logreg", "sfm_forest_logreg", "sfm_logreg_median", "ovr_logreg", "ovr_tree_grid", "ovr_pipe_knn", "gb_exponential", "calib_isotonic", "knn_brute", "knn_brute_dist_20", "calib_svc_multi", "calib_nusvc_ovo_binary", "calib_ovr_logreg", "calib_ovr_tree", "nystroem_logreg", "gpc_rbf", "gpc_matern_white", "gpc_multi_ovr", "stack_svc", "stack_svc_ovo",
		"bagging_tree", "bagging_features_knn", "bagging_sparse_classes", "bagging_svc_votes"}
	// looser are the models whose own arithmetic keeps fewer digits than
	// 1e-12 of scikit-learn's BLAS sums: inverse distances over few shared
	// coordinates (scikit-learn's nan_euclidean expands squares that
	// cancel), a Gaussian process's ill-conditioned alpha_ (scikit-learn's
	// own answer to a row moves by 1e-11 with the batch it comes in).
	looser := map[string]float64{"knn_impute_dist_indicator": 1e-8, "gpr_rbf_white": 1e-9, "gpr_matern": 1e-9, "gpr_mixed_2targets": 1e-9, "gpr_periodic_1d": 1e-9}
	// A Gaussian process classifier's probability is five erf terms of
	// about a thousand summed to less than one: absolute digits.
	looserAbs := map[string]float64{"gpc_rbf": 1e-10, "gpc_matern_white": 1e-10, "gpc_multi_ovr": 1e-10}
	rnd := rand.New(rand.NewPCG(1, 2))
	var worst float64
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if strings.HasPrefix(name, "ct_") || strings.HasPrefix(name, "text_") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			// Each model its own inputs: adding a model changes no other's.
			h := fnv.New64a()
			h.Write([]byte(name))
			rnd := rand.New(rand.NewPCG(1, h.Sum64()))
			fns := []string{"predict"}
			if slices.Contains(proba, name) {
				fns = append(fns, "predict_proba")
				if !strings.HasPrefix(name, "hgb_") && !strings.HasPrefix(name, "knn") && !strings.HasPrefix(name, "voting") && !strings.HasPrefix(name, "stack") && !strings.HasPrefix(name, "calib") && !strings.HasPrefix(name, "ovr") && !strings.HasPrefix(name, "gpc") { // HistGradientBoostingClassifier, KNeighborsClassifier and VotingClassifier have no predict_log_proba
					fns = append(fns, "predict_log_proba")
				}
			}
			if strings.HasPrefix(name, "gnb") || strings.HasPrefix(name, "nb_") {
				fns = append(fns, "predict_joint_log_proba")
			}
			// Inputs: random rows like the training data (or the grid's
			// values and halves, where tree thresholds lie, and values a
			// hair off them), then what scikit-learn refuses.
			rows := make([][]float64, 40)
			for r := range rows {
				rows[r] = make([]float64, 5)
				for j := range rows[r] {
					if grid(name) {
						v := float64(rnd.IntN(11)) / 2
						switch rnd.IntN(6) {
						case 0:
							v += 1e-9
						case 1:
							v -= 1e-9
						}
						rows[r][j] = v
					} else {
						rows[r][j] = rnd.NormFloat64()*[]float64{1, 10, 0.1, 100, 1}[j] + []float64{0, 5, 0, -50, 2}[j]
					}
				}
			}
			if strings.HasPrefix(name, "power_boxcox") || strings.HasPrefix(name, "func_") && name != "func_validate_tree" { // positive data (Box-Cox, logarithms)
				for _, r := range rows {
					for j, v := range r {
						r[j] = math.Abs(v) + 0.1
					}
				}
			}
			named := cols
			if numpyFitted[name] {
				named = nil
			}
			type input struct {
				what    string
				columns []string
				rows    [][]float64
			}
			one := func(v float64) [][]float64 { return [][]float64{{1, 2, v, 4, 5}} }
			inputs := []input{
				{"random rows", named, rows},
				{"a NaN", named, one(math.NaN())},
				{"a zero", named, one(0)},
				{"an infinity", named, one(math.Inf(-1))},
				{"past float32", named, one(1e39)},
				{"no rows", cols, [][]float64{}},
				{"four columns", nil, [][]float64{{1, 2, 3, 4}}},
				{"names swapped", []string{"b", "a", "c", "d", "e"}, rows[:2]},
				{"a name changed", []string{"a", "b", "c", "d", "z"}, rows[:2]},
				{"names missing", []string{"a", "b", "c"}, [][]float64{{1, 2, 3}}},
				{"names of a numpy fit or none of a frame's", map[bool][]string{true: cols, false: nil}[named == nil], rows[:3]},
			}
			if strings.HasPrefix(name, "knn_impute") || strings.HasPrefix(name, "iter_impute") || strings.HasPrefix(name, "impute_") || strings.HasPrefix(name, "missing_") {
				holes := make([][]float64, len(rows))
				for r, row := range rows {
					holes[r] = slices.Clone(row)
					for j := range holes[r] {
						if rnd.IntN(4) == 0 {
							holes[r][j] = math.NaN()
						}
					}
				}
				holes[0] = []float64{math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()}
				inputs = append(inputs, input{"missing values", named, holes})
			}
			if strings.HasPrefix(name, "hgb_cat") { // categories past those fitted, negative, fractional, past a byte
				var odd [][]float64
				for _, v := range []float64{-1, -0.5, -1e-9, 2.7, 7, 255, 256, 300, 1e10, 1 << 32, 3e9, -3e9} {
					odd = append(odd, []float64{v, 1, v, v, 2}, []float64{2, 0, 1, v, 4})
				}
				inputs = append(inputs, input{"odd categories", named, odd})
			}
			for _, file := range files[name] {
				for _, fn := range fns {
					p, err := LoadPredictor(file, fn)
					if err != nil {
						t.Fatalf("%s %s: %v", file, fn, err)
					}
					for _, in := range inputs {
						want := askSklearn(t, sk, name, fn, in.columns, in.rows)
						got := answer(t, p, in.columns, cells(in.rows))
						d, ok := alike(got, want)
						if tol, loose := looser[name]; !ok && loose {
							_, ok = alikeTol(got, want, tol)
						}
						if tol, loose := looserAbs[name]; !ok && loose {
							ok = alikeWithin(got, want, tol)
						}
						if !ok && strings.Contains(fn, "log_proba") {
							// log p near p = 1 turns p's last digit (BLAS's
							// order) into a large relative difference: the
							// log's is compared as an absolute one.
							ok = alikeWithin(got, want, 1e-12)
						}
						if !ok {
							t.Errorf("%s %s, %s:\n go: %.400v\n sklearn: %.400v", file[strings.LastIndex(file, "/")+1:], fn, in.what, got, want)
						} else {
							worst = max(worst, d)
						}
					}
				}
			}
		})
	}
	t.Logf("largest relative difference from scikit-learn: %.3g", worst)

	// Column transformers, on frames of numbers (None missing) and text
	// (None a value, as pandas and scikit-learn see it).
	mixed := func(n int, unknown bool) [][]any {
		rows := make([][]any, n)
		for r := range rows {
			var a any = rnd.NormFloat64()
			if rnd.IntN(8) == 0 {
				a = nil
			}
			cities := []any{"NY", "SF", "LA", nil, math.NaN()}
			colors := []any{"red", "blue"}
			if unknown {
				cities, colors = append(cities, "Paris"), append(colors, "green")
			}
			rows[r] = []any{a, cities[rnd.IntN(len(cities))], rnd.NormFloat64() * 10, colors[rnd.IntN(len(colors))]}
		}
		return rows
	}
	mcols := []string{"a", "city", "b", "color"}
	reorder := func(rows [][]any, idx ...int) [][]any {
		out := make([][]any, len(rows))
		for i, r := range rows {
			for _, j := range idx {
				out[i] = append(out[i], r[j])
			}
		}
		return out
	}
	known := mixed(40, false)
	for _, name := range []string{"ct_logreg", "ct_forest_passthrough", "ct_most_frequent_error", "ct_ordinal_tree", "ct_ordinal_error", "ct_numpy_idx", "ct_infrequent", "ct_infrequent_drop"} {
		t.Run(name, func(t *testing.T) {
			inputs := []rawInput{
				{"known values", mcols, known},
				{"unknown city", mcols, [][]any{{0.5, "Paris", 1.0, "red"}}},
				{"unknown color", mcols, [][]any{{0.5, "NY", 1.0, "green"}, {0.1, "SF", 2.0, "green"}}},
				{"unknowns", mcols, mixed(30, true)},
				{"columns reordered", []string{"b", "color", "a", "city"}, reorder(known[:5], 2, 3, 0, 1)},
				{"no city column", []string{"a", "b", "color"}, reorder(known[:3], 0, 2, 3)},
				{"a number as text", mcols, [][]any{{"1.5", "NY", 1.0, "red"}, {2.0, "SF", 1.0, "blue"}}},
				{"text in a number column", mcols, [][]any{{"abc", "NY", 1.0, "red"}}},
				{"an array", nil, known[:4]},
			}
			if name == "ct_numpy_idx" {
				num := make([][]any, 30)
				for r := range num {
					var c any = rnd.NormFloat64()
					if rnd.IntN(5) == 0 {
						c = math.NaN()
					}
					num[r] = []any{rnd.NormFloat64(), float64(rnd.IntN(4)), c}
				}
				inputs = []rawInput{
					{"numbers", nil, num},
					{"an unknown number", nil, [][]any{{0.1, 7.0, 0.2}}},
					{"a NaN category", nil, [][]any{{0.1, math.NaN(), 0.2}}},
					{"names", []string{"x", "y", "z"}, num[:3]},
					{"two columns", nil, [][]any{{0.1, 1.0}}},
				}
			}
			for _, file := range files[name] {
				p, err := LoadPredictor(file, "predict")
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				for _, in := range inputs {
					want := askSklearnRaw(t, sk, name, in.columns, in.rows)
					got := answer(t, p, in.columns, in.rows)
					if _, ok := alike(got, want); !ok {
						t.Errorf("%s %s:\n go: %.400v\n sklearn: %.400v", file[strings.LastIndex(file, "/")+1:], in.what, got, want)
					}
				}
			}
		})
	}

	testText(t, sk, files)

	// The new predictors serve concurrent requests with the answers they
	// give alone (run with -race: no state shared between calls).
	crows := make([][]any, 12)
	for r := range crows {
		crows[r] = []any{float64(r%5) + 0.5, float64(r % 3), -1.5 + float64(r), 0.25 * float64(r), 1.0}
	}
	for _, c := range []struct{ name, fn string }{{"bagging_sparse_classes", "predict_proba"}, {"iforest_sub", "predict"}, {"qda", "predict_proba"},
		{"kmeans", "predict"}, {"quantile_normal_logreg", "predict_proba"}, {"ovr_svc_poly", "predict"}, {"ttr_log1p_linreg", "predict"},
		{"calib_isotonic", "predict_proba"}, {"knn_brute_dist_20", "predict_proba"}, {"impute_indicator_ridge", "predict"}, {"text_ct", "predict"},
		{"lof_novelty", "predict"}, {"gpr_rbf_white", "predict"}, {"iter_impute_tree_indicator", "predict"}, {"kridge_rbf", "predict"}, {"pls_reg", "predict"},
		{"spline_periodic", "predict"}, {"knn_impute_dist_indicator", "predict"}, {"bagging_tree", "predict_log_proba"}} {
		p, err := LoadPredictor(files[c.name][3], c.fn)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		names := cols
		rows := crows
		if strings.Contains(c.name, "impute") {
			rows = slices.Clone(crows)
			rows[1] = []any{nan, 1.0, nan, 2.0, 0.5}
		}
		if c.name == "text_ct" {
			names, rows = []string{"text", "x"}, [][]any{{"the cat runs", 0.5}, {"ΟΔΟΣ slow", -1.0}}
		}
		concurrently(t, c.name, func() (any, error) { return p.Predict(names, len(names), rows) })
	}
	tp, err := LoadPredictor(files["text_hashing_sgd"][3], "predict_proba")
	if err != nil {
		t.Fatal(err)
	}
	concurrently(t, "text_hashing_sgd", func() (any, error) { return tp.PredictVector([]any{"the cat", "ΣΑΣ fast Dog", ""}) })

	// What Go does not predict is said, for a Python worker to serve.
	for _, c := range []struct{ name, fn string }{{"text_ct_dense_scaler", "predict"}, {"linearsvc", "predict_proba"}, {"linreg", "predict_proba"}, {"hgb_binary", "predict_log_proba"}, {"logreg_binary", "predict_joint_log_proba"}, {"linearsvc", "predict_log_proba"}, {"svc_rbf", "predict_proba"}} {
		if _, err := LoadPredictor(files[c.name][3], c.fn); !errors.Is(err, ErrNotInGo) {
			t.Errorf("%s %s: %v, want ErrNotInGo", c.name, c.fn, err)
		}
	}
}

// rawInput is a frame of cells as they are.
type rawInput struct {
	what    string
	columns []string
	rows    [][]any
}

// askSklearn asks the script for scikit-learn's answer.
func askSklearn(t *testing.T, sk *pylines.Proc, model, fn string, columns []string, rows [][]float64) any {
	t.Helper()
	enc := make([][]any, len(rows))
	for i, r := range rows {
		for _, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				enc[i] = append(enc[i], fmt.Sprint(v))
			} else {
				enc[i] = append(enc[i], v)
			}
		}
	}
	for i := range enc {
		for j, v := range enc[i] {
			if s, ok := v.(string); ok {
				enc[i][j] = strings.NewReplacer("NaN", "nan", "+Inf", "inf", "-Inf", "-inf").Replace(s)
			}
		}
	}
	req, _ := json.Marshal(map[string]any{"model": model, "fn": fn, "columns": columns, "rows": enc})
	var v any
	if err := json.Unmarshal([]byte(sk.Ask(t, string(req))), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// alikeWithin compares answers: numbers to within abs of each other,
// everything else exactly.
func alikeWithin(a, b any, abs float64) bool {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, v := range a {
			if !alikeWithin(v, bm[k], abs) {
				return false
			}
		}
		return true
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) {
			return false
		}
		for i := range a {
			if !alikeWithin(a[i], bl[i], abs) {
				return false
			}
		}
		return true
	case float64:
		bf, ok := b.(float64)
		return ok && math.Abs(a-bf) <= abs
	}
	return a == b
}

// alike compares answers: numbers to 1e-12 relative (returning the
// largest difference), everything else exactly.
func alike(a, b any) (float64, bool) { return alikeTol(a, b, 1e-12) }

// alikeTol is alike to tol relative.
func alikeTol(a, b any, tol float64) (float64, bool) {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return 0, false
		}
		worst := 0.0
		for k, v := range a {
			d, ok := alikeTol(v, bm[k], tol)
			if !ok {
				return 0, false
			}
			worst = max(worst, d)
		}
		return worst, true
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) {
			return 0, false
		}
		worst := 0.0
		for i := range a {
			d, ok := alikeTol(a[i], bl[i], tol)
			if !ok {
				return 0, false
			}
			worst = max(worst, d)
		}
		return worst, true
	case float64:
		bf, ok := b.(float64)
		if !ok {
			return 0, false
		}
		if a == bf {
			return 0, true
		}
		d := math.Abs(a-bf) / max(math.Abs(a), math.Abs(bf))
		return d, d <= tol
	}
	if as, ok := a.(string); ok {
		if bs, ok := b.(string); ok {
			return 0, sameSetRepr(as, bs)
		}
	}
	return 0, a == b
}

// sameSetRepr compares two messages, a Python set's repr in them in any
// order (Python orders a set of text by its per-process hash seed).
func sameSetRepr(a, b string) bool {
	if a == b {
		return true
	}
	ai, bi := strings.Index(a, "{"), strings.Index(b, "{")
	if ai < 0 || ai != bi || a[:ai] != b[:bi] || !strings.HasSuffix(a, "}") || !strings.HasSuffix(b, "}") {
		return false
	}
	as := strings.Split(a[ai+1:len(a)-1], ", ")
	bs := strings.Split(b[bi+1:len(b)-1], ", ")
	slices.Sort(as)
	slices.Sort(bs)
	return slices.Equal(as, bs)
}

// cells is rows as the cells of a frame.
func cells[T any](rows [][]T) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		for _, v := range r {
			out[i] = append(out[i], v)
		}
	}
	return out
}

// width is a frame's width: its names', or its widest row's.
func width[T any](names []string, rows [][]T) int {
	if names != nil {
		return len(names)
	}
	w := 0
	for _, r := range rows {
		w = max(w, len(r))
	}
	return w
}

// askSklearnRaw asks the script for scikit-learn's answer to a frame of
// cells as they are (None, text, numbers; NaN as "nan").
func askSklearnRaw(t *testing.T, sk *pylines.Proc, model string, columns []string, rows [][]any) any {
	t.Helper()
	enc := make([][]any, len(rows))
	for i, r := range rows {
		for _, v := range r {
			if f, ok := v.(float64); ok && math.IsNaN(f) {
				v = "nan"
			}
			enc[i] = append(enc[i], v)
		}
	}
	req, _ := json.Marshal(map[string]any{"model": model, "fn": "predict", "columns": columns, "rows": enc, "raw": true})
	var v any
	if err := json.Unmarshal([]byte(sk.Ask(t, string(req))), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// answer is the predictor's answer as the script writes scikit-learn's:
// {"ok": result} or {"err": "ValueError: message"}.
func answer(t *testing.T, p *Predictor, columns []string, rows [][]any) any {
	t.Helper()
	out, err := p.Predict(columns, width(columns, rows), rows)
	if ie := (*InputError)(nil); errors.As(err, &ie) {
		return map[string]any{"err": ie.Error()}
	} else if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"ok": nonFinite(out)}
}

// nonFinite is an answer as predict.py writes scikit-learn's: numbers,
// with NaN and ±infinity as the texts "nan", "inf" and "-inf".
func nonFinite(out any) any {
	switch o := out.(type) {
	case float64:
		switch {
		case math.IsNaN(o):
			return "nan"
		case math.IsInf(o, 1):
			return "inf"
		case math.IsInf(o, -1):
			return "-inf"
		}
		return o
	case []float64:
		return eachNonFinite(o)
	case [][]float64:
		return eachNonFinite(o)
	case []any:
		return eachNonFinite(o)
	}
	b, _ := json.Marshal(out)
	var v any
	json.Unmarshal(b, &v)
	return v
}

func eachNonFinite[T any](xs []T) []any {
	v := make([]any, len(xs))
	for i, x := range xs {
		v[i] = nonFinite(x)
	}
	return v
}

// testText compares the text models' answers with scikit-learn's: lists
// of documents (as MLflow hands `inputs` to a model: a one-dimensional
// array), a DataFrame (whose documents scikit-learn takes to be its
// column names), a two-dimensional array, values that are not text, and
// a ColumnTransformer's text column.
func testText(t *testing.T, sk *pylines.Proc, files map[string][]string) {
	rnd := rand.New(rand.NewPCG(5, 6))
	words := []string{"the", "Cat", "dog", "and", "runs", "fast", "SLOW", "CAFÉ", "café", "naïve", "ΟΔΟΣ", "οδος", "ΣΑΣ.", "Σ", "İstanbul",
		"x_y", "42", "b2b", "it's", "Über", "STRASSE", "Straße", "unseen", "I", "n", "go!", "e\u0301t\u00e9", "\u00a0", "ǅ", "Ⅻ", "½", "tab\there"}
	doc := func() string {
		var b strings.Builder
		for range rnd.IntN(14) {
			b.WriteString(words[rnd.IntN(len(words))])
			b.WriteString([]string{" ", "  ", ", ", "\t", " \n ", "\u2028", "\x1c", "-"}[rnd.IntN(8)])
		}
		return b.String()
	}
	docs := make([]any, 60)
	for i := range docs {
		docs[i] = doc()
	}
	docs[0], docs[1] = "", "   "
	askDocs := func(model, fn string, d []any) any {
		t.Helper()
		req, _ := json.Marshal(map[string]any{"model": model, "fn": fn, "docs": d})
		var v any
		if err := json.Unmarshal([]byte(sk.Ask(t, string(req))), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	answerDocs := func(p *Predictor, d []any) any {
		t.Helper()
		out, err := p.PredictVector(d)
		if ie := (*InputError)(nil); errors.As(err, &ie) {
			return map[string]any{"err": ie.Error()}
		} else if err != nil {
			t.Fatal(err)
		}
		return map[string]any{"ok": nonFinite(out)}
	}
	compare := func(t *testing.T, what string, got, want any) {
		t.Helper()
		if _, ok := alike(got, want); !ok {
			t.Errorf("%s:\n go: %.600v\n sklearn: %.600v", what, got, want)
		}
	}
	proba := map[string]bool{"text_tfidf_logreg": true, "text_count_mnb": true, "text_tfidf_trigram_cnb": true, "text_svd_forest": true, "text_ascii_bnb": true, "text_hashing_sgd": true, "text_hashing16_tfidf_logreg": true, "text_hashing_binary_l1_mnb": true}
	for _, name := range []string{"text_tfidf_logreg", "text_count_mnb", "text_count_tfidf_sgd", "text_tfidf_trigram_cnb", "text_char_wb_linearsvc", "text_char_ridge", "text_svd_forest", "text_accents_ridgecls", "text_ascii_bnb", "text_hashing_sgd", "text_hashing16_tfidf_logreg", "text_hashing_binary_l1_mnb", "text_hashing8_ridge"} {
		t.Run(name, func(t *testing.T) {
			fns := []string{"predict"}
			if proba[name] {
				fns = append(fns, "predict_proba")
			}
			for _, file := range files[name] {
				for _, fn := range fns {
					p, err := LoadPredictor(file, fn)
					if err != nil {
						t.Fatalf("%s %s: %v", file, fn, err)
					}
					if !p.TakesDocuments() {
						t.Fatalf("%s: the model does not take documents", file)
					}
					for _, in := range []struct {
						what string
						docs []any
					}{
						{"documents", docs},
						{"no documents", []any{}},
						{"a None", []any{"the cat", nil}},
						{"numbers", []any{1.5, 2.0}},
						{"integers", []any{1.0, 2.0}},
						{"text and numbers", []any{"the cat", 3.0, 2.5, true}},
					} {
						compare(t, fn+", "+in.what, answerDocs(p, in.docs), askDocs(name, fn, in.docs))
					}
					// A DataFrame's documents are its column names; a
					// two-dimensional array's rows are arrays.
					for _, in := range []rawInput{
						{"a DataFrame", []string{"text"}, [][]any{{"the cat"}, {"a dog runs"}}},
						{"a DataFrame of two columns", []string{"Cat Dog", "fast"}, [][]any{{"x", "y"}}},
						{"a 2-D array", nil, [][]any{{"the cat"}, {"a dog"}}},
					} {
						want := askSklearnRaw(t, sk, name, in.columns, in.rows)
						if fn != "predict" {
							continue // askSklearnRaw asks predict
						}
						compare(t, fn+", "+in.what, answer(t, p, in.columns, in.rows), want)
					}
				}
			}
		})
	}
	t.Run("text_ct", func(t *testing.T) {
		rows := make([][]any, 30)
		for i := range rows {
			rows[i] = []any{doc(), rnd.NormFloat64()}
		}
		for _, file := range files["text_ct"] {
			p, err := LoadPredictor(file, "predict")
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			for _, in := range []rawInput{
				{"rows", []string{"text", "x"}, rows},
				{"columns swapped", []string{"x", "text"}, [][]any{{0.5, "the cat"}, {1.5, "fast"}}},
				{"a None text", []string{"text", "x"}, [][]any{{nil, 0.5}, {"the cat", 1.0}}},
				{"a number for text", []string{"text", "x"}, [][]any{{"dog", 0.5}, {2.5, 1.0}}},
				{"numbers for text", []string{"text", "x"}, [][]any{{3.0, 0.5}, {2.5, 1.0}}},
				{"no text column", []string{"x"}, [][]any{{0.5}}},
			} {
				compare(t, in.what, answer(t, p, in.columns, in.rows), askSklearnRaw(t, sk, "text_ct", in.columns, in.rows))
			}
		}
	})
	// Many documents are predicted a chunk at a time, as one.
	p, err := LoadPredictor(files["text_char_ridge"][0], "predict")
	if err != nil {
		t.Fatal(err)
	}
	many := make([]any, 3*p.chunk+7)
	for i := range many {
		many[i] = doc()
	}
	compare(t, "text_char_ridge, chunks", answerDocs(p, many), askDocs("text_char_ridge", "predict", many))
}

// concurrently calls predict from 8 goroutines, 20 times each, and
// wants the answer it gives alone.
func concurrently(t *testing.T, name string, predict func() (any, error)) {
	t.Helper()
	want, err := predict()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if got, err := predict(); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: %v %v, alone %v", name, got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
