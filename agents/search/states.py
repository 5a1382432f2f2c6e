"""Search states: any PettingZoo AEC game seen through the :class:`SearchState` protocol."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np


def clone_env(env: Any) -> Any:
    """An independent copy of an AEC env and its wrappers, game state included.

    ``copy.deepcopy`` is no good here: PettingZoo envs pickle through EzPickle, which rebuilds
    a fresh env from the constructor arguments and drops the position.
    """
    if hasattr(env, "clone") and not hasattr(env, "env"):  # an env that knows how (Go's)
        return env.clone()
    clone = object.__new__(type(env))
    state = dict(env.__dict__)
    if "env" in state and hasattr(state["env"], "possible_agents"):  # a wrapper: clone inside
        state["env"] = clone_env(state["env"])
        clone.__dict__.update(
            {k: copy.copy(v) if isinstance(v, dict | list) else v for k, v in state.items()}
        )
        clone.__dict__["env"] = state["env"]
        return clone
    # Spaces and constructor arguments never change during a game: share them (copying the
    # spaces is most of the cost of a deep copy).
    shared = {k: v for k, v in state.items() if k in _SHARED}
    memo: dict[int, Any] = {id(v): v for v in shared.values()}
    clone.__dict__.update({k: copy.deepcopy(v, memo) for k, v in state.items() if k not in _SHARED})
    clone.__dict__.update(shared)
    return clone


_SHARED = frozenset(
    {
        "action_spaces",
        "observation_spaces",
        "possible_agents",
        "metadata",
        "_ezpickle_args",
        "_ezpickle_kwargs",
        "screen",
    }
)


class AECState:
    """A position of a two-player PettingZoo AEC game, copied by deep copy.

    Works for every AEC env with ``{"observation", "action_mask"}`` observations; games with a
    cheaper copy (Go's engine) can supply their own state class with the same methods.
    """

    def __init__(self, env: Any, obs_transform: Callable[[Any], np.ndarray] | None = None) -> None:
        self.env = env
        self.obs_transform = obs_transform or (lambda o: np.asarray(o, dtype=np.float32))

    def copy(self) -> AECState:
        return AECState(clone_env(self.env), self.obs_transform)

    def _current(self) -> dict:
        return self.env.observe(self.env.agent_selection)

    def legal_mask(self) -> np.ndarray:
        return np.asarray(self._current()["action_mask"], dtype=bool)

    def play(self, action: int) -> None:
        self.env.step(int(action))

    def is_over(self) -> bool:
        env = self.env
        return not env.agents or all(env.terminations[a] or env.truncations[a] for a in env.agents)

    def to_play(self) -> int:
        return self.env.possible_agents.index(self.env.agent_selection)

    def outcome(self, player: int) -> float:
        agent = self.env.possible_agents[player]
        return float(np.sign(self.env._cumulative_rewards.get(agent, 0.0)))

    def observation(self) -> np.ndarray:
        return self.obs_transform(self._current()["observation"]).astype(np.float32, copy=False)

    def rollout(self, u: float) -> float:
        """The result (+1 win, -1 loss, 0 draw) for the player to move after the position is
        played out at random; ``u`` in [0, 1) seeds it. The game's own ``playout(u)`` (a score
        whose sign is the first player's result) is used when it has one, being far faster;
        otherwise uniformly random legal moves are played on a copy."""
        player = self.to_play()
        game = getattr(self.env, "unwrapped", self.env)
        if hasattr(game, "playout"):
            first = float(np.sign(game.playout(u)))
            return first if player == 0 else -first
        state = self.copy()
        rng = np.random.default_rng(int(u * 2**53))
        while not state.is_over():
            state.play(int(rng.choice(np.flatnonzero(state.legal_mask()))))
        return state.outcome(player)
