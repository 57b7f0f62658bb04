#!/usr/bin/env bash
# A shell step that logs into its run with `mlrun log`: no library needed.
# mlrun run puts MLFLOW_RUN_ID and MLFLOW_TRACKING_URI in the environment
# and its own folder on PATH.
set -euo pipefail
steps=$1
greeting=$2
mlrun log param shell "$BASH_VERSION"
mlrun log tag greeting "$greeting"
loss=1
for ((i = 0; i < steps; i++)); do
  loss=$(awk -v l="$loss" 'BEGIN { printf "%.6f", l * 0.7 }')
  mlrun log metric --step "$i" loss "$loss"
  echo "step $i loss $loss"
done
# The summary is written outside the project folder, which stays as it was.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'final loss %s after %s steps\n' "$loss" "$steps" > "$tmp/summary.txt"
mlrun log artifact "$tmp/summary.txt"
