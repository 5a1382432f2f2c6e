"""Expert iteration inside self-play training: rounds run on schedule and are logged."""

from __future__ import annotations

import json
from pathlib import Path

from tasks.run import main
from tests.conftest import run_cli


def test_tictactoe_with_expert_iteration_logs_its_rounds(runs_dir: Path) -> None:
    overrides = [
        "train.total_steps=1024", "train.checkpoint_every=1024", "algo.n_envs=2",
        "algo.n_steps=128", "algo.batch_size=64", "algo.n_epochs=1",
        "selfplay.snapshot_every=512", "eval.every=0", "eval.episodes=2",
        "eval.with_search=false", "network.channels=8", "expert.every=512", "expert.games=2",
        "expert.simulations=16", "expert.epochs=3",
    ]  # fmt: skip
    assert main(["tictactoe", f"runs_dir={runs_dir}", *overrides]) == 0
    (run,) = (runs_dir / "tictactoe").iterdir()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    rounds = [row for row in rows if "expert/cross_entropy_before" in row]
    assert len(rounds) == 2  # at 512 and 1024 steps
    for row in rounds:
        assert row["expert/positions"] >= 2 * 5  # two whole games
        assert row["expert/cross_entropy_after"] < row["expert/cross_entropy_before"]


def test_expert_iteration_with_rllib_is_a_config_error() -> None:
    result = run_cli("tictactoe", "backend=rllib", "expert.every=1000")
    assert result.returncode == 2
    assert "expert.every: expert iteration trains SB3 policies" in result.stderr
