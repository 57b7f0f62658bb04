"""An objective with a known optimum, for `mlrun tune` (standard library only).

--type quad: (x - 1)^2 + (y + 2)^2, minimum 0 at x=1, y=-2.
--type abs:  |z - 3| + 0.5, minimum 0.5 at z=3.
A point whose loss is over 40 "diverges": the trial fails, as real ones do.
The loss and the time it took are logged with `mlrun log metric`, which
mlrun puts on every step's PATH (MLflow's own client would do as well).
"""
import argparse
import json
import os
import subprocess
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--type", default="quad")
parser.add_argument("--x", type=float, default=0.0)
parser.add_argument("--y", type=float, default=0.0)
parser.add_argument("--z", type=float, default=0.0)
args = parser.parse_args()

start = time.time()
if args.type == "quad":
    loss = (args.x - 1) ** 2 + (args.y + 2) ** 2
else:
    loss = abs(args.z - 3) + 0.5
print(f"type={args.type} x={args.x} y={args.y} z={args.z} loss={loss}")
if loss > 40:
    sys.exit(f"diverged: loss {loss}")
subprocess.run(["mlrun", "log", "metric", "loss", repr(loss)], check=True)
subprocess.run(["mlrun", "log", "metric", "training_time", repr(time.time() - start)], check=True)
# The "model" a trial trains, for --register-model: its parameters.
os.makedirs("model", exist_ok=True)
with open(os.path.join("model", "params.json"), "w") as f:
    json.dump(vars(args), f)
subprocess.run(["mlrun", "log", "artifact", "model"], check=True)
