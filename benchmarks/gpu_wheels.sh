#!/usr/bin/env bash
# Wheels for benchmarks/gpu_check.sh on a machine with no network: the pure-Python packages
# that a Python with torch, numpy and numba lacks, pinned to the versions this venv runs.
# Writes wheels/gpu/ (ignored by git; the device tool carries it with `carry: ["wheels/gpu"]`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
pins=$("$PY" - <<'PYTHON'
from importlib.metadata import version
names = ["gymnasium", "pettingzoo", "stable-baselines3", "sb3-contrib", "sgfmill",
         "farama-notifications"]
print(" ".join(f"{name}=={version(name)}" for name in names))
PYTHON
)
mkdir -p wheels/gpu
# Pure-Python wheels: one set serves any Python 3 and platform.
"$PY" -m pip download --quiet --dest wheels/gpu --no-deps --only-binary=:all: $pins
ls -la wheels/gpu
