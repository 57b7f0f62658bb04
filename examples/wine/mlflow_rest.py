"""A tiny MLflow REST client using only the standard library.

It logs into the run that `mlrun run` (or `mlflow run`) started, found
through MLFLOW_TRACKING_URI and MLFLOW_RUN_ID, so this example needs no
packages beyond Python itself.
"""
import json
import os
import shutil
import time
import urllib.parse
import urllib.request

TRACKING_URI = os.environ.get("MLFLOW_TRACKING_URI", "")
RUN_ID = os.environ.get("MLFLOW_RUN_ID", "")


def _auth_headers():
    """MLflow's client credentials: a token (what mlrun hands a step for
    its run's loopback server) as Bearer, else username/password as Basic."""
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return {"Authorization": "Bearer " + token}
    user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if user and password is not None:
        import base64

        return {"Authorization": "Basic " + base64.b64encode((user + ":" + password).encode()).decode()}
    return {}


def _call(method, endpoint, body=None):
    url = TRACKING_URI.rstrip("/") + "/api/2.0/mlflow/" + endpoint
    data = None
    headers = _auth_headers()
    if method == "GET" and body:
        url += "?" + urllib.parse.urlencode(body)
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read() or b"{}")


def enabled():
    return TRACKING_URI.startswith("http") and RUN_ID != ""


def log_params(params):
    _call("POST", "runs/log-batch", {"run_id": RUN_ID, "params": [{"key": k, "value": str(v)} for k, v in params.items()]})


def log_metric(key, value, step):
    _call("POST", "runs/log-metric", {"run_id": RUN_ID, "key": key, "value": value,
                                      "timestamp": int(time.time() * 1000), "step": step})


def set_tag(key, value):
    _call("POST", "runs/set-tag", {"run_id": RUN_ID, "key": key, "value": value})


def log_artifact(local_path, artifact_path=""):
    """Uploads a file into the run's artifacts, wherever they live."""
    uri = _call("GET", "runs/get", {"run_id": RUN_ID})["run"]["info"]["artifact_uri"]
    name = os.path.basename(local_path)
    rel = "/".join(p for p in (artifact_path, name) if p)
    if uri.startswith("mlflow-artifacts:"):
        path = urllib.parse.urlparse(uri).path.lstrip("/")
        url = TRACKING_URI.rstrip("/") + "/api/2.0/mlflow-artifacts/artifacts/" + urllib.parse.quote(path + "/" + rel)
        with open(local_path, "rb") as f:
            req = urllib.request.Request(url, data=f.read(), method="PUT", headers=_auth_headers())
            urllib.request.urlopen(req).read()
        return
    dest = os.path.join(urllib.parse.urlparse(uri).path if uri.startswith("file:") else uri, rel)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copyfile(local_path, dest)
