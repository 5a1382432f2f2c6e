"""Under CI a test whose optional dependency is missing fails; locally it is skipped."""

from __future__ import annotations

import pytest

from tests.optional import require, require_gnugo


def test_a_missing_module_fails_under_ci_and_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(ModuleNotFoundError):  # an error: the test that asked fails
        require("learnloop_no_such_module")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require("learnloop_no_such_module")


def test_a_missing_gnu_go_fails_under_ci_and_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    import agents.baselines.go as go_players

    monkeypatch.setattr(go_players, "find_gnugo", lambda *args: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="GNU Go is missing under CI"):
        require_gnugo()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="apt-get install gnugo"):
        require_gnugo()
