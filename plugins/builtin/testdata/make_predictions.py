#!/usr/bin/python3
"""Makes the XGBoost boosters the Go predictor is tested on, with the real
library (Debian's python3-xgboost), and writes the library's own
predictions for a fixed set of rows (some values missing) to
xgboost/predictions.json.

Run from this folder:  /usr/bin/python3 make_predictions.py
The outputs are small and committed; rerun only to change them.
"""
import json

import numpy as np
import xgboost

rng = np.random.RandomState(1)
X = rng.rand(200, 5).astype(np.float32)
X[rng.rand(200, 5) < 0.05] = np.nan
w = np.array([1.5, -2.0, 0.7, 3.0, -0.4])
y = np.nan_to_num(X) @ w
T = rng.rand(25, 5).astype(np.float32)
T[rng.rand(25, 5) < 0.15] = np.nan
T[0] = np.nan  # a row with every feature missing

boosters = {
    "reg.json": ({"objective": "reg:squarederror", "max_depth": 4}, y, 8),
    "reg_logistic.json": ({"objective": "reg:logistic", "max_depth": 3}, (y - y.min()) / (y.max() - y.min()), 6),
    "logistic.ubj": ({"objective": "binary:logistic", "max_depth": 3, "base_score": 0.3}, (y > y.mean()).astype(int), 10),
    "dart.json": ({"objective": "binary:logistic", "booster": "dart", "rate_drop": 0.3, "max_depth": 3, "seed": 3},
                  (y > y.mean()).astype(int), 10),
    "softprob.json": ({"objective": "multi:softprob", "num_class": 4, "max_depth": 3}, np.digitize(y, np.quantile(y, [0.25, 0.5, 0.75])), 5),
    "softmax.ubj": ({"objective": "multi:softmax", "num_class": 3, "max_depth": 3}, np.digitize(y, np.quantile(y, [0.33, 0.66])), 5),
    "poisson.json": ({"objective": "count:poisson", "max_depth": 3}, np.round(np.abs(y)), 8),
    "pairwise.json": ({"objective": "rank:pairwise", "max_depth": 3}, np.digitize(y, np.quantile(y, [0.5, 0.8])), 5),
    # binary:logitraw adds base_score to the margin as it is (no logit).
    "logitraw.json": ({"objective": "binary:logitraw", "max_depth": 3}, (y > y.mean()).astype(int), 6),
    "gamma.ubj": ({"objective": "reg:gamma", "max_depth": 3}, np.abs(y) + 0.1, 6),
    "tweedie.json": ({"objective": "reg:tweedie", "max_depth": 3}, np.abs(y), 6),
}
# The same boosters in XGBoost's legacy binary format (what MLflow 2.17.2
# logs by default: model_format xgb).
legacy = {"reg.xgb": "reg.json", "softprob.xgb": "softprob.json", "dart.xgb": "dart.json", "poisson.xgb": "poisson.json"}
out = {"xgboost_version": xgboost.__version__,
       "rows": [[None if np.isnan(v) else float(v) for v in r] for r in T], "models": {}}
for name, (params, label, rounds) in boosters.items():
    d = xgboost.DMatrix(X, label=label)
    if params["objective"].startswith("rank:"):
        d.set_group([50, 50, 50, 50])
    b = xgboost.train(params, d, num_boost_round=rounds)
    b.save_model("xgboost/" + name)
    p = b.predict(xgboost.DMatrix(T))
    out["models"][name] = {"objective": params["objective"], "predictions": p.astype(np.float64).tolist()}
    for lname, src in legacy.items():
        if src == name:
            b.save_model("xgboost/" + lname)
            out["models"][lname] = {"objective": params["objective"], "predictions": p.astype(np.float64).tolist()}
# MLflow 2.17.2's own logged booster (4 features): the rows' first four columns.
mlflow_xgb = "../../../../shared/testdata/mlflow-2.17.2/models/xgboost/model.xgb"
b = xgboost.Booster(model_file=mlflow_xgb)
out["mlflow_2_17_2_model_xgb"] = {"objective": "reg:squarederror",
                                  "predictions": b.predict(xgboost.DMatrix(T[:, :4])).astype(np.float64).tolist()}
with open("xgboost/predictions.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote", len(boosters), "boosters")
