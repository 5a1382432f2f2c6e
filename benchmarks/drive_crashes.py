"""Why a drive_highway agent crashes: replays the weights a run evaluated (the mean-Q ensemble of
its last checkpoints when it has ``eval.ensemble``, else its best-validating checkpoint, else its
newest) and sorts every crash by what the car was doing and where the car it hit was. A
diagnostic for tuning, so it plays the run's *validation* env seeds by default
(``10,500 + 1,000 x seed`` onward), never the held-out evaluation seeds the benchmark reports;
``--evaluation-seeds`` replays the evaluation's instead (for runs at development seeds only).

    python benchmarks/drive_crashes.py RUN_FOLDER [RUN_FOLDER ...] [--episodes N]

Kinds (the ego car's lane change counts as under way while its target lane differs from its
lane, or when one of its last two actions asked for one):
- ``rear-end``: no lane change, the car hit is ahead;
- ``hit from behind``: no lane change, the car hit is behind;
- ``lane change, car ahead`` / ``lane change, car beside or behind``: during a lane change;
and, across kinds, how many crashes came with the car at its lowest target speed (it could
brake no further: highway-env's meta-actions step between ``env.target_speeds``).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gymnasium as gym  # noqa: E402

from agents.base import EPISODE_METRICS  # noqa: E402
from tasks import driving  # noqa: E402
from tasks.config import load_config  # noqa: E402
from tasks.drive import DriveConfig, DriveTask, make_highway  # noqa: E402
from tasks.runner.evaluation import run_episodes  # noqa: E402
from tasks.runner.runs import newest_checkpoint  # noqa: E402
from tasks.runner.session import load_checkpoint  # noqa: E402

KINDS = (
    "rear-end",
    "hit from behind",
    "lane change, car ahead",
    "lane change, car beside or behind",
)
LANE_CHANGES = ("LANE_LEFT", "LANE_RIGHT")


def road_positions(road_env: Any) -> dict[int, float]:
    """Every car's position along the road, by ``id``: taken before each step, because by the
    end of the step that crashes the cars have slid on (a car rear-ending a stopped one can end
    the step past its centre)."""
    return {id(car): float(car.position[0]) for car in road_env.road.vehicles}


def crash_kind(road_env: Any, recent_actions: list[str], before: dict[int, float]) -> str:
    """The kind of the crash that just ended ``road_env``'s episode (see the module's list);
    ``before``: :func:`road_positions` at the start of its last step."""
    ego = road_env.vehicle
    hit = [v for v in road_env.road.vehicles if v is not ego and v.crashed]
    if not hit:
        raise ValueError("the episode did not end in a crash")
    at = {id(car): before.get(id(car), float(car.position[0])) for car in (ego, *hit)}
    other = min(hit, key=lambda v: abs(at[id(v)] - at[id(ego)]))
    ahead = at[id(other)] > at[id(ego)]
    changing = ego.lane_index != getattr(ego, "target_lane_index", ego.lane_index) or any(
        action in LANE_CHANGES for action in recent_actions[-2:]
    )
    if changing:
        return "lane change, car ahead" if ahead else "lane change, car beside or behind"
    return "rear-end" if ahead else "hit from behind"


def at_lowest_speed(road_env: Any) -> bool:
    """Whether the ego car's target speed is the lowest its meta-actions reach."""
    ego = road_env.vehicle
    return bool(getattr(ego, "speed_index", 1) == 0)


class CrashKinds(gym.Wrapper):
    """Reports each episode's crash under ``info[EPISODE_METRICS]`` on its last step, as the
    runner's episode loop reads it: 1 under its kind (0 under the others, all 0 without a crash)
    and ``at_lowest_speed``. Keeps the actions and, before each step, the cars' positions."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._names = env.unwrapped.action_type.actions
        self._actions: list[str] = []

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._actions = []
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        self._actions.append(self._names[int(action)])
        before = road_positions(self.env.unwrapped)
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            crashed = bool(info.get("crashed"))
            kind = crash_kind(self.env.unwrapped, self._actions, before) if crashed else None
            lowest = crashed and at_lowest_speed(self.env.unwrapped)
            info = {**info, EPISODE_METRICS: {
                **{name: float(name == kind) for name in KINDS}, "at_lowest_speed": float(lowest),
            }}  # fmt: skip
        return obs, reward, terminated, truncated, info


def replay(run: Path, episodes: int | None, evaluation_seeds: bool) -> dict[str, Any]:
    """Play the run's evaluated weights through the runner's episode loop (the episodes its
    validation or evaluation played); crash counts by kind."""
    if not (run / "config.yaml").is_file():
        raise SystemExit(f"{run}: not a drive_highway run folder (no config.yaml)")
    cfg = load_config(DriveConfig, "drive_highway", run / "config.yaml", [])
    best = driving.best_validation(run)
    checkpoint = best["path"] if best else newest_checkpoint(run / "checkpoints")
    if checkpoint is None:
        raise SystemExit(f"{run}: no checkpoint to replay")
    if cfg.eval.ensemble:  # the run evaluated its last checkpoints' mean-Q ensemble
        agent, metrics, _ = driving.ensemble_agent(DriveTask(), cfg, None, run)
        size, first_step = int(metrics["ensemble_size"]), int(metrics["ensemble_first_step"])
        weights = f"ensemble of {size} from step_{first_step}"
    else:
        agent, weights = load_checkpoint(DriveTask(), cfg, checkpoint), checkpoint.name
    first = (driving.eval_seed if evaluation_seeds else driving.validation_seed)(cfg.seed)
    count = episodes or (cfg.eval.episodes if evaluation_seeds else cfg.eval.validation_episodes)
    count = count or cfg.eval.episodes  # a run that did not validate: as many as evaluation
    per_episode = run_episodes(
        lambda: CrashKinds(make_highway(cfg)),
        lambda obs, env: agent.act(obs, deterministic=True), count, first,
    )  # fmt: skip
    kinds = Counter({kind: int(sum(per_episode[kind])) for kind in KINDS})
    return {"run": run.name, "checkpoint": weights, "episodes": count, "seed": first,
            "kinds": kinds, "lowest": int(sum(per_episode["at_lowest_speed"]))}  # fmt: skip


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown: one row per run, crashes by kind."""
    head = ["run", "weights", "episodes (from seed)", "crashes", *KINDS, "at lowest speed"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        total = sum(row["kinds"].values())
        cells = [row["run"], row["checkpoint"], f"{row['episodes']} ({row['seed']})", str(total)]
        cells += [str(row["kinds"][kind]) for kind in KINDS] + [str(row["lowest"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--episodes", type=int, default=None)
    parser.add_argument("--evaluation-seeds", action="store_true")
    args = parser.parse_args(argv)
    markdown = table([replay(run, args.episodes, args.evaluation_seeds) for run in args.runs])
    print(markdown)
    return markdown


if __name__ == "__main__":
    main()
