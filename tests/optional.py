"""Optional dependencies of tests: skipped without them locally, failing under CI.

``.ci/run`` installs every extra and GNU Go, so under ``CI=true`` a missing dependency is a
broken set-up that must fail the run, not a test quietly skipped.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def under_ci() -> bool:
    """Whether this runs under CI (``CI=true``)."""
    return os.environ.get("CI", "").lower() == "true"


def require(module: str) -> ModuleType:
    """Import an optional dependency; without it the test is skipped, except under CI, where
    the ImportError fails the test."""
    if under_ci():
        return importlib.import_module(module)
    return pytest.importorskip(module)


def require_gnugo() -> str:
    """The GNU Go executable; skips without it locally, fails under CI."""
    from agents.baselines.go import INSTALL_HINT, find_gnugo

    path = find_gnugo()
    if path is None:
        if under_ci():
            pytest.fail(f"GNU Go is missing under CI: {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    return path
