"""Two-player self-play under RLlib: a PettingZoo AEC game as a MultiAgentEnv with roles.

The game goes through RLlib's ``PettingZooEnv`` after one adapter,
:class:`MaskedObservations`, which turns PettingZoo's ``{"observation", "action_mask"}`` (an
int8 mask) into the layout RLlib's masking modules read: ``{"observations":
obs_transform(observation), "action_mask": float32 mask}``. That is the only place the layout
changes.

:class:`SelfPlayMultiAgentEnv` then names the seats by role, per game: the learner's seat is
the agent ``learner``; the other seat is ``snapshot_<k>`` (an opponent RLlib runs with the
frozen weights in slot k: policy mapping is the identity) or a fixed player (random, a
heuristic, minimax, GNU Go) that the env plays itself. Only the module ``learner`` trains. The
backend pushes a snapshot by copying the learner's weights into a slot's module on the learner
group and on every env runner explicitly (RLlib's own weight sync skips modules that do not
train), and tells the envs how many slots are filled (:func:`set_active_snapshots`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from pettingzoo.utils.wrappers import BaseWrapper
from ray.rllib.env.multi_agent_env import MultiAgentEnv
from ray.rllib.env.wrappers.pettingzoo_env import PettingZooEnv

from agents.backends.rllib_agent import MASK_KEY, OBS_KEY

LEARNER = "learner"
ALL = "__all__"


def snapshot_id(slot: int) -> str:
    """The module id (and agent id) of opponent slot ``slot``."""
    return f"snapshot_{slot}"


class MaskedObservations(BaseWrapper):
    """A PettingZoo AEC wrapper: observations become ``{"observations", "action_mask"}``."""

    def __init__(self, env: Any, obs_transform: Callable[[Any], np.ndarray]) -> None:
        super().__init__(env)
        self.obs_transform = obs_transform
        env.reset(seed=0)
        first = env.possible_agents[0]
        sample = self._planes(env.observe(first)["observation"])
        inner = env.observation_space(first)["observation"]
        low, high = (float(np.min(inner.low)), float(np.max(inner.high)))
        n = int(env.action_space(first).n)
        self._space = gym.spaces.Dict({
            OBS_KEY: gym.spaces.Box(low, high, sample.shape, np.float32),
            MASK_KEY: gym.spaces.Box(0.0, 1.0, (n,), np.float32),
        })  # fmt: skip

    def _planes(self, observation: Any) -> np.ndarray:
        return np.asarray(self.obs_transform(observation), dtype=np.float32)

    def observation_space(self, agent: str) -> gym.spaces.Dict:
        return self._space

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        obs = self.env.observe(agent)
        mask = np.asarray(obs["action_mask"], dtype=np.float32)
        return {OBS_KEY: self._planes(obs["observation"]), MASK_KEY: mask}


class SelfPlayMultiAgentEnv(MultiAgentEnv):
    """A two-player AEC game whose seats are the learner and a pool opponent, per game.

    ``fixed`` maps names to player factories (``seed -> (planes, mask) -> action``); players
    with ``reset()`` / ``observe(action)`` follow the game as in :mod:`agents.selfplay`. With
    probability ``fixed_share`` (always while no snapshot slot is filled) the opponent is a
    fixed player, drawn uniformly; otherwise a filled snapshot slot, drawn uniformly. The
    learner's seat is drawn per game, so it learns both colours.
    """

    def __init__(
        self,
        make_game: Callable[[], Any],
        obs_transform: Callable[[Any], np.ndarray],
        fixed: dict[str, Callable[[int], Any]],
        fixed_share: float,
        slots: int,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if not fixed:
            raise ValueError("self-play under RLlib needs at least one fixed opponent")
        if slots < 1:
            raise ValueError(f"slots must be >= 1, got {slots}")
        self.game = PettingZooEnv(MaskedObservations(make_game(), obs_transform))
        self.seats = list(self.game.possible_agents)
        if len(self.seats) != 2:
            raise ValueError(f"self-play needs a two-player game, got agents {self.seats}")
        self.fixed_factories = fixed
        self.fixed_share = fixed_share
        self.snapshot_slots = [snapshot_id(k) for k in range(slots)]  # opponent modules
        self.possible_agents = [LEARNER, *self.snapshot_slots]
        self.agents = []
        space = self.game.observation_spaces[self.seats[0]]
        actions = self.game.action_spaces[self.seats[0]]
        self.observation_spaces = dict.fromkeys(self.possible_agents, space)
        self.action_spaces = dict.fromkeys(self.possible_agents, actions)
        self.observation_space = gym.spaces.Dict(self.observation_spaces)
        self.action_space = gym.spaces.Dict(self.action_spaces)
        self.active_snapshots = 0
        self.round_slot: int | None = None  # the snapshot this sampling round plays (see below)
        self.rng = np.random.default_rng(seed)
        self.players: dict[str, Any] = {}  # this env's own instances of the fixed players
        self.opponent_name = ""

    # -- choosing the game ----------------------------------------------------------------------

    def _draw_opponent(self) -> str:
        if not self.active_snapshots or self.rng.random() < self.fixed_share:
            names = sorted(self.fixed_factories)
            return names[int(self.rng.integers(len(names)))]
        if self.round_slot is not None and self.round_slot < self.active_snapshots:
            return snapshot_id(self.round_slot)
        return snapshot_id(int(self.rng.integers(self.active_snapshots)))

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        learner_seat = int(self.rng.integers(2))
        self.opponent_name = self._draw_opponent()
        self.fixed_player = None
        if not self.opponent_name.startswith("snapshot_"):
            if self.opponent_name not in self.players:
                self.players[self.opponent_name] = self.fixed_factories[self.opponent_name](0)
            self.fixed_player = self.players[self.opponent_name]
            self.fixed_player.seed(int(self.rng.integers(2**31)))
            self.fixed_player.reset()
        opponent_role = self.opponent_name if self.fixed_player is None else None
        self.roles = {
            self.seats[learner_seat]: LEARNER,
            self.seats[1 - learner_seat]: opponent_role,
        }
        obs, _ = self.game.reset(seed=int(self.rng.integers(2**31)))
        obs, rewards, terminated, truncated, _ = self._play_fixed(obs, {}, {}, {})
        self.agents = [role for role in self.roles.values() if role is not None]
        info = {"opponent": self.opponent_name}
        return self._by_role(obs), {role: info for role in self._by_role(obs)}

    # -- playing --------------------------------------------------------------------------------

    def _fixed_seat(self) -> str | None:
        return next((seat for seat, role in self.roles.items() if role is None), None)

    def _observe_move(self, action: int) -> None:
        if self.fixed_player is not None:
            self.fixed_player.observe(action)

    def _play_fixed(self, obs: dict, rewards: dict, terminated: dict, truncated: dict) -> tuple:
        """Let the fixed player move while it is its turn; merge what each move returned."""
        seat = self._fixed_seat()
        infos: dict = {}
        while seat is not None and self.game.env.agents and self.game.env.agent_selection == seat:
            mine = obs[seat]
            action = int(self.fixed_player(mine[OBS_KEY], mine[MASK_KEY] > 0))
            self._observe_move(action)
            obs, step_rewards, terminated, truncated, infos = self.game.step({seat: action})
            for agent, reward in step_rewards.items():
                rewards[agent] = rewards.get(agent, 0.0) + float(reward)
        return obs, rewards, terminated, truncated, infos

    def step(self, action_dict: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        seat = self.game.env.agent_selection
        role = self.roles[seat]
        if role not in action_dict:
            raise ValueError(f"expected an action for {role!r} ({seat}), got {sorted(action_dict)}")
        action = int(action_dict[role])
        self._observe_move(action)
        obs, rewards, terminated, truncated, _ = self.game.step({seat: action})
        rewards = {agent: float(reward) for agent, reward in rewards.items()}
        if self.game.env.agents:
            obs, rewards, terminated, truncated, _ = self._play_fixed(
                obs, rewards, terminated, truncated
            )
        done = not self.game.env.agents
        out_terminated = self._by_role(terminated)
        out_truncated = self._by_role(truncated)
        out_terminated[ALL] = done and not any(out_truncated.values())
        out_truncated[ALL] = done and not out_terminated[ALL]
        infos = {}
        if done:
            infos = {LEARNER: {"opponent": self.opponent_name}}
            self.agents = []
        return self._by_role(obs), self._by_role(rewards), out_terminated, out_truncated, infos

    def _by_role(self, per_seat: dict) -> dict:
        return {self.roles[s]: v for s, v in per_seat.items() if self.roles.get(s) is not None}

    def close(self) -> None:
        for player in self.players.values():
            player.close()
        self.game.close()


def _selfplay_envs(env_runner: Any) -> list[SelfPlayMultiAgentEnv]:
    vector = getattr(env_runner, "env", None)
    envs = [getattr(env, "unwrapped", env) for env in getattr(vector, "envs", [])]
    return [env for env in envs if isinstance(env, SelfPlayMultiAgentEnv)]


def set_active_snapshots(env_runner: Any, count: int) -> None:
    """Tell every self-play env of an env runner how many snapshot slots hold weights."""
    for env in _selfplay_envs(env_runner):
        env.active_snapshots = count


def next_round(env_runner: Any = None, **kwargs: Any) -> None:
    """RLlib ``on_sample_end`` callback: draw the snapshot the runner's next round plays.

    RLlib runs each module once per vector step, and on a small board network a call costs
    about the same for 1 position as for 8; with every env free to face a different snapshot,
    a step ran up to one call per snapshot. One snapshot per env runner per sampling round
    keeps it to two calls (learner + opponent); over rounds the draw is still uniform.
    """
    envs = _selfplay_envs(env_runner)
    if envs and envs[0].active_snapshots:
        slot = int(envs[0].rng.integers(envs[0].active_snapshots))
        for env in envs:
            env.round_slot = slot
