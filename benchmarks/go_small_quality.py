"""How strong is a trained go_small agent, and how fast does go_small train?

Strength: loads a go_small checkpoint (default: the newest run under ./runs) and plays it,
with tree search (``--simulations``) and without, against random, the heuristic and GNU Go
at the given levels, both colours, over random openings. Throughput: trains go_small and
cartpole (SB3 PPO) for the same number of steps in this process and prints both rates and
their ratio (goal: go_small >= 70% of cartpole).

    python benchmarks/go_small_quality.py strength [--checkpoint PATH] [--games 40]
        [--simulations N] [--levels 1,10] [--opponents random,heuristic] [key=value ...]
    python benchmarks/go_small_quality.py throughput [--steps 20000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def strength(args: argparse.Namespace) -> None:
    """Print a Markdown table of matches for a checkpoint."""
    from tasks.boardgames.go import GoSmallTask
    from tasks.config import load_config
    from tasks.registry import load_task, task_yaml
    from tasks.runner.session import Session

    task: GoSmallTask = load_task("go_small")  # type: ignore[assignment]
    overrides = ["device=cpu", *args.overrides]
    if args.simulations:
        overrides.append(f"search.simulations={args.simulations}")
    if args.checkpoint:
        overrides.append(f"checkpoint={args.checkpoint}")
    cfg = load_config(task.config_cls, "go_small", task_yaml("go_small"), overrides)
    agent, checkpoint = Session(task, cfg, []).load_agent()
    print(f"checkpoint: {checkpoint}\n{task.describe_search(cfg)}\n")
    players = {"policy": agent.player(deterministic=True), "search": task.search_player(cfg, agent)}
    opponents = [o for o in args.opponents.split(",") if o]
    opponents += [f"gnugo{level}" for level in args.levels.split(",") if level]
    rows = []
    for opponent in opponents:
        for label, player in players.items():
            if label == "policy" and opponent.startswith("gnugo") and not args.policy_vs_gnugo:
                continue
            start = time.perf_counter()
            result = task.match(cfg, player, opponent, args.games, seed=args.seed)
            rows.append(task._row(label, opponent, result) | {"s": time.perf_counter() - start})
            print(json.dumps(rows[-1]), file=sys.stderr)
    from tasks.runner.report import markdown_table

    print(markdown_table(rows))


def _fps(task: str, steps: int, extra: list[str]) -> float:
    from tasks.run import main
    from tasks.runner.runs import read_metrics

    with tempfile.TemporaryDirectory() as runs_dir:
        args = [task, f"runs_dir={runs_dir}", f"train.total_steps={steps}", "eval.episodes=1",
                "device=cpu", "train.checkpoint_every=0", *extra]  # fmt: skip
        if main(args) != 0:
            raise SystemExit(f"{task} failed")
        (run,) = (Path(runs_dir) / task).iterdir()
        rates = [r["time/fps"] for r in read_metrics(run / "metrics.jsonl") if "time/fps" in r]
    return rates[-1]


def throughput(args: argparse.Namespace) -> None:
    """go_small and cartpole training rates, measured back to back in this process."""
    go_extra = ["eval.opponents=[random]", "eval.with_search=false", "eval.every=0"]
    cartpole = _fps("cartpole", args.steps, [])
    go_small = _fps("go_small", args.steps, go_extra)
    print(f"| task | env steps/s |\n|---|---|\n| cartpole (PPO) | {cartpole:,.0f} |")
    print(f"| go_small (self-play MaskablePPO) | {go_small:,.0f} |")
    print(f"\nratio go_small / cartpole: {go_small / cartpole:.2f} (goal >= 0.70)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("strength")
    s.add_argument("--checkpoint", default="")
    s.add_argument("--games", type=int, default=40)
    s.add_argument("--simulations", type=int, default=0, help="0: the config's")
    s.add_argument("--seed", type=int, default=20_000, help="of the first pair of openings")
    s.add_argument("--opponents", default="random,heuristic", help="besides GNU Go")
    s.add_argument("overrides", nargs="*", help="config overrides, e.g. search.kind=puct")
    s.add_argument("--levels", default="1,10")
    s.add_argument("--policy-vs-gnugo", action="store_true")
    t = sub.add_parser("throughput")
    t.add_argument("--steps", type=int, default=20_000)
    args = parser.parse_args()
    strength(args) if args.command == "strength" else throughput(args)


if __name__ == "__main__":
    main()
