#!/usr/bin/python3
"""Makes boosters saved by XGBoost's scikit-learn wrappers (XGBClassifier,
XGBRegressor, XGBRanker, XGBRFClassifier, XGBRFRegressor), with the real
library (Debian's python3-xgboost), and writes what MLflow's xgboost pyfunc
predicts with each to xgboost/sklearn/predictions.json: MLflow loads a
model logged as a wrapper with model_class().load_model(file) and calls its
predict(frame), which uses the rounds up to best_iteration, the wrapper's
missing value, and gives a classifier's class labels.

Run from this folder:  /usr/bin/python3 make_sklearn_predictions.py
The outputs are small and committed; rerun only to change them.
"""
import json
import os

import numpy as np
import pandas as pd
import xgboost

rng = np.random.RandomState(7)
cols = ["a", "b", "c", "d"]
X = rng.rand(300, 4)
X[rng.rand(300, 4) < 0.05] = np.nan
y = np.nan_to_num(X) @ np.array([2.0, -1.5, 0.8, 1.1])
Xv = rng.rand(80, 4)
yv = Xv @ np.array([2.0, -1.5, 0.8, 1.1])
T = rng.rand(30, 4)
T[rng.rand(30, 4) < 0.15] = np.nan
T[rng.rand(30, 4) < 0.15] = -1.0  # the regressor's missing value below
T[0] = np.nan
frame = pd.DataFrame(T, columns=cols)


def binary(v):
    return (v > np.median(y)).astype(int)


def three(v):
    return np.digitize(v, np.quantile(y, [0.33, 0.66]))


# name: (class, constructor arguments, labels of X, labels of Xv or None
# for no early stopping, fit extras)
cases = {
    "classifier_es.json": (xgboost.XGBClassifier, dict(n_estimators=40, max_depth=3, early_stopping_rounds=3, learning_rate=0.5), binary, True),
    "classifier_es.xgb": (xgboost.XGBClassifier, dict(n_estimators=40, max_depth=3, early_stopping_rounds=3, learning_rate=0.5), binary, True),
    "classifier_es.ubj": (xgboost.XGBClassifier, dict(n_estimators=40, max_depth=3, early_stopping_rounds=3, learning_rate=0.5), binary, True),
    "multiclass_es.json": (xgboost.XGBClassifier, dict(n_estimators=40, max_depth=3, early_stopping_rounds=3, learning_rate=0.6), three, True),
    "multiclass_es.xgb": (xgboost.XGBClassifier, dict(n_estimators=40, max_depth=3, early_stopping_rounds=3, learning_rate=0.6), three, True),
    "softmax.json": (xgboost.XGBClassifier, dict(n_estimators=8, max_depth=3, objective="multi:softmax"), three, False),
    "regressor_missing_es.ubj": (xgboost.XGBRegressor, dict(n_estimators=60, max_depth=4, missing=-1.0, early_stopping_rounds=3, learning_rate=0.5), None, True),
    "regressor_dart.json": (xgboost.XGBRegressor, dict(n_estimators=10, max_depth=3, booster="dart", rate_drop=0.2, random_state=1), None, False),
    "rf_classifier.json": (xgboost.XGBRFClassifier, dict(n_estimators=4, max_depth=3, random_state=1), binary, False),
    "rf_multiclass.xgb": (xgboost.XGBRFClassifier, dict(n_estimators=3, max_depth=3, random_state=1), three, False),
    "rf_regressor.ubj": (xgboost.XGBRFRegressor, dict(n_estimators=5, max_depth=3, random_state=1), None, False),
    "ranker.json": (xgboost.XGBRanker, dict(n_estimators=6, max_depth=3), binary, False),
}
os.makedirs("xgboost/sklearn", exist_ok=True)
out = {"xgboost_version": xgboost.__version__, "columns": cols,
       "rows": [[None if np.isnan(v) else float(v) for v in r] for r in T], "models": {}}


def record(name, cls, saved_from):
    # What MLflow does with model_class: cls().load_model(path).predict(frame).
    m = cls()
    m.load_model("xgboost/sklearn/" + name)
    p = m.predict(frame)
    booster = m.get_booster()
    out["models"][name] = {
        "model_class": cls.__module__ + "." + cls.__name__,
        "saved_from": saved_from,
        "best_iteration": booster.attr("best_iteration"),
        "rounds": booster.num_boosted_rounds(),
        "predictions": p.tolist(),
    }


for name, (cls, args, labels, stop) in cases.items():
    target = labels(y) if labels else y
    fit = {}
    if stop:
        fit["eval_set"] = [(pd.DataFrame(Xv, columns=cols), labels(yv) if labels else yv)]
        fit["verbose"] = False
    if cls is xgboost.XGBRanker:
        fit["group"] = [100, 100, 100]
    model = cls(**args)
    model.fit(pd.DataFrame(X, columns=cols), target, **fit)
    model.save_model("xgboost/sklearn/" + name)
    record(name, cls, cls.__name__)

# A label encoder, as XGBoost before 1.6 saved one in the wrapper's
# attribute: the classifier's labels are its classes.
with open("xgboost/sklearn/classifier_es.json") as f:
    doc = json.load(f)
meta = json.loads(doc["learner"]["attributes"]["scikit_learn"])
meta["_le"] = {"classes_": ["low", "high"]}
doc["learner"]["attributes"]["scikit_learn"] = json.dumps(meta)
with open("xgboost/sklearn/label_encoder.json", "w") as f:
    json.dump(doc, f)
record("label_encoder.json", xgboost.XGBClassifier, "XGBClassifier")

# A booster saved by a classifier, logged (as MLflow's model_class says)
# as the regressor it is not: XGBoost refuses to load it.
try:
    xgboost.XGBRegressor().load_model("xgboost/sklearn/classifier_es.json")
except TypeError as e:
    out["refused"] = {"file": "classifier_es.json", "model_class": "xgboost.sklearn.XGBRegressor", "error": str(e)}

with open("xgboost/sklearn/predictions.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote", len(out["models"]), "boosters")
