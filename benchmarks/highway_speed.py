"""Env steps/s of the driving tasks' envs against highway-env's own, on one core, written into
BENCHMARKS.md (section ``highway_speed``).

For each task, the shipped config's scenario built twice: as the task builds it (the numpy hot
spots of tasks/highway_fast.py) and as ``gym.make`` builds it from the same highway-env config.
Both play the same seeded episodes with the same random actions, alternating in blocks so that
load on the machine falls on both; every observation is compared, so the rate is for the
same simulation. drive_highway's headway cost is left out of both (it costs the same in each).

    python benchmarks/highway_speed.py [--steps 600]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.sections import write_section  # noqa: E402
from tasks import driving  # noqa: E402
from tasks.config import load_config  # noqa: E402


def envs(task: str) -> tuple[object, object]:
    """(ours, highway-env's own) for ``task``'s shipped config."""
    if task == "drive_highway":
        from tasks.drive import DriveConfig, highway_config, make_highway

        cfg = load_config(DriveConfig, task, None, ["env.headway_time=0"])
        own = driving.make_highway_env(task, cfg.env.env_id, highway_config(cfg))
        return make_highway(cfg), own
    from tasks.drive_steer import DriveSteerConfig, make_racetrack, racetrack_config

    cfg = load_config(DriveSteerConfig, task, None, ["env.lane_position=false"])
    with warnings.catch_warnings():  # racetrack-v0 "out of date": see make_racetrack
        warnings.simplefilter("ignore")
        own = driving.make_highway_env(task, cfg.env.env_id, racetrack_config(cfg))
    return make_racetrack(cfg), own


def measure(task: str, steps: int, block: int = 50) -> tuple[float, float]:
    """(ours, theirs) env steps/s over ``steps`` steps each."""
    ours, theirs = envs(task)
    actions = np.random.default_rng(0)
    ours.action_space.seed(0)
    seconds = {id(ours): 0.0, id(theirs): 0.0}
    seed, played = 0, 0
    for env in (ours, theirs):
        env.reset(seed=seed)
    while played < steps:
        chosen = [
            ours.action_space.sample() if task == "drive_steer" else int(actions.integers(5))
            for _ in range(block)
        ]
        observed = {}
        for env in (ours, theirs):
            start = time.perf_counter()
            trace = []
            for action in chosen:
                obs, _, done, cut, _ = env.step(action)
                trace.append(np.array(obs, copy=True))
                if done or cut:
                    break
            seconds[id(env)] += time.perf_counter() - start
            observed[id(env)] = trace
        mine, own = observed[id(ours)], observed[id(theirs)]
        if len(mine) != len(own) or any(
            not np.array_equal(a, b) for a, b in zip(mine, own, strict=True)
        ):
            raise SystemExit(f"{task}: the two envs diverged at step {played}")
        played += len(mine)
        if len(mine) < len(chosen):  # an episode ended: both start the next one
            seed += 1
            for env in (ours, theirs):
                env.reset(seed=seed)
    return played / seconds[id(ours)], played / seconds[id(theirs)]


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600, help="env steps per env and task")
    args = parser.parse_args(argv)
    lines = [
        f"`python benchmarks/highway_speed.py --steps {args.steps}`: one process "
        f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}), random actions, "
        "the same seeded episodes in both envs, every observation compared.",
        "",
        "| task | scenario | ours (env steps/s) | highway-env's own | ours / own |",
        "|---|---|---|---|---|",
    ]
    for task, scenario in (("drive_highway", "highway-fast-v0"), ("drive_steer", "racetrack-v0")):
        mine, own = measure(task, args.steps)
        lines.append(f"| {task} | {scenario} | {mine:,.0f} | {own:,.0f} | {mine / own:.2f} |")
    markdown = "\n".join(lines)
    write_section("highway_speed", markdown)
    print(markdown)
    return markdown


if __name__ == "__main__":
    main()
