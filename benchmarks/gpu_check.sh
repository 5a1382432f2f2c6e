#!/usr/bin/env bash
# GPU check: go_small's AlphaZero learner and SB3's PPO on one GPU beside the same on CPU
# (benchmarks/gpu_check.py), unattended, on a machine that has Python and a CUDA build of torch
# but none of our pure-Python dependencies and no network:
#
#   bash benchmarks/gpu_wheels.sh          # here, with network: wheels/gpu/ (about 2 MB)
#   bash benchmarks/gpu_check.sh           # there, from the checkout carrying wheels/gpu/
#
# Missing packages (gymnasium, pettingzoo, stable-baselines3, sb3-contrib, sgfmill) install
# from wheels/gpu/ into .gpu_site/ (no index, nothing fetched); numpy, numba, torch, matplotlib,
# tensorboard, pyyaml and scikit-learn must already be there. Without a visible GPU it measures
# the CPU rows only (that is how it is tested here). Results: benchmarks/results/gpu_check.md,
# and $OUT/gpu_check.md when $OUT is set (the device tool copies $OUT back).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-python3}
ZERO_STEPS=${ZERO_STEPS:-200000}
PPO_STEPS=${PPO_STEPS:-32768}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" OMP_NUM_THREADS=1

if ! "$PY" -c 'import gymnasium, pettingzoo, stable_baselines3, sb3_contrib, sgfmill' 2>/dev/null; then
    if ! ls wheels/gpu/*.whl >/dev/null 2>&1; then
        echo "gpu_check: missing packages and no wheels/gpu/; run benchmarks/gpu_wheels.sh first" >&2
        exit 2
    fi
    "$PY" -m pip install --quiet --no-index --no-deps --target .gpu_site wheels/gpu/*.whl
    export PYTHONPATH="$PWD/.gpu_site:$PYTHONPATH"
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "visible", torch.cuda.is_available())'

"$PY" benchmarks/gpu_check.py --zero-steps "$ZERO_STEPS" --ppo-steps "$PPO_STEPS" \
    --out benchmarks/results/gpu_check.md
if [ -n "${OUT:-}" ]; then
    cp benchmarks/results/gpu_check.md "$OUT/gpu_check.md"
fi
