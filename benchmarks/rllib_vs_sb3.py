"""RLlib against SB3 on go_small self-play: training throughput and Ray's start-up cost.

Both backends train the same task config (MaskablePPO-equivalent PPO with action masks, the
same residual CNN, the same opponent pool and snapshot schedule, evaluation off) through
learnloop's Backend interface, one process, in turns. Throughput is steady-state learner
steps per second: steps between the first and the last logged iteration over the seconds
between them, so start-up is measured apart. Start-up is split into importing ray + rllib,
``ray.init`` and building the algorithm. Prints a Markdown table (goal: rllib >= 0.6 x sb3 on
2 cores) and writes it to benchmarks/results/rllib_vs_sb3.md with ``--write``.

    python benchmarks/rllib_vs_sb3.py [--steps 12288] [--repeats 1] [--runners 0] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("OMP_NUM_THREADS", "1")
SNAPSHOT_EVERY = 2048  # so that snapshot opponents (not only fixed players) play in the run


class Clock:
    """A metric sink that remembers when each step was logged."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, int]] = []
        self.first_progress: float | None = None

    def log(self, step: int, metrics: dict[str, float]) -> None:
        if "losses/value_loss" in metrics:  # one line per training iteration / rollout
            self.marks.append((time.perf_counter(), step))

    def progress(self, step: int) -> None:
        if self.first_progress is None:
            self.first_progress = time.perf_counter()

    def steady_fps(self) -> float:
        (t0, s0), (t1, s1) = self.marks[0], self.marks[-1]
        return (s1 - s0) / (t1 - t0)


def train_once(
    backend_name: str, steps: int, overrides: list[str], device: str = "cpu"
) -> dict[str, float]:
    """Train go_small for ``steps`` under one backend; fps and set-up seconds."""
    from agents.backends import get_backend
    from tasks.config import load_config
    from tasks.registry import load_task
    from tasks.runner.session import train_context

    task = load_task("go_small")
    args = [f"backend={backend_name}", f"train.total_steps={steps}", "eval.every=0",
            f"selfplay.snapshot_every={SNAPSHOT_EVERY}", *overrides]  # fmt: skip
    cfg = load_config(task.config_cls, "go_small", REPO / "configs" / "go_small.yaml", args)
    clock = Clock()
    with tempfile.TemporaryDirectory() as folder:

        def save(step: int, write: Any) -> Path:
            target = Path(folder) / f"step_{step}"
            target.mkdir(exist_ok=True)
            write(target)
            return target

        ctx = train_context(task, cfg, clock, save, task.periodic(cfg, None))
        ctx.total_steps, ctx.device, ctx.checkpoint_every = steps, device, 0
        start = time.perf_counter()
        get_backend(backend_name).train(ctx)
        total = time.perf_counter() - start
    setup = (clock.marks[0][0] - start) if clock.marks else float("nan")
    return {"fps": clock.steady_fps(), "setup_s": setup, "total_s": total}


def ray_startup() -> dict[str, float]:
    """Seconds to import ray + rllib and to start a local Ray (2 CPUs, no dashboard)."""
    start = time.perf_counter()
    import ray
    import ray.rllib.algorithms.ppo  # noqa: F401

    imported = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False)
    started = time.perf_counter()
    return {"import_s": imported - start, "init_s": started - imported}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12288)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--runners", type=int, default=0, help="ray.num_env_runners for rllib")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (the learner's device)")
    parser.add_argument("--write", action="store_true", help="write the table to --out")
    parser.add_argument("--out", default="benchmarks/results/rllib_vs_sb3.md")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    startup = ray_startup()
    rllib_args = [f"ray.num_env_runners={args.runners}"]
    runs: dict[str, list[dict[str, float]]] = {"sb3": [], "rllib": []}
    for _ in range(args.repeats):  # alternate, so drift in machine load hits both
        runs["sb3"].append(train_once("sb3", args.steps, [], args.device))
        runs["rllib"].append(train_once("rllib", args.steps, rllib_args, args.device))
    best = {name: max(results, key=lambda r: r["fps"]) for name, results in runs.items()}
    ratio = best["rllib"]["fps"] / best["sb3"]["fps"]
    lines = [
        "# rllib vs sb3: go_small self-play throughput",
        "",
        f"{os.cpu_count()} CPUs, learner on {args.device}, Python {platform.python_version()}, "
        f"{args.steps:,} learner "
        f"steps per run, best of {args.repeats}; configs/go_small.yaml (8 envs x 128 steps, "
        f"batch 256, 4 epochs, residual CNN 32x2), a snapshot every {SNAPSHOT_EVERY:,} steps, "
        f"evaluation off; rllib with "
        f"{args.runners} env runners (0: sampling in the driver).",
        "",
        "| backend | steady steps/s (best) | every run | set-up s (to first iteration) | total s |",
        "|---|---|---|---|---|",
    ]
    for name in ("sb3", "rllib"):
        r, every = best[name], ", ".join(f"{run['fps']:,.0f}" for run in runs[name])
        lines.append(
            f"| {name} | {r['fps']:,.0f} | {every} | {r['setup_s']:.1f} | {r['total_s']:.1f} |"
        )
    lines += [
        "",
        f"**rllib / sb3 throughput: {ratio:.2f}** (goal >= 0.60).",
        "",
        f"Ray start-up, paid once per process: import ray + rllib {startup['import_s']:.1f} s, "
        f"`ray.init(num_cpus={os.cpu_count()}, include_dashboard=False)` "
        f"{startup['init_s']:.1f} s; the rllib set-up column adds building the algorithm "
        "(env probe, learner, module) on top.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        (REPO / args.out).write_text(text)


if __name__ == "__main__":
    main()
