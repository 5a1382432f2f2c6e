"""Which of AlphaZero's pieces help on 7x7 Go at a small budget: one-core runs side by side.

    python benchmarks/zero_ablation.py --minutes 8 "aux_on:" "aux_off:ownership_weight=0,score_weight=0"
    python benchmarks/zero_ablation.py --minutes 8 "stones:features=stones" "tactics:features=tactics"

Each variant (``name:key=value,...`` over ZeroConfig's keys, plus ``features``, ``channels``
and ``blocks``) trains go_small's AlphaZero loop in one process on one core for ``--minutes``
of training (evaluation time not counted), from the default config's settings; every
``--every`` seconds the network alone plays 20 games against the heuristic and against GNU Go
level 1 (both colours, paired 2-move openings from seed 100: these are tuning runs). Run two
variants at once on a 2-core machine (``--jobs 2``). Prints a Markdown table of the last
evaluation of each variant (``--write`` puts it in BENCHMARKS.md under ``--section``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.sections import write_section  # noqa: E402

BASE = {"train_ratio": "8", "learning_rate": "0.005"}  # as configs/go_small.yaml


def run_variant(name: str, changes: dict[str, str], minutes: float, every: float) -> list[dict]:
    """Train one variant here; returns its evaluations (one dict each)."""
    import torch

    from agents.base import GreedyPlayer
    from agents.baselines.go import GnuGoPlayer, HeuristicGoPlayer
    from agents.selfplay import play_match
    from agents.zero.config import ZeroConfig
    from agents.zero.loop import ZeroLoop
    from agents.zero.network import NetworkShape, ZeroNet, make_evaluate
    from envs.go import env as go_env
    from envs.go.kernels import GoPositions

    torch.set_num_threads(1)
    changes = {**BASE, **changes}
    features = changes.pop("features", "liberties")
    shape = {"channels": int(changes.pop("channels", 32)), "blocks": int(changes.pop("blocks", 4))}
    config = ZeroConfig()
    for key, value in changes.items():
        kind = type(getattr(config, key))
        setattr(config, key, value.lower() == "true" if kind is bool else kind(value))
    positions = GoPositions(7, komi=9.0, features=features)
    net = ZeroNet(NetworkShape(*positions.obs_shape, positions.num_actions, **shape))
    loop = ZeroLoop(positions, net, config, seed=0, device="cpu")

    def make_game() -> object:
        return go_env(board_size=7, komi=9.0, features=features, score_at_cap=True)

    rows, spent, next_eval, started = [], 0.0, every, time.monotonic()
    while True:
        trained = time.monotonic() - started - spent
        loop.play()
        loop.train(min(trained / (minutes * 60), 1.0))
        if trained < next_eval and trained < minutes * 60:
            continue
        next_eval += every
        metrics, paused = loop.metrics(), time.monotonic()
        player = GreedyPlayer(_probabilities(make_evaluate(loop.net)))
        heuristic = play_match(make_game, player, HeuristicGoPlayer(7, 9.0), 20, seed=100,
                               opening_moves=2)  # fmt: skip
        gnugo = GnuGoPlayer(7, 9.0, level=1)
        try:
            level1 = play_match(make_game, player, gnugo, 20, seed=100, opening_moves=2)
        finally:
            gnugo.close()
        spent += time.monotonic() - paused
        rows.append({
            "variant": name, "train s": round(trained), "moves": loop.step,
            "value loss": round(metrics.get("losses/value_loss", float("nan")), 3),
            "vs heuristic": heuristic["score"],
            "vs gnugo1 W-D-L": f"{level1['wins']}-{level1['draws']}-{level1['losses']}",
            "gnugo1 margin": round(level1.get("mean_margin", 0.0), 1),
        })  # fmt: skip
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        if trained >= minutes * 60:
            return rows


def _probabilities(evaluate: object) -> object:
    import numpy as np

    return lambda planes, masks: np.exp(evaluate(planes, masks)[0])


def parse(variant: str) -> tuple[str, dict[str, str]]:
    name, _, rest = variant.partition(":")
    changes = dict(item.split("=", 1) for item in rest.split(",") if item)
    return name, changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", help="name:key=value,... (at least one)")
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--every", type=float, default=240.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--one", default="", help=argparse.SUPPRESS)  # a child process's variant
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--section", default="zero_ablation")
    args = parser.parse_args()
    if args.one:
        name, changes = parse(args.one)
        print(json.dumps(run_variant(name, changes, args.minutes, args.every)))
        return
    if not args.variants:
        parser.error("name at least one variant, e.g. 'aux_off:ownership_weight=0'")
    rows: list[dict] = []
    pending = list(args.variants)
    while pending:
        batch, pending = pending[: args.jobs], pending[args.jobs :]
        children = [
            subprocess.Popen(
                [sys.executable, __file__, "--one", v, "--minutes", str(args.minutes),
                 "--every", str(args.every)],
                stdout=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
            )
            for v in batch
        ]  # fmt: skip
        for child in children:
            out, _ = child.communicate()
            rows += json.loads(out.strip().splitlines()[-1])
    from tasks.runner.report import markdown_table

    markdown = markdown_table(rows)
    print(markdown)
    if args.write:
        write_section(args.section, markdown)


if __name__ == "__main__":
    main()
