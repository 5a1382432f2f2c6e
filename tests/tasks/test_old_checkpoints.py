"""Checkpoints written before the contract refactor (commit 02ce5c9) still load: ``eval``,
``play`` and ``gtp`` work on them with today's code (tests/fixtures/old_checkpoints)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

OLD = REPO / "tests" / "fixtures" / "old_checkpoints"
RUNS = sorted(p for p in OLD.glob("*/*") if p.is_dir())
FAST = {
    "go_small": ["eval.with_search=false", "eval.opponents=[random]"],
    "tictactoe": ["eval.with_search=false", "eval.opponents=[random]"],
    "cartpole": [],
}


@pytest.fixture
def old_run(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A copy of a fixture run folder (evaluation writes into it)."""
    copy = tmp_path / request.param.parent.name / request.param.name
    shutil.copytree(request.param, copy)
    return copy


def test_the_fixtures_are_there() -> None:
    assert {p.parent.name for p in RUNS} == set(FAST) and len(RUNS) == 4


@pytest.mark.slow
@pytest.mark.parametrize("old_run", RUNS, ids=lambda p: f"{p.parent.name}-{p.name[-8:]}",
                         indirect=True)  # fmt: skip
def test_an_old_checkpoint_evaluates(old_run: Path) -> None:
    task = old_run.parent.name
    result = run_cli(task, "eval", f"checkpoint={old_run}", "eval.episodes=2", *FAST[task],
                     "device=cpu")  # fmt: skip
    assert result.returncode == 0, result.stderr
    results = json.loads((old_run / "eval" / "results.json").read_text())
    assert results["step"] > 0 and results["metrics"]


@pytest.mark.parametrize("old_run", [p for p in RUNS if p.parent.name == "go_small"],
                         indirect=True)  # fmt: skip
def test_an_old_go_checkpoint_serves_gtp_and_plays(old_run: Path) -> None:
    served = run_cli("go_small", "gtp", f"checkpoint={old_run}", "search.simulations=0",
                     input="boardsize 7\ngenmove b\nquit\n")  # fmt: skip
    assert served.returncode == 0, served.stderr
    assert served.stdout.split("\n\n")[1].startswith("= ")
    played = run_cli("go_small", "play", f"checkpoint={old_run}", "search.simulations=0",
                     input="D4\nquit\n")  # fmt: skip
    assert played.returncode == 0, played.stderr
    assert "learnloop plays" in played.stdout
    # The old run's config.yaml has keys since removed: a warning each, not an error.
    assert "is ignored" in served.stderr
