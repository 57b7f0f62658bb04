#!/usr/bin/python3
"""Makes the model fixtures of the built-in flavors with the real libraries
(Debian's python3-sklearn, python3-xgboost, python3-onnx) and writes what
each library itself reports about each file to facts.json, which the Go
tests compare with what the flavors read.

Run from this folder:  /usr/bin/python3 make_fixtures.py
The outputs are small and committed; rerun only to change them.
"""
import json
import os
import pickle

import joblib
import numpy as np
import onnx
import sklearn
import xgboost
from onnx import TensorProto, helper
from sklearn.linear_model import ElasticNet, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

rng = np.random.RandomState(0)
X = rng.rand(40, 4)
y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1
yc = (y > y.mean()).astype(int)
facts = {}


def record(name, **kw):
    facts[name] = kw


# sklearn: every pickle protocol, a Pipeline, joblib, and bad inputs.
enet = ElasticNet(alpha=0.1).fit(X, y)
for proto in (0, 2, 4, 5):
    name = f"sklearn/elasticnet_p{proto}.pkl"
    with open(name, "wb") as f:
        pickle.dump(enet, f, protocol=proto)
    record(name, estimator=f"{type(enet).__module__}.{type(enet).__qualname__}", sklearn_version=sklearn.__version__,
           n_features_in=int(enet.n_features_in_), protocol=proto)

pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, yc)
with open("sklearn/pipeline_p4.pkl", "wb") as f:
    pickle.dump(pipe, f, protocol=4)
record("sklearn/pipeline_p4.pkl", estimator="sklearn.pipeline.Pipeline", sklearn_version=sklearn.__version__,
       n_features_in=int(pipe.n_features_in_),
       steps=[f"{n}={type(s).__module__}.{type(s).__qualname__}" for n, s in pipe.steps])

tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, yc)
joblib.dump(tree, "sklearn/tree.joblib", compress=0)
record("sklearn/tree.joblib", estimator=f"{type(tree).__module__}.{type(tree).__qualname__}",
       sklearn_version=sklearn.__version__, n_features_in=int(tree.n_features_in_), joblib=True)


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/mlrun-pickle-pwned",))


with open("sklearn/evil_system.pkl", "wb") as f:
    pickle.dump(Evil(), f, protocol=2)
with open("sklearn/evil_in_estimator.pkl", "wb") as f:
    e2 = ElasticNet()
    e2.note = Evil()
    pickle.dump(e2, f, protocol=4)
with open("sklearn/not_sklearn.pkl", "wb") as f:
    pickle.dump({"weights": [1, 2, 3]}, f, protocol=4)
with open("sklearn/elasticnet_p4.pkl", "rb") as f:
    data = f.read()
with open("sklearn/truncated.pkl", "wb") as f:
    f.write(data[: len(data) // 2])

# xgboost: one booster in JSON, UBJSON and the legacy binary format.
dtrain = xgboost.DMatrix(X, label=yc)
booster = xgboost.train({"objective": "binary:logistic", "max_depth": 2}, dtrain, num_boost_round=3)
multi = xgboost.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 2},
                      xgboost.DMatrix(X, label=rng.randint(0, 3, 40)), num_boost_round=2)
for name, b, fmt in (("xgboost/binary.json", booster, "json"), ("xgboost/binary.ubj", booster, "ubj"),
                     ("xgboost/binary.xgb", booster, "xgb"), ("xgboost/multi.json", multi, "json")):
    b.save_model(name)
    cfg = json.loads(b.save_config())
    lp = cfg["learner"]["learner_model_param"]
    record(name, xgboost_version=xgboost.__version__, objective=cfg["learner"]["objective"]["name"],
           num_feature=int(lp["num_feature"]), num_class=int(lp["num_class"]), num_trees=len(b.get_dump()),
           format=fmt)
with open("xgboost/binary.json") as f:
    with open("xgboost/truncated.json", "w") as g:
        g.write(f.read()[:200])

