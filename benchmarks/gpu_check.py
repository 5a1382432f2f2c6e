"""GPU check: go_small's AlphaZero learner and SB3's PPO on the GPU, beside the same on CPU.

    python benchmarks/gpu_check.py [--zero-steps 200000] [--ppo-steps 32768] [--out FILE]

Runs each as a user would (``python -m tasks.run ...`` with ``device=cuda`` and ``device=cpu``;
without a visible GPU, CPU only), in one process (``ray.num_selfplay_workers=0``: no Ray),
evaluating against the random player only (GNU Go need not be installed), and writes one
Markdown table: self-play moves or env steps per second and, for AlphaZero, gradient steps per
second of the learner. RLlib's GPU learner runs only where Ray is installed
(``benchmarks/rllib_vs_sb3.py --device cuda``); the table says when it was not.
``benchmarks/gpu_check.sh`` runs this on a GPU machine that lacks our pure-Python dependencies.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMON = ["train.checkpoint_every=0", "eval.every=0", "eval.opponents=[random]",
          "eval.periodic_opponents=[random]", "eval.episodes=2", "eval.with_search=false"]  # fmt: skip


def run(args: list[str]) -> tuple[list[dict], float]:
    """(metrics.jsonl records, wall seconds) of one ``tasks.run`` command in a fresh runs_dir."""
    with tempfile.TemporaryDirectory() as runs_dir:
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "tasks.run", *args, *COMMON, f"runs_dir={runs_dir}"],
            cwd=REPO, env=env, capture_output=True, text=True,
        )  # fmt: skip
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
        (metrics,) = Path(runs_dir).glob("*/*/metrics.jsonl")
        return [json.loads(line) for line in metrics.read_text().splitlines()], wall


def zero_row(device: str, steps: int) -> dict[str, str]:
    records, wall = run(["go_small", f"device={device}", "ray.num_selfplay_workers=0",
                         f"train.total_steps={steps}"])  # fmt: skip
    fps = [r["time/fps"] for r in records if r.get("time/fps")][1:]  # the first is warm-up
    learner = max(r.get("charts/learner_steps", 0) for r in records)
    minutes = [r["time/train_minutes"] for r in records if "time/train_minutes" in r][-1]
    return {"path": "AlphaZero, learner and self-play in one process", "device": device,
            "steps": f"{steps:,} moves", "moves or env steps/s": f"{sum(fps) / len(fps):,.0f}",
            "learner gradient steps/s (batch 256)": f"{learner / (minutes * 60):,.1f}",
            "wall s": f"{wall:.0f}"}  # fmt: skip


def ppo_row(device: str, steps: int) -> dict[str, str]:
    config = str(REPO / "configs" / "go_small_ppo.yaml")
    records, wall = run([config, f"device={device}", f"train.total_steps={steps}",
                         "search.simulations=0"])  # fmt: skip
    fps = [r["time/fps"] for r in records if r.get("time/fps")][1:]
    return {"path": "SB3 PPO self-play (configs/go_small_ppo.yaml)", "device": device,
            "steps": f"{steps:,} env steps", "moves or env steps/s": f"{sum(fps) / len(fps):,.0f}",
            "learner gradient steps/s (batch 256)": "", "wall s": f"{wall:.0f}"}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zero-steps", type=int, default=200_000)
    parser.add_argument("--ppo-steps", type=int, default=32_768)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "gpu_check.md"))
    args = parser.parse_args()
    import torch

    devices = (["cuda"] if torch.cuda.is_available() else []) + ["cpu"]
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none visible"
    rows = []
    for device in devices:
        rows.append(zero_row(device, args.zero_steps))
        print(json.dumps(rows[-1]), file=sys.stderr)
        rows.append(ppo_row(device, args.ppo_steps))
        print(json.dumps(rows[-1]), file=sys.stderr)
    ray = importlib.util.find_spec("ray") is not None
    lines = [
        f"GPU check, {time.strftime('%Y-%m-%d')}: Python {platform.python_version()}, torch "
        f"{torch.__version__} (CUDA {torch.version.cuda}), GPU: {gpu}, {os.cpu_count()} CPUs.",
        "",
        "| " + " | ".join(rows[0]) + " |",
        "|" + "---|" * len(rows[0]),
        *("| " + " | ".join(row.values()) + " |" for row in rows),
        "",
        "RLlib's GPU learner: "
        + ("measure with `benchmarks/rllib_vs_sb3.py --device cuda`." if ray else
           "not measured here (Ray is not installed: its wheel alone is over the 64 MiB the "
           "checkout may carry); validated on CPU only (BENCHMARKS.md, rllib_vs_sb3)."),
    ]  # fmt: skip
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
