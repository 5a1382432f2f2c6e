"""A checkpoint ensemble of Q-learning agents: the greedy action of the mean of their Q-values.

The last few checkpoints of one DQN run disagree in the states where one of them overrates a
risky action; averaging their action values outvotes that one (a checkpoint ensemble, as in
Huang et al. 2017's snapshot ensembles; Anschel et al. 2017 average past Q-networks for the
target). Every member is a learned Q-function of the same run, so the ensemble is still the
learned policy; each acts on its own network, on its own backend's observations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.base import Agent


class QEnsemble(Agent):
    """Acts greedily on the mean of ``members``' Q-values (every member gives ``q_values``);
    ``deterministic=False`` is greedy too (a lone DQN's would explore at random)."""

    def __init__(self, members: Sequence[Agent]) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)

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
        if isinstance(obs, dict):
            batch = {key: np.asarray(value)[None] for key, value in obs.items()}
        else:
            batch = np.asarray(obs)[None]
        masks = None if action_mask is None else np.asarray(action_mask)[None]
        return int(self.act_batch(batch, masks)[0])
