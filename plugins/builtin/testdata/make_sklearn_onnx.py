#!/usr/bin/python3
"""Makes ONNX models of scikit-learn models (Debian's python3-sklearn) as
skl2onnx converts them -- its converters' graphs and attributes, read in its
source (operator_converters/linear_classifier.py, common/tree_ensemble.py;
skl2onnx itself is not packaged) -- and writes to onnx/sklearn/predictions.json
what scikit-learn predicts for the same float32 rows: the labels and the
probabilities or values that mlrun's Go runtime must give.

Run from this folder:  /usr/bin/python3 make_sklearn_onnx.py
"""
import json
import os

import numpy as np
import onnx
import sklearn
from onnx import TensorProto, helper
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

rng = np.random.RandomState(11)
X = rng.randn(200, 4).astype(np.float32)
y3 = np.array([1, 2, 5])[(X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 0.5).astype(int)]
y2 = (X[:, 0] - X[:, 3] + 0.3 * rng.randn(200) > 0).astype(int)
yr = X[:, 0] * 2 - X[:, 1] ** 2 + 0.1 * rng.randn(200)
rows = rng.randn(9, 4).astype(np.float32)
rows_nan = rows.copy()
rows_nan[1, 2] = np.nan
rows_nan[4, 0] = np.nan
out = {"sklearn_version": sklearn.__version__, "rows": rows.astype(np.float64).tolist(),
       "rows_nan": [[None if np.isnan(v) else float(v) for v in r] for r in rows_nan], "models": {}}

INPUT = [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, [None, 4])]
CLASSIFIER_OUT = [helper.make_tensor_value_info("output_label", TensorProto.INT64, [None]),
                  helper.make_tensor_value_info("output_probability", TensorProto.FLOAT, [None, None])]
REGRESSOR_OUT = [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])]


