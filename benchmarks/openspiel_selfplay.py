"""OpenSpiel's AlphaZero actor on 7x7 Go, timed: the peer row of ``zero_go.py speed``.

Runs in a Python that has open_spiel (with jax, flax, optax and chex), not learnloop's venv:

    python -m venv /tmp/osvenv && /tmp/osvenv/bin/pip install open_spiel jax flax optax chex
    /tmp/osvenv/bin/python benchmarks/openspiel_selfplay.py --seconds 60

It builds OpenSpiel's own pieces as its actor does (``alpha_zero._init_model_from_config``'s
model: a residual network 32 wide and 4 deep; ``AlphaZeroEvaluator``; ``MCTSBot`` with PUCT,
32 simulations, root noise) and plays self-play games with its ``_play_game`` for the given
time, one process; it prints moves per second as JSON on the last line.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import tempfile
import time


class _Quiet:
    def print(self, *args: object) -> None:
        pass

    def opt_print(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--simulations", type=int, default=32)
    args = parser.parse_args()
    import pyspiel
    from open_spiel.python.algorithms import mcts
    from open_spiel.python.algorithms.alpha_zero import alpha_zero, utils
    from open_spiel.python.algorithms.alpha_zero import evaluator as evaluator_lib

    game = pyspiel.load_game("go", {"board_size": 7, "komi": 9.0})
    with tempfile.TemporaryDirectory() as path:
        model = utils.api_selector("nnx").Model.build_model(
            "resnet", game.observation_tensor_shape(), game.num_distinct_actions(),
            32, 4, 1e-4, 1e-3, path,
        )  # fmt: skip
        evaluator = evaluator_lib.AlphaZeroEvaluator(game, model)
        bot = mcts.MCTSBot(
            game, 2.0, args.simulations, evaluator, solve=False, dirichlet_noise=(0.25, 1.0),
            child_selection_fn=mcts.SearchNode.puct_value, dont_return_chance_node=True,
        )  # fmt: skip
        alpha_zero._play_game(_Quiet(), 0, game, (bot, bot), 1.0, 20)  # compile, warm up
        moves, games, start = 0, 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            trajectory = alpha_zero._play_game(_Quiet(), games, game, (bot, bot), 1.0, 20)
            moves += len(trajectory.states)
            games += 1
        elapsed = time.perf_counter() - start
    version = importlib.metadata.version("open_spiel")
    print(json.dumps({"version": version, "moves_per_s": moves / elapsed, "games": games}))


if __name__ == "__main__":
    main()
