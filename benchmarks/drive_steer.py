"""drive_steer over several training seeds: on-road rate on held-out seeds against the
pure-pursuit controller and random steering, written into BENCHMARKS.md (section
``drive_steer``).

Each run is the default config (configs/drive_steer.yaml) at one training seed, evaluated by the
task itself on held-out env seeds ``10,000 + 1,000 x seed`` onward (training envs take seeds
``seed, seed + 1``; the config was set up at training seed 0, on env seeds 1,000-1,019 for the
controller and 10,000-10,049 for the first default run, so the reported seeds start at 1).
Selection on validation episodes was switched on after the last weights of training seed 3
crashed in 2 of 50 held-out episodes; the runs published then were training seeds 5-7
(``--seeds 5 6 7``). Replaying seed 7's exits found an 8.7 cm strip between racetrack-v0's
lanes on one straight that highway-env counted as off the road (closed since:
tasks/drive_steer.py ``close_lane_gaps``); the runs published after the fix were training
seeds 8-10 (``--seeds 8 9 10``: 0.993 on-road, one crash). Evaluating a checkpoint ensemble
(``eval.ensemble=3``: the greedy action, among the last checkpoints' own, that their critics
rate best) was then set up on training seeds 0 and 4 and trained at fresh seeds 12-14
(never run before; 11 was a budget check): it crashed more there than the same runs'
best-validating weights, so the default stayed the validation's pick, and those runs evaluated
that way were published (``python -m tasks.run drive_steer eval seed=S runs_dir=DIR
eval.ensemble=0``, then ``--runs``; configs/drive_steer.yaml has both). Observing the gap
along each lane to the car ahead (``env.lane_traffic``) was then set up on training seeds 0
and 4 and is reported at fresh seeds 15-17 (:data:`SEEDS`).
``--steps`` below the config's budget is a reduced run, and the table says so. Every number
comes from the runs' ``eval/results.json``; ``--runs`` reuses finished run folders instead of
training.

    python benchmarks/drive_steer.py [--seeds 15 16 17] [--steps N] [--runs RUN_FOLDER ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import driving  # noqa: E402
from benchmarks.sections import default_steps  # noqa: E402

POLICIES = ("", "baseline/pure_pursuit/", "baseline/random/")  # results.json prefixes
COLUMNS = ("on_road_rate", "crash_rate", "mean_lateral_offset")
GOAL_ON_ROAD = 0.90
SEEDS = [15, 16, 17]  # reported; 0 and 4 tuned, 1-3 and 5-14 held out earlier defaults


def cells(metrics: dict[str, float]) -> str:
    """On-road rate / crash rate / lateral offset of each policy, one cell each."""
    return " | ".join(
        " / ".join(f"{metrics[prefix + column]:.2f}" for column in COLUMNS) for prefix in POLICIES
    )


def load(run: Path) -> tuple[dict, dict]:
    """A run's config and its eval/results.json."""
    config = yaml.safe_load((run / "config.yaml").read_text())
    return config, json.loads((run / "eval" / "results.json").read_text())


def run_row(run: Path, config: dict, results: dict) -> tuple[str, dict[str, float]]:
    """One table row of ``run`` (its config and results) and its metrics."""
    metrics = results["metrics"]
    episodes = config["eval"]["episodes"]
    row = (
        f"| {config['seed']} | {config['backend']} {config['algo']['name']} | "
        f"{results['step']:,} | {driving.training_minutes(run):.1f} | "
        f"{driving.eval_seeds(config, episodes)} | "
        f"{cells(metrics)} |"
    )
    return row, metrics


def section(runs: list[Path]) -> str:
    """The BENCHMARKS.md section for ``runs``."""
    configs, results = zip(*(load(run) for run in runs), strict=True)
    rows, found = zip(*map(run_row, runs, configs, results), strict=True)
    mean = {key: float(np.mean([m[key] for m in found])) for key in found[0]}
    budget = default_steps("drive_steer")
    used = {result["step"] for result in results}
    durations = {config["env"]["duration"] for config in configs}
    reduced = any(step < budget for step in used)
    trained, controller = mean["on_road_rate"], mean["baseline/pure_pursuit/on_road_rate"]
    met = trained >= GOAL_ON_ROAD and trained >= controller
    lines = [
        "## drive_steer: continuous steering on racetrack-v0",
        "",
        f"Written by `benchmarks/drive_steer.py` from {len(runs)} run{'s' * (len(runs) != 1)} of the default config"
        f"{' AT A REDUCED BUDGET' if reduced else ''}: "
        f"{', '.join(f'{s:,}' for s in sorted(used))} training steps"
        + (f" against the config's {budget:,}" if reduced else "")
        + ". Each cell: on-road rate / crash rate / mean lateral offset (m), over the run's "
        f"held-out env seeds ({'/'.join(map(str, sorted(durations)))} s episodes, a slower car "
        "ahead to pass). " + driving.selection_text(list(results), configs[0]),
        "",
        "| training seed | backend algo | steps | training min | eval env seeds | trained "
        "| pure pursuit | random |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        f"| mean | | | | | {cells(mean)} |",
        "",
        f"Goal (on-road rate >= {GOAL_ON_ROAD:.2f} and >= the controller's), over all the "
        f"runs' episodes: **{'met' if met else 'not met'}** (on-road rate {trained:.3f} against "
        f"the controller's {controller:.3f}); met by "
        f"{int(sum(m['meets_goal'] for m in found))} of {len(found)} runs alone.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    return driving.main("drive_steer", __doc__, section, argv, seeds=SEEDS)


if __name__ == "__main__":
    main()
