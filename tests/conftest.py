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


class Recorder:
    """A metric sink that keeps every logged line."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, dict[str, float]]] = []

    def log(self, step: int, metrics: dict[str, float]) -> None:
        self.lines.append((step, dict(metrics)))

    def progress(self, step: int) -> None:
        pass

    def values(self, name: str) -> list[float]:
        return [m[name] for _, m in self.lines if name in m]


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    """A fresh runs folder for one test."""
    path = tmp_path / "runs"
    path.mkdir()
    return path