# onnx: y = x @ W + b with a symbolic batch dimension.
W = helper.make_tensor("W", TensorProto.FLOAT, [4, 1], [1.0, -2.0, 0.5, 3.0])
B = helper.make_tensor("B", TensorProto.FLOAT, [1], [0.1])
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "B"], ["y"])],
    "linear",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])],
    initializer=[W, B])
model = helper.make_model(graph, producer_name="mlrun-fixtures", producer_version="1.0",
                          opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "onnx/linear.onnx")
record("onnx/linear.onnx", ir_version=model.ir_version, producer_name=model.producer_name,
       producer_version=model.producer_version, onnx_version=onnx.__version__,
       opsets={(o.domain or "ai.onnx"): o.version for o in model.opset_import},
       inputs=[{"name": "x", "dtype": "float32", "shape": [-1, 4]}],
       outputs=[{"name": "y", "dtype": "float32", "shape": [-1, 1]}])
with open("onnx/linear.onnx", "rb") as f:
    data = f.read()
with open("onnx/truncated.onnx", "wb") as f:
    f.write(data[: len(data) - 7])

# sklearn estimators whose pickles rebuild Cython objects through
# scikit-learn's own functions: HistGradientBoosting's loss
# (__pyx_unpickle_CyHalfBinomialLoss), KNeighbors' KD tree and distance
# metric (newObj).
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.neighbors import KNeighborsClassifier
hgb = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, yc)
with open("sklearn/histgb_p5.pkl", "wb") as f:
    pickle.dump(hgb, f, protocol=5)
record("sklearn/histgb_p5.pkl", estimator=f"{type(hgb).__module__}.{type(hgb).__qualname__}",
       sklearn_version=sklearn.__version__, n_features_in=int(hgb.n_features_in_), protocol=5)
knn = KNeighborsClassifier(n_neighbors=3, algorithm="kd_tree").fit(X, yc)
joblib.dump(knn, "sklearn/knn_kdtree.joblib", compress=0)
record("sklearn/knn_kdtree.joblib", estimator=f"{type(knn).__module__}.{type(knn).__qualname__}",
       sklearn_version=sklearn.__version__, n_features_in=int(knn.n_features_in_), joblib=True)

# sklearn models the Go predictor runs, small: seeds of FuzzPickle.
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeRegressor
forest = RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0).fit(X, np.array(["no", "yes"], dtype=object)[yc])
with open("sklearn/forest_p5.pkl", "wb") as f:
    pickle.dump(forest, f, protocol=5)
with open("sklearn/tree_reg_p2.pkl", "wb") as f:
    pickle.dump(DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, y), f, protocol=2)

# A ColumnTransformer of numbers and categories (text, None) before a
# classifier: a seed of FuzzPickle.
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder
frame = pd.DataFrame({"x": X[:, 0], "city": np.array(["NY", "SF", None, "LA"], dtype=object)[np.arange(40) % 4], "y": X[:, 1]})
ct = Pipeline([("ct", ColumnTransformer([("num", Pipeline([("imp", SimpleImputer()), ("sc", StandardScaler())]), ["x"]),
                                         ("oh", OneHotEncoder(handle_unknown="ignore", drop="first"), ["city"]),
                                         ("ord", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["city"])],
                                        remainder="passthrough")),
               ("clf", LogisticRegression())]).fit(frame, yc)
with open("sklearn/column_transformer_p5.pkl", "wb") as f:
    pickle.dump(ct, f, protocol=5)
assert list(ct.predict(pd.DataFrame({"x": [0.5], "city": ["SF"], "y": [0.2]}))) == [1]  # fixture_test.go

# A support vector classifier and a naive Bayes: seeds of FuzzPickle.
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC
with open("sklearn/svc_p4.pkl", "wb") as f:
    pickle.dump(SVC(kernel="poly", degree=2).fit(X, np.array(["lo", "mid", "hi", "mid"])[np.arange(40) % 4]), f, protocol=4)