def save(name, nodes, outputs, inits=(), ml_opset=1):
    graph = helper.make_graph(nodes, name, INPUT, outputs, initializer=list(inits))
    model = helper.make_model(graph, producer_name="skl2onnx", producer_version="1.16.0",
                              opset_imports=[helper.make_opsetid("", 15), helper.make_opsetid("ai.onnx.ml", ml_opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, "onnx/sklearn/%s.onnx" % name)


def ml(op, inputs, outputs, **attrs):
    return helper.make_node(op, inputs, outputs, domain="ai.onnx.ml", **attrs)


def labels_attr(classes):
    """classlabels_ints, or classlabels_strings for text classes."""
    if all(isinstance(c, str) for c in classes):
        return {"classlabels_strings": list(classes)}
    return {"classlabels_ints": [int(c) for c in classes]}


def linear_classifier(lr, inp, label, proba):
    """LinearClassifier as skl2onnx writes it for a LogisticRegression: two classes as
    [-w, w], [-b, b] with LOGISTIC; more, multinomial, as SOFTMAX with multi_class=1 and
    then an L1 Normalizer."""
    coef, icpt = lr.coef_.flatten().tolist(), lr.intercept_.tolist()
    classes = lr.classes_.tolist()
    if len(classes) == 2:
        coef = [-c for c in coef] + coef
        icpt = [-b for b in icpt] + icpt
        return [ml("LinearClassifier", [inp], [label, proba], coefficients=coef, intercepts=icpt, multi_class=0,
                   post_transform="LOGISTIC", **labels_attr(classes))]
    return [ml("LinearClassifier", [inp], [label, "probability_tensor"], coefficients=coef, intercepts=icpt,
               multi_class=1, post_transform="SOFTMAX", **labels_attr(classes)),
            ml("Normalizer", ["probability_tensor"], [proba], norm="L1")]


def float_threshold(t):
    """The largest float32 not above the double threshold t: (float)x <= t exactly when
    (float)x <= it."""
    f = np.float32(t)
    if np.float64(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def trees(estimators, classifier, n_classes, weight, base=None, post="NONE"):
    """A TreeEnsemble's attributes for fitted trees (skl2onnx's add_tree_to_attribute_pairs):
    every node with its threshold as a float, each leaf's values (normalised counts for a
    forest's classifier, times the tree's weight; for two classes, only the second's)."""
    a = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
                         "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
                         "nodes_hitrates"]}
    p = "class" if classifier else "target"
    for k in ("treeids", "nodeids", "ids", "weights"):
        a["%s_%s" % (p, k)] = []
    for tid, est in enumerate(estimators):
        t = est.tree_
        for i in range(t.node_count):
            leaf = t.children_left[i] == -1
            a["nodes_treeids"].append(tid)
            a["nodes_nodeids"].append(i)
            a["nodes_featureids"].append(0 if leaf else int(t.feature[i]))
            a["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            a["nodes_values"].append(0.0 if leaf else float_threshold(t.threshold[i]))
            a["nodes_truenodeids"].append(0 if leaf else int(t.children_left[i]))
            a["nodes_falsenodeids"].append(0 if leaf else int(t.children_right[i]))
            a["nodes_missing_value_tracks_true"].append(0)
            a["nodes_hitrates"].append(1.0)
            if not leaf:
                continue
            w = t.value[i].flatten()
            if classifier and n_classes is not None:  # a forest: counts to proportions
                w = w / w.sum()
            w = [float(v * weight) for v in w]
            if classifier and len(w) == 2:
                w = [w[1]]
            for j, v in enumerate(w):
                a["%s_treeids" % p].append(tid)
                a["%s_nodeids" % p].append(i)
                a["%s_ids" % p].append(j)
                a["%s_weights" % p].append(v)
    a["post_transform"] = post
    if base is not None:
        a["base_values"] = base
    return a


def record(name, est, rows_used, kind):
    x = np.array(rows_used, dtype=np.float32).astype(np.float64)
    entry = {"rows": "rows_nan" if np.isnan(x).any() else "rows"}
    if kind == "classifier":
        entry["label"] = [v if isinstance(v, str) else int(v) for v in est.predict(x).tolist()]
        entry["probability"] = (est.predict_proba(x) if hasattr(est, "predict_proba") else est.decision_function(x)).tolist()
    else:
        entry["variable"] = est.predict(x).reshape(-1).tolist()
    out["models"][name + ".onnx"] = entry


os.makedirs("onnx/sklearn", exist_ok=True)

# Logistic regression, two classes and three (labels 1, 2, 5).
lr2 = LogisticRegression().fit(X, y2)
save("logreg_binary", linear_classifier(lr2, "float_input", "output_label", "output_probability"), CLASSIFIER_OUT)
record("logreg_binary", lr2, rows, "classifier")
lr3 = LogisticRegression(max_iter=500).fit(X, y3)
save("logreg_multi", linear_classifier(lr3, "float_input", "output_label", "output_probability"), CLASSIFIER_OUT)
record("logreg_multi", lr3, rows, "classifier")

# A pipeline: SimpleImputer (Imputer), StandardScaler (Scaler), LogisticRegression.
pipe = Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler()), ("lr", LogisticRegression(max_iter=500))]).fit(X, y3)
imp, sc = pipe.named_steps["impute"], pipe.named_steps["scale"]
save("pipeline", [ml("Imputer", ["float_input"], ["imputed"], imputed_value_floats=imp.statistics_.tolist(),
                     replaced_value_float=float("nan")),
                  ml("Scaler", ["imputed"], ["scaled"], offset=sc.mean_.tolist(), scale=(1 / sc.scale_).tolist())]
     + linear_classifier(pipe.named_steps["lr"], "scaled", "output_label", "output_probability"), CLASSIFIER_OUT)
record("pipeline", pipe, rows_nan, "classifier")

