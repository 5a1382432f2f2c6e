"""Starting or joining Ray: an empty address starts a fresh local Ray whatever Ray left behind."""

from __future__ import annotations

from typing import Any

import pytest

from agents.backends.ray_cluster import ensure_ray
from tests.optional import require


@pytest.mark.parametrize(
    ("address", "env", "expected"),
    [("", None, "local"), ("", "ray://head:10001", None), ("auto", None, "auto")],
)
def test_which_ray_a_run_starts_or_joins(
    monkeypatch: pytest.MonkeyPatch, address: str, env: str | None, expected: str | None
) -> None:
    ray = require("ray")
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kwargs: calls.append(kwargs))
    if env is None:
        monkeypatch.delenv("RAY_ADDRESS", raising=False)
    else:
        monkeypatch.setenv("RAY_ADDRESS", env)
    assert ensure_ray(address) is True
    (call,) = calls
    assert call["address"] == expected  # "local": a new instance, never a stale head's file
    assert ("num_cpus" in call) == (expected == "local")
