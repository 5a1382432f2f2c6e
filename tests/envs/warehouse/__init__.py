"""Tests of the warehouse envs, and :func:`require` for tests with optional dependencies."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def require(module: str) -> ModuleType:
    """Import an optional dependency; without it the test is skipped, except under CI
    (``CI=true``), which installs every extra: there the ImportError fails the test."""
    if os.environ.get("CI", "").lower() == "true":
        return importlib.import_module(module)
    return pytest.importorskip(module)