# skl2onnx's default ending of a classifier: ZipMap, the probabilities as a list of
# {label: probability}.
def zipmap_type():
    """seq(map(int64, float)); onnx 1.12's helper has no make_map_type_proto."""
    m = onnx.TypeProto()
    m.map_type.key_type = TensorProto.INT64
    m.map_type.value_type.CopyFrom(helper.make_tensor_type_proto(TensorProto.FLOAT, []))
    return helper.make_sequence_type_proto(m)


ZIPMAP_OUT = [helper.make_tensor_value_info("output_label", TensorProto.INT64, [None]),
              helper.make_value_info("output_probability", zipmap_type())]

# Forests: three classes, and two (one weight a leaf: the binary case).
rf3 = RandomForestClassifier(n_estimators=6, max_depth=5, random_state=0).fit(X, y3)
save("forest_multi", [ml("TreeEnsembleClassifier", ["float_input"], ["output_label", "output_probability"],
                         classlabels_int64s=[1, 2, 5], **trees(rf3.estimators_, True, 3, 1 / 6))], CLASSIFIER_OUT)
record("forest_multi", rf3, rows, "classifier")
save("forest_multi_zipmap", [ml("TreeEnsembleClassifier", ["float_input"], ["output_label", "probability_tensor"],
                                classlabels_int64s=[1, 2, 5], **trees(rf3.estimators_, True, 3, 1 / 6)),
                             ml("ZipMap", ["probability_tensor"], ["output_probability"], classlabels_int64s=[1, 2, 5])],
     ZIPMAP_OUT)
record("forest_multi_zipmap", rf3, rows, "classifier")
rf2 = RandomForestClassifier(n_estimators=4, max_depth=4, random_state=1).fit(X, y2)
save("forest_binary", [ml("TreeEnsembleClassifier", ["float_input"], ["output_label", "output_probability"],
                          classlabels_int64s=[0, 1], **trees(rf2.estimators_, True, 2, 1 / 4))], CLASSIFIER_OUT)
record("forest_binary", rf2, rows, "classifier")

# Gradient boosting: a binary classifier (one score, LOGISTIC, the prior's log-odds as
# base value) and a regressor (the mean as base value), each tree times the learning rate.
gbc = GradientBoostingClassifier(n_estimators=8, max_depth=3, learning_rate=0.3, random_state=0).fit(X, y2)
prior = float(np.log(y2.mean() / (1 - y2.mean())))
save("gboost_binary", [ml("TreeEnsembleClassifier", ["float_input"], ["output_label", "output_probability"],
                          classlabels_int64s=[0, 1],
                          **trees(gbc.estimators_[:, 0], True, None, 0.3, base=[prior], post="LOGISTIC"))],
     CLASSIFIER_OUT)
record("gboost_binary", gbc, rows, "classifier")
gbr = GradientBoostingRegressor(n_estimators=10, max_depth=3, learning_rate=0.2, random_state=0).fit(X, yr)
save("gboost_regressor", [ml("TreeEnsembleRegressor", ["float_input"], ["variable"], n_targets=1,
                             **trees(gbr.estimators_[:, 0], False, None, 0.2, base=[float(gbr.init_.constant_[0][0])]))],
     REGRESSOR_OUT)
record("gboost_regressor", gbr, rows, "regressor")
rfr = RandomForestRegressor(n_estimators=5, max_depth=6, random_state=0).fit(X, yr)
save("forest_regressor", [ml("TreeEnsembleRegressor", ["float_input"], ["variable"], n_targets=1,
                             **trees(rfr.estimators_, False, None, 1 / 5))], REGRESSOR_OUT)
record("forest_regressor", rfr, rows, "regressor")

# A ColumnTransformer's column selection (ArrayFeatureExtractor), StandardScaler,
# LinearRegression.
ct = Pipeline([("cols", ColumnTransformer([("s", StandardScaler(), [0, 2])])), ("lin", LinearRegression())]).fit(X, yr)
s = ct.named_steps["cols"].named_transformers_["s"]
lin = ct.named_steps["lin"]
save("columns_linear", [ml("ArrayFeatureExtractor", ["float_input", "cols"], ["picked"]),
                        ml("Scaler", ["picked"], ["scaled"], offset=s.mean_.tolist(), scale=(1 / s.scale_).tolist()),
                        ml("LinearRegressor", ["scaled"], ["variable"], coefficients=lin.coef_.tolist(),
                           intercepts=[float(lin.intercept_)])],
     REGRESSOR_OUT, inits=[helper.make_tensor("cols", TensorProto.INT64, [2], [0, 2])])
