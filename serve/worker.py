# mlrun's Python scoring worker: loads one MLflow model and answers
# prediction requests, one JSON line in, one line out, over stdin/stdout.
# Started by mlrun (serve/python.go) in the model's Python environment:
#   python3 -u worker.py MODEL_DIR FLAVOR FILE PREDICT_FN SERIALIZATION
# (for xgboost, PREDICT_FN is the flavor's model_class)
# It uses mlflow.pyfunc when the environment has MLflow; otherwise it loads
# the sklearn pickle or the xgboost booster itself. Loading a pickle
# executes it, as MLflow does.
# Protocol: first line "READY <loader>" or "ERR <json>"; then for each
# request {"columns": [..]|null, "rows": [[..]], "tensor": bool, "params": {}}
# a line "OK <predictions as json.dumps writes them>" or "ERR <json>".
import json
import os
import sys
import traceback

proto = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)  # whatever the model prints goes to stderr, not the protocol
sys.stdout = sys.stderr

model_dir, flavor, file, predict_fn, serialization = sys.argv[1:6]


def load():
    try:
        import mlflow.pyfunc  # noqa: F401
    except ImportError:
        pass
    else:
        m = mlflow.pyfunc.load_model(model_dir)
        return "mlflow.pyfunc", lambda data, params: m.predict(data, params=params) if params else m.predict(data)
    path = os.path.join(model_dir, file)
    if flavor == "sklearn":
        import pickle
        loader = pickle
        if serialization == "cloudpickle":
            try:
                import cloudpickle as loader
            except ImportError:
                pass
        with open(path, "rb") as f:
            model = loader.load(f)
        fn = getattr(model, predict_fn or "predict")
        return "sklearn", lambda data, params: fn(data)
    if flavor == "xgboost":
        import xgboost
        # PREDICT_FN carries the flavor's model_class: as MLflow, load the
        # booster into that class (XGBoost's own classes only) and call
        # its predict.
        cls = predict_fn or "xgboost.core.Booster"
        if cls == "xgboost.core.Booster":
            booster = xgboost.Booster(model_file=path)
            # params (mlrun checked them against the params schema) go to
            # Booster.predict when it takes them, as mlflow.xgboost's
            # pyfunc passes them
            return "xgboost", lambda data, params: booster.predict(
                xgboost.DMatrix(data), validate_features=True, **accepted(booster.predict, params))
        module, _, name = cls.rpartition(".")
        if module.split(".")[0] != "xgboost":
            raise RuntimeError("model_class %r is not one of XGBoost's" % cls)
        import importlib
        model = getattr(importlib.import_module(module), name)()
        model.load_model(path)
        return "xgboost", lambda data, params: model.predict(
            data, validate_features=True, **accepted(model.predict, params))
    raise RuntimeError("no Python loader for flavor %r without MLflow installed" % flavor)


def accepted(fn, params):
    """The params fn takes by name (all of them if it takes **kwargs)."""
    import inspect
    allowed = inspect.signature(fn).parameters
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in allowed.values()):
        return dict(params or {})
    return {k: v for k, v in (params or {}).items() if k in allowed}


def frame(msg):
    cols, rows = msg.get("columns"), msg["rows"]
    import numpy as np
    if msg.get("tensor"):
        return np.array(rows, dtype=msg.get("dtype") or None)
    if msg.get("vector"):  # an `inputs` list: MLflow's np.array of it
        return np.array([r[0] for r in rows])
    try:
        import pandas as pd
    except ImportError:
        return np.array(rows)
    return pd.DataFrame(rows, columns=cols)


def jsonable(p):
    import numpy as np
    if hasattr(p, "to_dict") and hasattr(p, "columns"):
        return p.to_dict(orient="records")
    if hasattr(p, "to_frame"):
        return p.to_frame().to_dict(orient="records")
    if isinstance(p, np.ndarray):
        return p.tolist()
    if isinstance(p, np.generic):
        return p.item()
    if isinstance(p, dict):
        return {k: jsonable(v) for k, v in p.items()}
    if isinstance(p, (list, tuple)):
        return [jsonable(v) for v in p]
    return p


def error(e):
    return json.dumps({"message": "%s: %s" % (type(e).__name__, e), "stack_trace": traceback.format_exc()})


try:
    loader, predict = load()
except BaseException as e:  # noqa: BLE001 - reported to mlrun, which exits
    proto.write("ERR " + error(e) + "\n")
    sys.exit(1)
proto.write("READY " + loader + "\n")
for line in sys.stdin:
    try:
        msg = json.loads(line)
        out = json.dumps(jsonable(predict(frame(msg), msg.get("params") or None)))
        proto.write("OK " + out + "\n")
    except Exception as e:  # noqa: BLE001 - the request's error, the worker lives on
        proto.write("ERR " + error(e) + "\n")
