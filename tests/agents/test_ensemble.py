"""QEnsemble: the greedy action of its members' mean Q-values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from agents.base import Agent
from agents.ensemble import QEnsemble


class FixedQ(Agent):
    """Q-values that do not depend on the observation."""

    def __init__(self, values: list[float]) -> None:
        self.values = np.asarray(values, dtype=np.float64)

    def q_values(self, obs: Any) -> np.ndarray:
        return np.tile(self.values, (len(obs), 1))

    def act(self, obs: Any, action_mask: Any = None, deterministic: bool = True) -> Any:
        return int(self.values.argmax())


def test_the_mean_outvotes_a_member_that_overrates_an_action() -> None:
    careful = FixedQ([1.0, 0.9, 0.0])
    reckless = FixedQ([0.0, 0.5, 2.0])  # alone it picks action 2
    other = FixedQ([1.0, 0.8, 0.1])
    ensemble = QEnsemble([careful, reckless, other])
    obs = np.zeros(4, np.float32)
    assert reckless.act(obs) == 2
    assert np.allclose(ensemble.q_values(obs[None]), [[2 / 3, 2.2 / 3, 2.1 / 3]])
    assert ensemble.act(obs) == 1  # the mean, not a vote: action 0 wins two of three members
    assert list(ensemble.act_batch(np.zeros((3, 4)))) == [1, 1, 1]
    assert ensemble.act(obs, action_mask=np.array([1, 0, 1])) == 2  # masked: never chosen
    assert ensemble.act({"x": obs}) == 1  # dict observations pass through to the members


def test_an_empty_ensemble_or_a_member_without_q_values_says_so() -> None:
    with pytest.raises(ValueError, match="at least one member"):
        QEnsemble([])

    class NoQ(Agent):
        def act(self, obs: Any, action_mask: Any = None, deterministic: bool = True) -> Any:
            return 0

    with pytest.raises(NotImplementedError, match="NoQ does not give Q-values"):
        QEnsemble([NoQ()]).act(np.zeros(2))
