"""The Go rules check runs clean on a small count, and notices a broken engine."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.benchmarks import load_benchmark

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "go_rules_check.py"


def load_check() -> ModuleType:
    """benchmarks/go_rules_check.py as a module."""
    return load_benchmark("go_rules_check")


@pytest.fixture(scope="module")
def check() -> ModuleType:
    """The check module; skips locally (fails in CI, which installs it) without GNU Go."""
    module = load_check()
    if module.find_gnugo("gnugo") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must install GNU Go: {module.INSTALL_HINT}")
        pytest.skip(module.INSTALL_HINT)
    return module


def run_script(*args: str) -> subprocess.CompletedProcess:
    """Run the check the way CI and users do."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_two_hundred_games_on_four_sizes_agree_with_gnugo_and_sgfmill(check):
    result = run_script("--games", "200", "--sizes", "5,7,9,13", "--seed", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| games | 50 | 50 | 50 | 50 | 200 |" in result.stdout
    assert "| mismatches (all kinds) | 0 | 0 | 0 | 0 | 0 |" in result.stdout


def test_an_engine_without_superko_is_caught(check, monkeypatch):
    # Simple ko only: a position GNU Go's positional superko forbids gets played (seed 4,
    # fifth 5x5 game), which must show up as a legality mismatch and a non-zero exit.
    monkeypatch.setattr(check, "GoGame", functools.partial(check.GoGame, superko=False))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = check.main(["--games", "5", "--sizes", "5", "--seed", "4"])
    assert code == 1
    assert "MISMATCH legality (legal for us)" in out.getvalue()


def test_missing_gnugo_exits_2_with_install_hint():
    result = run_script("--games", "1", "--gnugo", "/nonexistent/gnugo")
    assert result.returncode == 2
    assert "apt-get install gnugo" in result.stderr


def test_gnugo_scores_are_parsed():
    check = load_check()
    assert check.parse_score("B+3.0") == 3.0
    assert check.parse_score("W+0.5") == -0.5
    assert check.parse_score("0") == 0.0
