"""Optuna's TPE and random samplers on the benchmark functions of
tune/optuna_bench_test.go: the best value after N trials for each seed,
as JSON on stdout. Needs Debian's python3-optuna."""
import json
import math
import sys

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
TRIALS, SEEDS = int(sys.argv[1]), int(sys.argv[2])

A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
ALPHA = [1.0, 1.2, 3.0, 3.2]


def branin(t):
    x, y = t.suggest_float("x", -5, 10), t.suggest_float("y", 0, 15)
    b, c = 5.1 / (4 * math.pi ** 2), 5 / math.pi
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10


def hartmann6(t):
    x = [t.suggest_float(f"x{i}", 0, 1) for i in range(6)]
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2 for j in range(6))) for i in range(4))


def rosenbrock4(t):
    x = [t.suggest_float(f"x{i}", -2, 2) for i in range(4)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


out = {}
for name, f in [("branin", branin), ("hartmann6", hartmann6), ("rosenbrock4", rosenbrock4)]:
    out[name] = {}
    for sampler_name, make in [("optuna-tpe", optuna.samplers.TPESampler), ("optuna-random", optuna.samplers.RandomSampler)]:
        bests = []
        for seed in range(1, SEEDS + 1):
            study = optuna.create_study(sampler=make(seed=seed))
            study.optimize(f, n_trials=TRIALS)
            bests.append(study.best_value)
        out[name][sampler_name] = bests
json.dump(out, sys.stdout)
