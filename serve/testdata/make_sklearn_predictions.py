#!/usr/bin/python3
"""Writes sklearn_predictions.json: the predictions scikit-learn itself
makes with the ElasticNet MLflow 2.17.2 logged
(shared/testdata/mlflow-2.17.2/models/sklearn/model.pkl) for fixed rows.

Run from this folder:  /usr/bin/python3 make_sklearn_predictions.py
"""
import json
import pickle

import numpy as np
import sklearn

with open("../../../shared/testdata/mlflow-2.17.2/models/sklearn/model.pkl", "rb") as f:
    model = pickle.load(f)
rows = np.random.RandomState(7).rand(6, 4).round(6)
with open("sklearn_predictions.json", "w") as f:
    json.dump({"sklearn_version": sklearn.__version__, "rows": rows.tolist(),
               "predictions": model.predict(rows).tolist()}, f, indent=1)
