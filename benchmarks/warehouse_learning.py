"""Warehouse baselines and learned agents against the issue's reference numbers.

Baselines are measured here: the greedy controller on rware's tiny-2ag / tiny-4ag / small-4ag
(``rules="rware"``, 500 steps, ``--episodes`` seeds), and base-stock / (s, S) policies on
orgym_v0 / v1 (tuned on seeds 1000-1099, evaluated on seeds 0-99), with the perfect-information
bound (an LP that knows each demand path) above every policy and a rollout of the capped
base-stock policy (one step of policy iteration, on the first ``--rollout-paths`` paths; 0
skips it, about 3 s a path) to measure how far that policy is from optimal. Learned agents are read from
finished task runs (``--runs RUN_FOLDER ...``: their eval/results.json); learned rows of a kind
(robots, inventory) with no run given are kept from the previous results file. Writes a
Markdown table to benchmarks/results/warehouse_learning.md.

    python benchmarks/warehouse_learning.py [--episodes 10] [--rollout-paths 100]
        [--runs runs/warehouse_*/...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.baselines import inventory as stock  # noqa: E402
from agents.baselines.warehouse import GreedyController, run_episode  # noqa: E402
from envs.warehouse.inventory import PRESETS  # noqa: E402
from envs.warehouse.robots import RobotsEnv  # noqa: E402

GREEDY_REFERENCE = {("tiny", 2): 29.6, ("tiny", 4): 57.6, ("small", 4): 35.6}
MAPPO_REFERENCE = {("tiny", 2): 21, ("tiny", 4): 49, ("small", 4): 27}
STOCK_REFERENCE = {
    ("orgym_v0", "base_stock"): 406, ("orgym_v1", "base_stock"): 450,
    ("orgym_v0", "time_aware_base_stock"): 528, ("orgym_v1", "time_aware_base_stock"): 450,
    ("orgym_v0", "trained"): 495, ("orgym_v1", "trained"): 434,
}  # fmt: skip
RL_GOAL = {"orgym_v0": 540, "orgym_v1": 455}
RESULTS = ROOT / "benchmarks" / "results" / "warehouse_learning.md"
NOTES = [
    "",
    "Notes: default task configs (robots: 1.2M robot-steps with a linearly decaying learning "
    "rate, about 2 min each with two runs on the 2 cores, seeds 0-2, evaluated on 20 episodes: "
    "means 30.2 / 59.7 / 41.4, 0.98 / 0.94 / 0.94 of greedy here, at or above the issue's "
    "greedy references (30 / 58 / 36); at 600k steps and a constant rate 29.4 / 56.7 / 40.2; the robots see RWARE's window around them "
    "and, with job paths (env.observe_paths), the steps to the job the greedy planner would "
    "give them and how each move changes them; without job paths and with a 3x3 window they "
    "delivered 25.0 / 40.0 / 19.2 (seed 0, 600k steps), with job paths but free slots not "
    "matched to robots 28.7 / 54.5 / 35.6 (600k steps); inventory: 300k steps, 1.5-2 min, residual actions on the capped "
    "time-aware base-stock policy, seeds 0 and 1, each evaluated on its own 100 demand paths; "
    "the scaled rows: env.action=scaled policy.log_std_init=-1); "
    "robots act by sampling (argmax robots deadlock: tiny-2ag 14.8 +- 8.2 without job paths, "
    "tiny-4ag 31.8 with them), from probabilities sharpened by temperature 0.5. Greedy 'here' is the controller on the task's evaluation seeds "
    "(rules=learnloop). The base-stock rows use echelon levels and OR-Gym dynamics checked "
    "against a transcription of its code; the issue's v1 references (450 / 450) were not "
    "reproduced by any base-stock variant tried (echelon, installation, OR-Gym's own inventory "
    "position: 395-401). capped_base_stock is time-aware and orders no more than the supplier "
    "can ship (Clark and Scarf's structure for serial systems). On orgym_v0 (seed 0's evaluation "
    "paths, where it earns 533.7) no other policy found beats it by more than 0.5: per-period "
    "levels tuned by coordinate search (-0.2), shipping the upper stages' leftovers downstream "
    "at the end (+0.4), a 500-parameter residual network trained by evolution strategies on 200 "
    "paths with common random numbers (+0.5), re-planning with a linear program on mean demand "
    "each period (525.1). The RL goal of 540 lies above all of them (capped base-stock "
    "523-534 on the evaluation paths of seeds 0-2). The rollout row is one step of policy "
    "iteration on capped base-stock: on orgym_v0 it gains nothing (-0.02 +- 0.43; +0.46 +- 0.29 "
    "with 512 futures on seed 0's evaluation paths, 534.1 against 533.7), so no local change "
    "of its orders pays and the best policy earns about what it earns, 6-9 below 540; on "
    "orgym_v1 (lost sales, where base-stock is known not to be optimal) the same lookahead "
    "gains +5.7, so it does find improvements of that size. The issue's orgym_v0 references "
    "fit the capped policies (406 and 528 against 410.2 and 531.1 here), as if measured where "
    "ordering more than the supplier can ship costs nothing.",
]


def greedy_rows(episodes: int) -> list[str]:
    rows = []
    for (size, n), reference in GREEDY_REFERENCE.items():
        env = RobotsEnv(size=size, n_robots=n, rules="rware")
        controller = GreedyController()
        start = time.process_time()
        found = [run_episode(env, controller, seed)["deliveries"] for seed in range(episodes)]
        seconds = (time.process_time() - start) / episodes
        rows.append(
            f"| {size}-{n}ag | greedy (ours) | {np.mean(found):.1f} ± {np.std(found):.1f} "
            f"| {reference} (greedy on rware) | {seconds:.2f} s/episode |"
        )
    return rows


def rollout_row(preset: str, base: stock.BaseStockPolicy, paths: int) -> str:
    """Rollout on ``base`` against ``base`` itself on seeds 0..paths-1, paired by path."""
    chain, demand = PRESETS[preset], stock.demand_paths(PRESETS[preset], range(paths))
    rollout, found, start = stock.RolloutPolicy(chain, base), [], time.time()
    for first in range(0, paths, 10):
        found.append(stock.evaluate(chain, rollout, demand[first : first + 10])["return"])
        done = min(first + 10, paths)
        print(
            f"{preset} rollout: {done}/{paths} paths, {time.time() - start:.0f} s", file=sys.stderr
        )
    gained = np.concatenate(found)
    plain = stock.evaluate(chain, base, demand)["return"]
    diff = gained - plain
    return (
        f"| {preset} | rollout on capped_base_stock (one step of policy iteration; "
        f"{len(rollout.shifts)} candidates x {rollout.futures} futures) | {gained.mean():.1f} "
        f"on seeds 0-{paths - 1} | - | capped base-stock {plain.mean():.1f} on the same paths; "
        f"paired difference {diff.mean():+.2f} ± {diff.std() / np.sqrt(paths):.2f} (s.e.) |"
    )


def stock_rows(rollout_paths: int = 0) -> list[str]:
    rows = []
    for preset in ("orgym_v0", "orgym_v1"):
        chain, demand = PRESETS[preset], stock.demand_paths(PRESETS[preset], range(100))
        policies = stock.tuned_baselines(chain, range(1000, 1100))
        for name, policy in policies.items():
            found = stock.evaluate(chain, policy, demand)
            reference = STOCK_REFERENCE.get((preset, name), "-")
            levels = np.asarray(getattr(policy, "levels", getattr(policy, "order_up_to", [])))
            rows.append(
                f"| {preset} | {name} | {found['return'].mean():.1f} ± "
                f"{found['return'].std() / 10:.1f} (s.e.) | {reference} | "
                f"service {found['service_level'].mean():.3f}; levels {levels.astype(int).tolist()} |"
            )
        static = stock.tune_base_stock(chain, range(1000, 1100), capped=True)
        found = stock.evaluate(chain, static, demand)["return"]
        rows.append(
            f"| {preset} | static base-stock, capped | {found.mean():.1f} ± {found.std() / 10:.1f} "
            f"(s.e.) | - | levels {static.levels.astype(int).tolist()}; with capped orders "
            "unfilled orders between stages cannot arise |"
        )
        bound = stock.perfect_information_bound(chain, demand)
        rows.append(
            f"| {preset} | perfect information (LP knowing the path) | {bound.mean():.1f} ± "
            f"{bound.std() / 10:.1f} (s.e.) | - | an upper bound on every policy, path by path |"
        )
        if rollout_paths:
            rows.append(rollout_row(preset, policies["capped_base_stock"], rollout_paths))
    return rows


def baseline(metrics: dict[str, float], name: str, metric: str) -> float | None:
    """``baseline/<name>/<metric>`` of a run's results, or its name before the rename
    (``<name>_<metric>``) in runs evaluated before it; None when the run has neither."""
    return metrics.get(f"baseline/{name}/{metric}", metrics.get(f"{name}_{metric}"))


def run_rows(runs: list[Path]) -> list[str]:
    import yaml

    rows = []
    for run in runs:
        results = json.loads((run / "eval" / "results.json").read_text())
        config = yaml.safe_load((run / "config.yaml").read_text())
        metrics, step, env = results["metrics"], results["step"], config["env"]
        backend = config.get("backend", "sb3")
        if results["task"] == "warehouse_inventory":
            preset = env["preset"]
            capped = baseline(metrics, "capped_base_stock", "profit")
            action = env["action"] + (" + capped orders" if env.get("cap_orders") else "")
            rows.append(
                f"| {preset} | PPO {action} ({backend}, {step:,} steps, seed {config['seed']}) | "
                f"{metrics['profit']:.1f} | {STOCK_REFERENCE[(preset, 'trained')]} (PPO, 400k); "
                f"goal >= {RL_GOAL[preset]} | service {metrics['service_level']:.3f}; on the "
                "same paths time-aware base-stock "
                f"{baseline(metrics, 'time_aware_base_stock', 'profit'):.1f}"
                + (f", capped {capped:.1f} |" if capped is not None else " |")
            )
        else:
            key = (env["size"], env["n_robots"])
            sampled = "argmax" if metrics.get("deterministic", 1.0) else "sampled actions"
            if not metrics.get("deterministic", 1.0) and metrics.get("temperature", 1.0) != 1.0:
                sampled += f" at temperature {metrics['temperature']:g}"
            window = 2 * env.get("sensor_range", 1) + 1
            seen = f"{window}x{window} window" + (
                " + job paths" if env.get("observe_paths") else ""
            )
            greedy = baseline(metrics, "greedy", "deliveries")
            rows.append(
                f"| {key[0]}-{key[1]}ag | {config['algo']['name']} shared ({backend}, "
                f"{step:,} robot-steps, seed {config['seed']}, {seen}, {sampled}) | "
                f"{metrics['deliveries']:.1f} | greedy {greedy:.1f} here; "
                f"MAPPO ~{MAPPO_REFERENCE.get(key, '-')} | "
                f"{metrics['fraction_of_greedy']:.2f} of greedy |"
            )
    return rows


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--rollout-paths", type=int, default=100)
    parser.add_argument("--runs", type=Path, nargs="*", default=[])
    args = parser.parse_args(argv)
    lines = [
        "# Warehouse baselines and learning",
        "",
        "## Robots: deliveries per 500 steps (rules=rware, seeds 0..N-1)",
        "",
        "| config | policy | ours | reference | cost |",
        "|---|---|---|---|---|",
        *greedy_rows(args.episodes),
        "",
        "## Inventory: discounted profit per episode (seeds 0-99)",
        "",
        "| preset | policy | ours | reference | notes |",
        "|---|---|---|---|---|",
        *stock_rows(args.rollout_paths),
    ]
    learned = kept_rows(run_rows(args.runs))
    if learned:
        lines += [
            "",
            "## Learned agents (task runs)",
            "",
            "| env | agent | result | reference | notes |",
        ]
        lines += ["|---|---|---|---|---|", *learned]
    lines += NOTES
    table = "\n".join(lines) + "\n"
    print(table)
    RESULTS.write_text(table)
    return table


def kept_rows(new: list[str]) -> list[str]:
    """``new`` plus the previous file's learned rows of the kinds (inventory presets, robot
    warehouses) that ``new`` has none of, so rerunning one kind keeps the other's results."""

    def kind(row: str) -> str:
        return "inventory" if row.startswith("| orgym_") else "robots"

    if not RESULTS.exists():
        return new
    text = RESULTS.read_text().split("## Learned agents (task runs)")
    old = [r for r in text[-1].splitlines() if r.startswith("| ") and "---" not in r][1:]
    rerun = {kind(row) for row in new}
    kept = [row for row in old if kind(row) not in rerun] if len(text) > 1 else []
    inventory = [r for r in new + kept if kind(r) == "inventory"]
    return inventory + [r for r in new + kept if kind(r) == "robots"]


if __name__ == "__main__":
    main()
