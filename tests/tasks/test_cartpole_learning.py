"""The cartpole task's default budget solves CartPole (mean return >= 475) at seed 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.run import main


@pytest.mark.slow
def test_default_cartpole_run_solves_the_task(runs_dir: Path) -> None:
    assert main(["cartpole", f"runs_dir={runs_dir}", "seed=0"]) == 0
    (run,) = (runs_dir / "cartpole").iterdir()
    metrics = json.loads((run / "eval" / "results.json").read_text())["metrics"]
    assert metrics["episode_return"] >= 475
    assert metrics["baseline/random/episode_return"] < 100
