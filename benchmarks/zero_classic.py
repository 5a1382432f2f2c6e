"""AlphaZero on tic-tac-toe and connect four: train as a user would, then play minimax.

    python benchmarks/zero_classic.py [--games 40] [--seeds 0,1,2] [--tasks tictactoe]
        [--write] [--section zero_classic_tictactoe]

For each training seed: ``python -m tasks.run tictactoe algo.name=alphazero`` and
``python -m tasks.run configs/connect_four_zero.yaml`` (their default budgets), timed; then the
network alone and network + search against perfect minimax (tic-tac-toe) and the 2-ply minimax
(connect four), ``--games`` games each, both colours, from seeds the runs' own evaluations do
not use (held out: the runs evaluate from 10,000 + seed, these from 50,000). Goals (issue 17):
tic-tac-toe never loses to perfect play within 2 minutes of training; connect four >= 90%
against the 2-ply minimax with search within 10 minutes.
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

from benchmarks.sections import write_section  # noqa: E402

RUNS = {
    "tictactoe": (["tictactoe", "algo.name=alphazero"], "minimax"),
    "connect_four": ([str(REPO / "configs" / "connect_four_zero.yaml")], "minimax"),
}


def train(task: str, seed: int, runs_dir: Path) -> tuple[Path, float, float]:
    """(run folder, wall minutes of the whole command, training minutes)."""
    from tasks.run import main
    from tasks.runner.runs import read_metrics

    args, _ = RUNS[task]
    start = time.perf_counter()
    if main([*args, f"seed={seed}", f"runs_dir={runs_dir}"]) != 0:
        raise SystemExit(f"{task} seed {seed} failed")
    wall = (time.perf_counter() - start) / 60
    (run,) = [p for p in (runs_dir / task).iterdir() if p.name.endswith(f"-s{seed}")]
    minutes = [r["time/train_minutes"] for r in read_metrics(run / "metrics.jsonl")
               if "time/train_minutes" in r]  # fmt: skip
    return run, wall, minutes[-1]


def play(task: str, run: Path, games: int, seed: int) -> list[dict]:
    """Rows of the network alone and with search against the task's minimax."""
    from tasks.config import load_config
    from tasks.registry import load_task
    from tasks.runner.session import Session

    job = load_task(task)
    cfg = load_config(job.config_cls, task, run / "config.yaml", [f"checkpoint={run}"])
    agent, _ = Session(job, cfg, []).load_agent()
    opponent = RUNS[task][1]
    rows = []
    for label, player in (("policy", agent.player(deterministic=True)),
                          ("search", job.search_player(cfg, agent, seed))):  # fmt: skip
        result = job.match(cfg, player, opponent, games, seed=50_000 + seed)
        rows.append({"task": task, "train seed": cfg.seed, **job._row(label, opponent, result)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=40)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--tasks", default="tictactoe,connect_four")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--section", default="zero_classic", help="BENCHMARKS.md section")
    args = parser.parse_args()
    from tasks.runner.report import markdown_table

    rows, timings = [], []
    with tempfile.TemporaryDirectory() as folder:
        for task in args.tasks.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                run, wall, minutes = train(task, seed, Path(folder))
                timings.append({"task": task, "train seed": seed, "training min": round(minutes, 2),
                                "whole command min": round(wall, 2)})  # fmt: skip
                rows += play(task, run, args.games, seed)
                print(json.dumps(rows[-2:]), file=sys.stderr)
    markdown = markdown_table(timings) + "\n" + markdown_table(rows)
    print(markdown)
    if args.write:
        write_section(args.section, markdown)


if __name__ == "__main__":
    main()
