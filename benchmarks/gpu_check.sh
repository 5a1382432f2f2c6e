#!/usr/bin/env bash
# GPU check for backend=rllib (issue 7): train go_small for a few iterations with one learner on
# one GPU under both backends, next to the same on CPU, and record steps/s.
#
#   bash benchmarks/gpu_check.sh            # on a machine with an NVIDIA GPU and the venv
#   STEPS=8192 bash benchmarks/gpu_check.sh # shorter
#
# Writes benchmarks/results/rllib_gpu_cuda.md and rllib_gpu_cpu.md (one table each: sb3 and
# rllib steps/s, set-up time, the rllib/sb3 ratio) and prints both. About 3-5 minutes on an
# H100 machine with 16 cores; it exits early, with a message, when no GPU is visible.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
STEPS=${STEPS:-16384}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" OMP_NUM_THREADS=1

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    echo "gpu_check: torch sees no CUDA device (CPU-only torch build?); nothing to measure" >&2
    exit 1
fi
"$PY" -c 'import torch, ray; print("torch", torch.__version__, "cuda", torch.version.cuda, "| ray", ray.__version__)'

for device in cuda cpu; do
    echo "== go_small, learner on $device, $STEPS steps per backend ==" >&2
    timeout 900 "$PY" benchmarks/rllib_vs_sb3.py --steps "$STEPS" --device "$device" \
        --write --out "benchmarks/results/rllib_gpu_${device}.md"
done
cat benchmarks/results/rllib_gpu_cuda.md benchmarks/results/rllib_gpu_cpu.md