record("columns_linear", ct, rows, "regressor")

# Text labels: a binary logistic regression, and a forest ending in a ZipMap keyed by them.
TEXT_OUT = [helper.make_tensor_value_info("output_label", TensorProto.STRING, [None]),
            helper.make_tensor_value_info("output_probability", TensorProto.FLOAT, [None, None])]
names = np.array(["setosa", "versicolor", "virginica"])
lrt = LogisticRegression().fit(X, names[y2 * 2])
save("logreg_text", linear_classifier(lrt, "float_input", "output_label", "output_probability"), TEXT_OUT)
record("logreg_text", lrt, rows, "classifier")
rft = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=2).fit(X, names[np.searchsorted([1, 2, 5], y3)])
zip_text = onnx.TypeProto()
zip_text.map_type.key_type = TensorProto.STRING
zip_text.map_type.value_type.CopyFrom(helper.make_tensor_type_proto(TensorProto.FLOAT, []))
save("forest_text_zipmap", [ml("TreeEnsembleClassifier", ["float_input"], ["output_label", "probability_tensor"],
                               classlabels_strings=names.tolist(), **trees(rft.estimators_, True, 3, 1 / 3)),
                            ml("ZipMap", ["probability_tensor"], ["output_probability"], classlabels_strings=names.tolist())],
     [TEXT_OUT[0], helper.make_value_info("output_probability", helper.make_sequence_type_proto(zip_text))])
record("forest_text_zipmap", rft, rows, "classifier")

# Support vector machines (skl2onnx's support_vector_machines.py): SVMClassifier with the
# dual coefficients and intercepts (negated for two classes, libsvm's sign), libsvm's
# probability pairs, or the one-against-one scores alone; SVMRegressor.
from sklearn.svm import SVC, SVR


def svm_attrs(m):
    a = {"kernel_type": m.kernel.upper(), "kernel_params": [float(m._gamma), float(m.coef0), float(m.degree)],
         "support_vectors": m.support_vectors_.ravel().tolist()}
    if isinstance(m, SVC):
        two = len(m.classes_) == 2
        a["coefficients"] = ((-1 if two else 1) * m.dual_coef_.ravel()).tolist()
        a["rho"] = ((-1 if two else 1) * m.intercept_).tolist()
        a["vectors_per_class"] = m.n_support_.tolist()
        a["post_transform"] = "NONE"
        a.update(labels_attr(m.classes_.tolist()))
        if m.probability:
            a["prob_a"], a["prob_b"] = m.probA_.tolist(), m.probB_.tolist()
    else:
        a.update(coefficients=m.dual_coef_.ravel().tolist(), rho=m.intercept_.tolist(), n_supports=len(m.support_),
                 post_transform="NONE")
    return a


svc2 = SVC(probability=True, random_state=0).fit(X, y2)
save("svc_binary_proba", [ml("SVMClassifier", ["float_input"], ["output_label", "output_probability"], **svm_attrs(svc2))],
     CLASSIFIER_OUT)
record("svc_binary_proba", svc2, rows, "classifier")
svc3 = SVC(kernel="poly", degree=2, probability=True, random_state=0).fit(X, y3)
save("svc_multi_proba", [ml("SVMClassifier", ["float_input"], ["output_label", "output_probability"], **svm_attrs(svc3))],
     CLASSIFIER_OUT)
