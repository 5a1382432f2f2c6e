"""The generic ``gym`` task: any registered Gymnasium id through the runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.run import main
from tests.conftest import run_cli


@pytest.mark.slow
@pytest.mark.parametrize(("env_id", "algo"), [("Acrobot-v1", "dqn"), ("Pendulum-v1", "sac")])
def test_any_registered_id_trains_evaluates_and_reports(
    runs_dir: Path, env_id: str, algo: str
) -> None:
    args = ["gym", f"env.id={env_id}", f"algo.name={algo}", "train.total_steps=600",
            "train.checkpoint_every=300", "eval.episodes=2", "env.max_episode_steps=100",
            f"runs_dir={runs_dir}"]  # fmt: skip
    assert main(args) == 0
    (run,) = (runs_dir / "gym").iterdir()
    metrics = json.loads((run / "eval" / "results.json").read_text())["metrics"]
    assert {"episode_return", "baseline/random/episode_return"} <= set(metrics)
    assert (run / "checkpoints" / "latest").is_file()
    assert env_id in (run / "report.md").read_text()
    again = run_cli("gym", "eval", f"env.id={env_id}", f"algo.name={algo}", f"runs_dir={runs_dir}")
    assert again.returncode == 0, again.stderr


def test_an_unregistered_id_is_a_one_line_error_with_a_suggestion() -> None:
    result = run_cli("gym", "env.id=Acrobat-v1")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: env.id: 'Acrobat-v1' is not a registered Gymnasium id; did you mean 'Acrobot-v1'?"
    )
