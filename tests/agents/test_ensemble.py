"""QEnsemble: the greedy action of its members' mean Q-values; CriticEnsemble: the members'
greedy action that their critics rate best on average."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from agents.base import Agent
from agents.ensemble import CriticEnsemble, QEnsemble


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


class Steerer(Agent):
    """Proposes one fixed steering action; its critic likes actions near ``liked``."""

    def __init__(self, action: float, liked: float) -> None:
        self.action, self.liked = action, liked

    def act_batch(self, obs: Any, action_masks: Any = None, deterministic: bool = True) -> Any:
        return np.full((len(obs), 1), self.action, np.float32)

    def action_values(self, obs: Any, actions: np.ndarray) -> np.ndarray:
        return -np.abs(np.asarray(actions)[:, 0] - self.liked)

    def act(self, obs: Any, action_mask: Any = None, deterministic: bool = True) -> Any:
        return self.act_batch(np.asarray(obs)[None])[0]


def test_the_critics_pick_among_the_actors_greedy_actions() -> None:
    # Two members steer left, one hard right; their critics, on average, prefer slight left:
    # the ensemble plays the proposal the mean critic rates best, not an average of actions.
    members = [Steerer(-0.2, -0.1), Steerer(-0.6, -0.3), Steerer(0.9, 0.8)]
    ensemble = CriticEnsemble(members)
    obs = np.zeros((3, 2), np.float32)
    assert ensemble.act_batch(obs).tolist() == [[np.float32(-0.2)]] * 3
    # mean critic: -0.2 scores -(0.1 + 0.1 + 1.0) / 3, -0.6 -(0.5 + 0.3 + 1.4) / 3, 0.9
    # -(1.0 + 1.2 + 0.1) / 3; the mean action (0.03) would be none of them
    assert ensemble.act(obs[0]).tolist() == [np.float32(-0.2)]
    lone = CriticEnsemble([members[2]])
    assert lone.act(obs[0]).tolist() == [np.float32(0.9)]  # one member: its own action
    with pytest.raises(ValueError, match="at least one member"):
        CriticEnsemble([])
    with pytest.raises(NotImplementedError, match="FixedQ does not value actions"):
        CriticEnsemble([FixedQ([0.0])]).act_batch(obs)


class RowSteerer(Agent):
    """Proposes one fixed steering action; its critic likes actions near the observation's
    first number (``obs["x"]`` for a dict observation), row by row."""

    def __init__(self, action: float) -> None:
        self.action = action

    def act_batch(self, obs: Any, action_masks: Any = None, deterministic: bool = True) -> Any:
        rows = len(obs["x"]) if isinstance(obs, dict) else len(obs)
        return np.full((rows, 1), self.action, np.float32)

    def action_values(self, obs: Any, actions: np.ndarray) -> np.ndarray:
        x = np.asarray(obs["x"] if isinstance(obs, dict) else obs)[:, 0]
        assert len(x) == len(actions)  # each action beside its own row's observation
        return -np.abs(np.asarray(actions)[:, 0] - x)

    def act(self, obs: Any, action_mask: Any = None, deterministic: bool = True) -> Any:
        raise NotImplementedError


@pytest.mark.parametrize("as_dict", [False, True])
def test_each_row_gets_the_proposal_its_own_observation_favours(as_dict: bool) -> None:
    # Rows want left, right, slightly left and straight: the ensemble answers each row alone,
    # also for dict observations (the critics see every proposal beside its row).
    ensemble = CriticEnsemble([RowSteerer(-0.5), RowSteerer(0.5), RowSteerer(0.0)])
    rows = np.array([[-1.0, 7.0], [1.0, 7.0], [-0.4, 7.0], [0.1, 7.0]], np.float32)
    obs = {"x": rows, "y": np.zeros((4, 3, 3))} if as_dict else rows
    assert ensemble.act_batch(obs)[:, 0].tolist() == [-0.5, 0.5, -0.5, 0.0]