record("svc_multi_proba", svc3, rows, "classifier")
# Without probabilities the scores are the one-against-one decisions (decision_function_shape='ovo').
svco = SVC(kernel="linear", decision_function_shape="ovo").fit(X, y3)
save("svc_multi_ovo", [ml("SVMClassifier", ["float_input"], ["output_label", "output_probability"], **svm_attrs(svco))],
     CLASSIFIER_OUT)
record("svc_multi_ovo", svco, rows, "classifier")  # its "probability": the decisions
svr = SVR(C=3.0).fit(X, yr)
save("svr", [ml("SVMRegressor", ["float_input"], ["variable"], **svm_attrs(svr))], REGRESSOR_OUT)
record("svr", svr, rows, "regressor")

# A OneHotEncoder of two integer-valued columns (skl2onnx's one_hot_encoder.py: each column
# gathered, cast to int64, encoded, the codes joined and reshaped; unknown values ignored),
# beside two scaled columns, joined by a FeatureVectorizer, into a LinearRegression.
from sklearn.preprocessing import OneHotEncoder
Xc = X.copy()
Xc[:, 0] = rng.randint(0, 4, len(X))
Xc[:, 1] = rng.choice([5, 7, 9], len(X))
ohe_pipe = Pipeline([("ct", ColumnTransformer([("oh", OneHotEncoder(handle_unknown="ignore"), [0, 1]),
                                               ("sc", StandardScaler(), [2, 3])])),
                     ("lin", LinearRegression())]).fit(Xc, yr + Xc[:, 0])
oh = ohe_pipe.named_steps["ct"].named_transformers_["oh"]
sc2 = ohe_pipe.named_steps["ct"].named_transformers_["sc"]
lin2 = ohe_pipe.named_steps["lin"]
nodes = [ml("ArrayFeatureExtractor", ["float_input", "cat_cols"], ["cats"])]
codes = []
for i, cats in enumerate(oh.categories_):
    nodes += [helper.make_node("Gather", ["cats", "col%d" % i], ["cat%d" % i], axis=1),
              helper.make_node("Cast", ["cat%d" % i], ["icat%d" % i], to=TensorProto.INT64),
              ml("OneHotEncoder", ["icat%d" % i], ["code%d" % i], cats_int64s=[int(c) for c in cats], zeros=1)]
    codes.append("code%d" % i)
width = sum(len(c) for c in oh.categories_)
nodes += [helper.make_node("Concat", codes, ["codes3"], axis=-1),
          helper.make_node("Reshape", ["codes3", "shape"], ["codes"]),
          ml("ArrayFeatureExtractor", ["float_input", "num_cols"], ["nums"]),
          ml("Scaler", ["nums"], ["scaled"], offset=sc2.mean_.tolist(), scale=(1 / sc2.scale_).tolist()),
          ml("FeatureVectorizer", ["codes", "scaled"], ["features"], inputdimensions=[width, 2]),
          ml("LinearRegressor", ["features"], ["variable"], coefficients=lin2.coef_.tolist(), intercepts=[float(lin2.intercept_)])]
inits = [helper.make_tensor("cat_cols", TensorProto.INT64, [2], [0, 1]), helper.make_tensor("num_cols", TensorProto.INT64, [2], [2, 3]),
         helper.make_tensor("col0", TensorProto.INT64, [1], [0]), helper.make_tensor("col1", TensorProto.INT64, [1], [1]),
         helper.make_tensor("shape", TensorProto.INT64, [2], [-1, width])]
save("onehot_linear", nodes, REGRESSOR_OUT, inits=inits)
rows_cat = rows.copy()
rows_cat[:, 0] = [0, 1, 2, 3, 8, 1, 0, 2, 3]  # 8: a category it never saw
rows_cat[:, 1] = [5, 7, 9, 5, 7, 6, 9, 9, 5]  # 6 too
out["rows_cat"] = rows_cat.astype(np.float64).tolist()
record("onehot_linear", ohe_pipe, rows_cat, "regressor")
out["models"]["onehot_linear.onnx"]["rows"] = "rows_cat"

with open("onnx/sklearn/predictions.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote", len(out["models"]), "models")
