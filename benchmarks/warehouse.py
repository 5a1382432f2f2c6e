"""How fast are the warehouse envs? Robots against rware 2.0 in the same run; inventory alone.

Robots, random actions, whole 500-step episodes (reset when one ends):

- ``rware``: rware 2.0's ``Warehouse`` (its registered tiny/small settings), ``step(list)``.
- ``RobotsEnv``: learnloop's PettingZoo ParallelEnv, dict of actions in, dicts out (with
  action masks in infos), under ``rules="learnloop"`` and ``rules="rware"``.
- ``RobotsVectorEnv``: ``--num-envs`` warehouses per call; counted in robot-steps (agent-steps)
  as well as env-steps; once with RWARE's observation and once with the task's (``observe_paths``
  and more).

Inventory: ``InventoryEnv`` (orgym_v0) stepping fixed orders, raw and through ``gym.make``.

Random actions are drawn beforehand so drawing costs nothing in the loop. Rates are steps per
CPU second of this single-threaded process, each the best of ``--rounds`` measurements taken
in turn, so load from other processes skews the ratios less. Prints a Markdown table and
writes it to benchmarks/results/warehouse.md.

    python benchmarks/warehouse.py [--seconds 1.0] [--rounds 3] [--num-envs 256]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import envs  # noqa: E402,F401 - registers learnloop/Inventory-v0
from envs.warehouse.inventory import InventoryEnv  # noqa: E402
from envs.warehouse.layout import SIZES  # noqa: E402
from envs.warehouse.robots import RobotsEnv  # noqa: E402
from envs.warehouse.vector import RobotsVectorEnv  # noqa: E402

# What the warehouse_robots task observes: a 5x5 window, targets, and the job paths (a
# breadth-first search per request and warehouse every step).
TASK_OBSERVATIONS = {"sensor_range": 2, "observe_targets": True, "observe_paths": True}
ACTIONS = np.random.default_rng(0).integers(0, 5, size=(1 << 16, 20))


def timed(loop: Callable[[], int], seconds: float) -> float:
    """Run ``loop`` (which returns steps done) until ``seconds`` of CPU time; steps/s."""
    steps, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        steps += loop()
    return steps / (time.process_time() - start)


def rware_rate(size: str, n: int, seconds: float) -> float:
    from rware.warehouse import RewardType, Warehouse

    rows, columns = SIZES[size]
    env = Warehouse(columns, 8, rows, n, 0, 1, n, None, 500, RewardType.INDIVIDUAL)
    env.reset(seed=0)
    rows_of_actions = ACTIONS[:, :n].tolist()

    def episode() -> int:
        env.reset()
        for t in range(500):
            env.step(rows_of_actions[t])
        return 500

    return timed(episode, seconds)


def robots_rate(size: str, n: int, seconds: float, rules: str) -> float:
    env = RobotsEnv(size=size, n_robots=n, rules=rules)
    env.reset(seed=0)
    names = env.possible_agents
    dicts = [dict(zip(names, row, strict=True)) for row in ACTIONS[:500, :n].tolist()]

    def episode() -> int:
        env.reset()
        for t in range(500):
            env.step(dicts[t])
        return 500

    return timed(episode, seconds)


def vector_rate(size: str, n: int, seconds: float, num_envs: int, **options: object) -> float:
    env = RobotsVectorEnv(num_envs, size=size, n_robots=n, **options)
    env.reset(seed=0)
    batches = [ACTIONS[t : t + num_envs, :n].copy() for t in range(0, 64 * num_envs, num_envs)]

    def chunk() -> int:
        for actions in batches:
            env.step(actions)
        return len(batches) * num_envs

    return timed(chunk, seconds)


def inventory_rate(seconds: float, wrapped: bool) -> float:
    import gymnasium as gym

    env = gym.make("learnloop/Inventory-v0") if wrapped else InventoryEnv("orgym_v0")
    order = np.full(3, 20.0, dtype=np.float32)
    env.reset(seed=0)

    def episode() -> int:
        env.reset()
        for _ in range(30):
            env.step(order)
        return 30

    return timed(episode, seconds)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--num-envs", type=int, default=256)
    args = parser.parse_args(argv)
    configs = [("tiny", 2), ("tiny", 4), ("small", 4)]
    ways: dict[str, Callable[[str, int], float]] = {
        "rware 2.0 Warehouse": lambda s, n: rware_rate(s, n, args.seconds),
        "RobotsEnv (rules=learnloop)": lambda s, n: robots_rate(s, n, args.seconds, "learnloop"),
        "RobotsEnv (rules=rware)": lambda s, n: robots_rate(s, n, args.seconds, "rware"),
        f"RobotsVectorEnv x{args.num_envs}": lambda s, n: vector_rate(
            s, n, args.seconds, args.num_envs
        ),
        f"RobotsVectorEnv x{args.num_envs}, warehouse_robots' observations": lambda s, n: (
            vector_rate(s, n, args.seconds, args.num_envs, **TASK_OBSERVATIONS)
        ),
    }
    best: dict[tuple[str, str, int], float] = {}
    for _ in range(args.rounds):
        for name, measure in ways.items():
            for size, n in configs:
                key = (name, size, n)
                best[key] = max(best.get(key, 0.0), measure(size, n))
    lines = [
        "# Warehouse env speed",
        "",
        f"Random actions, whole 500-step episodes; env-steps per CPU second, best of "
        f"{args.rounds} rounds of {args.seconds:g} s, ratio to rware 2.0 in the same run.",
        "",
        "| env | config | env-steps/s | agent-steps/s | vs rware |",
        "|---|---|---|---|---|",
    ]
    for name in ways:
        for size, n in configs:
            rate = best[(name, size, n)]
            ratio = rate / best[("rware 2.0 Warehouse", size, n)]
            lines.append(
                f"| {name} | {size}-{n}ag | {rate:,.0f} | {rate * n:,.0f} | {ratio:.1f}x |"
            )
    inventory = {
        wrapped: max(inventory_rate(args.seconds, wrapped) for _ in range(args.rounds))
        for wrapped in (False, True)
    }
    lines += [
        "",
        "| inventory env | steps/s |",
        "|---|---|",
        f"| InventoryEnv (orgym_v0) | {inventory[False]:,.0f} |",
        f'| gym.make("learnloop/Inventory-v0") | {inventory[True]:,.0f} |',
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    (ROOT / "benchmarks" / "results" / "warehouse.md").write_text(table)
    return table


if __name__ == "__main__":
    main()