with open("sklearn/gaussian_nb_p5.pkl", "wb") as f:
    pickle.dump(GaussianNB().fit(X, yc), f, protocol=5)

# A neural network behind PCA and polynomial features: a seed of FuzzPickle.
from sklearn.decomposition import PCA
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import PolynomialFeatures
mlp = Pipeline([("poly", PolynomialFeatures(degree=2)), ("pca", PCA(n_components=3, whiten=True)),
                ("clf", MLPClassifier(hidden_layer_sizes=(4,), max_iter=50, random_state=0))])
with open("sklearn/mlp_pca_p5.pkl", "wb") as f:
    pickle.dump(mlp.fit(X, yc), f, protocol=5)

# An SVC with Platt's probabilities and a histogram boosting with a
# categorical feature: seeds of FuzzPickle.
svcp = SVC(probability=True, random_state=0).fit(X, np.array(["lo", "mid", "hi", "mid"])[np.arange(40) % 4])
with open("sklearn/svc_proba_p5.pkl", "wb") as f:
    pickle.dump(svcp, f, protocol=5)
Xcat = np.c_[np.arange(40) % 5, X[:, 1:]]
hgbc = HistGradientBoostingClassifier(categorical_features=[0], max_iter=3, random_state=0).fit(Xcat, yc)
with open("sklearn/histgb_cat_p5.pkl", "wb") as f:
    pickle.dump(hgbc, f, protocol=5)

# Nearest neighbours on a KD tree (what Go follows): a seed of FuzzPickle.
knnp = KNeighborsClassifier(n_neighbors=3, leaf_size=4).fit(X, yc)
with open("sklearn/knn_p5.pkl", "wb") as f:
    pickle.dump(knnp, f, protocol=5)

# Estimators of the later Go predictors — text vectorizers, splines,
# bagging, isolation forest, calibration, one-vs-rest, a transformed
# target: seeds of FuzzPickle and of the concurrency test.
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import BaggingClassifier, IsolationForest
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.linear_model import Ridge
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import MultinomialNB
from sklearn.preprocessing import QuantileTransformer, SplineTransformer
docs = ["the cat sat", "a dog ran", "ΣΑΣ cats", "stocks fell", "the market rose", "bonds sold"] * 4
ydocs = ["pets", "pets", "pets", "money", "money", "money"] * 4
seeds = {
    "text_tfidf_p5.pkl": Pipeline([("v", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)), ("m", MultinomialNB())]).fit(docs, ydocs),
    "text_hashing_p5.pkl": Pipeline([("v", HashingVectorizer(n_features=32, analyzer="char_wb", ngram_range=(2, 3))), ("m", Ridge())]).fit(docs, np.arange(24.0)),
    "spline_bagging_p5.pkl": Pipeline([("s", SplineTransformer(n_knots=3, degree=2, extrapolation="linear")), ("m", BaggingClassifier(n_estimators=2, max_features=0.5, random_state=0))]).fit(X, yc),
    "iforest_p5.pkl": IsolationForest(n_estimators=3, max_samples=16, random_state=0).fit(X),
    "calibrated_ovr_p5.pkl": CalibratedClassifierCV(OneVsRestClassifier(LogisticRegression()), method="isotonic", cv=2).fit(X, np.arange(40) % 3),
    "ttr_quantile_p5.pkl": Pipeline([("q", QuantileTransformer(n_quantiles=10)), ("m", TransformedTargetRegressor(Ridge(), func=np.log1p, inverse_func=np.expm1))]).fit(X, np.abs(y)),
}
for name, m in seeds.items():
    with open("sklearn/" + name, "wb") as f:
        pickle.dump(m, f, protocol=5)

with open("facts.json", "w") as f:
    json.dump(facts, f, indent=2, sort_keys=True)
print("wrote", len(facts), "fixtures")
