"""Trains an ElasticNet-style linear model on the wine data it ships, by
gradient descent, with nothing but the standard library. Logs the
hyperparameters, the RMSE of every epoch and the fitted coefficients."""
import argparse
import csv
import json
import math
import os
import random
import tempfile

import mlflow_rest as mlflow


def load(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    header, data = rows[0], [[float(x) for x in r] for r in rows[1:]]
    return header[:-1], [r[:-1] for r in data], [r[-1] for r in data]


def standardize(X):
    cols = list(zip(*X))
    means = [sum(c) / len(c) for c in cols]
    stds = [math.sqrt(sum((x - m) ** 2 for x in c) / len(c)) or 1.0 for c, m in zip(cols, means)]
    return [[(x - m) / s for x, m, s in zip(row, means, stds)] for row in X]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alpha", type=float, required=True)
    ap.add_argument("--l1-ratio", type=float, required=True)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--data", required=True)
    args = ap.parse_args()

    names, X, y = load(args.data)
    X = standardize(X)
    random.seed(0)
    order = list(range(len(X)))
    random.shuffle(order)
    split = int(0.8 * len(order))
    train, test = order[:split], order[split:]
    w = [0.0] * len(names)
    b = sum(y[i] for i in train) / len(train)
    lr = 0.05
    if mlflow.enabled():
        mlflow.log_params({"rows": len(X), "features": len(names), "learning_rate": lr})
        mlflow.set_tag("model", "elasticnet-gd")

    def rmse(idx):
        return math.sqrt(sum((y[i] - b - sum(wj * xj for wj, xj in zip(w, X[i]))) ** 2 for i in idx) / len(idx))

    for epoch in range(args.epochs):
        grad = [0.0] * len(w)
        gb = 0.0
        for i in train:
            err = b + sum(wj * xj for wj, xj in zip(w, X[i])) - y[i]
            gb += err
            for j, xj in enumerate(X[i]):
                grad[j] += err * xj
        n = len(train)
        for j in range(len(w)):
            penalty = args.alpha * (args.l1_ratio * (1 if w[j] > 0 else -1 if w[j] < 0 else 0) + (1 - args.l1_ratio) * w[j])
            w[j] -= lr * (grad[j] / n + penalty)
        b -= lr * gb / n
        score = rmse(test)
        if mlflow.enabled():
            mlflow.log_metric("rmse", score, epoch)
        print(f"epoch {epoch:3d} rmse {score:.4f}")

    model = {"intercept": b, "coefficients": dict(zip(names, w))}
    # Written in a temporary folder: the project folder (perhaps a git
    # checkout the user is working in) is left as it was.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.json")
        with open(path, "w") as f:
            json.dump(model, f, indent=2)
        if mlflow.enabled():
            mlflow.log_artifact(path)
    print(json.dumps(model))


if __name__ == "__main__":
    main()
