"""Checkpoint ensembles: the action the mean of several checkpoints' action values rates best.

The last few checkpoints of one run disagree in the states where one of them overrates a risky
action; averaging their action values outvotes that one (a checkpoint ensemble, as in Huang et
al. 2017's snapshot ensembles; Anschel et al. 2017 average past Q-networks for the target).
:class:`QEnsemble` takes Q-learning agents (DQN, QR-DQN) and plays the greedy action of their
mean Q-values; :class:`CriticEnsemble` takes actor-critic agents with continuous actions (SAC)
and plays, among the members' own greedy actions, the one their critics rate best on average
(candidates from the actors, as SUNRISE, Lee et al. 2021, picks among its ensemble's actions
by their Q-values). Every member is a learned policy of the same run, so the ensemble is still
the learned policy; each acts on its own network, on its own backend's observations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.base import Agent


def batch_of_one(obs: Any) -> Any:
    """One observation (an array, or a dict of arrays) as a batch of one."""
    if isinstance(obs, dict):
        return {key: np.asarray(value)[None] for key, value in obs.items()}
    return np.asarray(obs)[None]


def _repeat(obs: Any, times: int) -> Any:
    """A batch of observations (an array, or a dict of arrays) ``times`` over, one after
    another."""
    if isinstance(obs, dict):
        return {key: _repeat(value, times) for key, value in obs.items()}
    return np.concatenate([np.asarray(obs)] * times)


class CheckpointEnsemble(Agent):
    """Agents (``members``, at least one) that act together."""

    def __init__(self, members: Sequence[Agent]) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)


class QEnsemble(CheckpointEnsemble):
    """Acts greedily on the mean of ``members``' Q-values (every member gives ``q_values``);
    ``deterministic=False`` is greedy too (a lone DQN's would explore at random)."""

    def q_values(self, obs: Any) -> np.ndarray:
        return np.mean([member.q_values(obs) for member in self.members], axis=0)

    def act_batch(
        self, obs: Any, action_masks: np.ndarray | None = None, deterministic: bool = True
    ) -> np.ndarray:
        values = self.q_values(obs)
        if action_masks is not None:
            values = np.where(np.asarray(action_masks) > 0, values, -np.inf)
        return values.argmax(axis=-1)

    def act(
        self, obs: Any, action_mask: np.ndarray | None = None, deterministic: bool = True
    ) -> Any:
        masks = None if action_mask is None else np.asarray(action_mask)[None]
        return int(self.act_batch(batch_of_one(obs), masks)[0])


class CriticEnsemble(CheckpointEnsemble):
    """Continuous actions: each member proposes its greedy action; the ensemble plays the one
    with the highest mean over the members of ``action_values`` (each member's critic; SAC's
    the smaller of its twin Q-heads). ``deterministic=False`` is greedy too."""

    def act_batch(
        self, obs: Any, action_masks: np.ndarray | None = None, deterministic: bool = True
    ) -> np.ndarray:
        proposals = np.stack([m.act_batch(obs, deterministic=True) for m in self.members])
        k, rows = len(proposals), len(proposals[0])
        # every proposal beside its own row's observation: one critic call per member
        tiled, stacked = _repeat(obs, k), proposals.reshape(k * rows, *proposals.shape[2:])
        # scores[k, i]: the members' mean value of proposal k in row i
        scores = np.mean([m.action_values(tiled, stacked) for m in self.members], axis=0)
        best = scores.reshape(k, rows).argmax(axis=0)
        return proposals[best, np.arange(rows)]

    def act(
        self, obs: Any, action_mask: np.ndarray | None = None, deterministic: bool = True
    ) -> Any:
        return self.act_batch(batch_of_one(obs))[0]
