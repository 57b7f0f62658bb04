#!/bin/sh
# Runs inside the container: logs into the run with `mlrun log`, through
# the tracking URI mlrun hands the container.
set -eu
alpha=$1
steps=$2
mlrun log param container_user "$(id -un)"
mlrun log tag greeting "$GREETING"
loss=100
i=0
while [ "$i" -lt "$steps" ]; do
  loss=$(awk -v l="$loss" -v a="$alpha" 'BEGIN { printf "%.4f", l * (1 - a / 2) }')
  mlrun log metric --step "$i" loss "$loss"
  echo "step $i loss $loss"
  i=$((i + 1))
done
echo "alpha=$alpha final_loss=$loss" > result.txt
mlrun log artifact result.txt
rm -f result.txt
