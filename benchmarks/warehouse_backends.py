"""warehouse_robots under SB3 and under RLlib: the same config, the same problem, deliveries side by side.

Runs ``python -m tasks.run warehouse_robots backend=B seed=S`` (the packaged config: job masks,
shaping and the path observations apply under both backends) for each backend and seed, and
reads the evaluation's deliveries per 500 steps (and the greedy planner's on the same episodes)
from ``eval/results.json``. The config was tuned at seeds 0-2; the default seeds here (10, 11)
are held out.

    python benchmarks/warehouse_backends.py [--seeds 10,11] [--write]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.sections import write_section  # noqa: E402

BACKENDS = ("sb3", "rllib")


def run(backend: str, seed: int, runs_dir: Path) -> tuple[dict, float]:
    """Train and evaluate one run; its results.json metrics and wall minutes."""
    started = time.monotonic()
    command = [sys.executable, "-m", "tasks.run", "warehouse_robots", f"backend={backend}",
               f"seed={seed}", f"runs_dir={runs_dir}"]  # fmt: skip
    subprocess.run(command, cwd=REPO, check=True)
    (folder,) = [p for p in (runs_dir / "warehouse_robots").iterdir() if p.name.endswith(f"-s{seed}")
                 and f"-{backend}-" in p.name]  # fmt: skip
    metrics = json.loads((folder / "eval" / "results.json").read_text())["metrics"]
    return metrics, (time.monotonic() - started) / 60


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="10,11")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    runs_dir = Path(tempfile.mkdtemp(prefix="warehouse-backends-"))
    lines = [
        f"`python benchmarks/warehouse_backends.py --seeds {args.seeds}`: the packaged "
        "warehouse_robots config (tiny, 2 robots, 1.2M robot-steps, MaskablePPO under SB3, PPO "
        "with the same action masks under RLlib), 20 evaluation episodes of 500 steps; greedy is "
        "the planner on the same episodes. Seeds 0-2 tuned the config; these are held out. "
        "Minutes of training and evaluation on 2 cores.",
        "",
        "| backend | seed | deliveries | greedy | of greedy | minutes |",
        "|---|---|---|---|---|---|",
    ]
    means: dict[str, list[float]] = {b: [] for b in BACKENDS}
    for backend in BACKENDS:
        for seed in seeds:
            metrics, minutes = run(backend, seed, runs_dir)
            greedy = metrics["baseline/greedy/deliveries"]
            means[backend].append(metrics["deliveries"])
            lines.append(f"| {backend} | {seed} | {metrics['deliveries']:.1f} | {greedy:.1f} | "
                         f"{metrics['deliveries'] / greedy:.2f} | {minutes:.1f} |")  # fmt: skip
            print(lines[-1], file=sys.stderr, flush=True)
    for backend in BACKENDS:
        lines.append(f"| {backend} | mean | {statistics.mean(means[backend]):.1f} | | | |")
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    if args.write:
        write_section("warehouse_backends", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
