"""Shared test helpers: run the CLI in a subprocess, the way a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    """``python -m tasks.run ARGS`` from the repository root; returns the finished process."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tasks.run", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    """A fresh runs folder for one test."""
    path = tmp_path / "runs"
    path.mkdir()
    return path
