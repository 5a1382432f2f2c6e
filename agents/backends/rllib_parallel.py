"""Parallel multi-agent envs (PettingZoo ``ParallelEnv``, e.g. the warehouse robots) under RLlib.

:class:`ParallelAgentsEnv` adapts a ParallelEnv to RLlib's ``MultiAgentEnv``: every agent's
observation becomes ``{"observations": obs, "action_mask": mask}`` (the mask from
``infos[agent]["action_mask"]`` where the env gives one, else all ones), and with
``central_critic`` also ``"state"``: the env's global ``state()``, which only the critic reads
(MAPPO's centralised value function; the actor still sees its own observation). Agents map to
modules by :func:`module_for`: ``shared`` (one policy for every agent: parameter sharing) or
``separate`` (one policy per agent).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from agents.backends.rllib_agent import MASK_KEY, OBS_KEY, STATE_KEY

SHARED = "shared"
POLICIES = ("shared", "separate")
ALL = "__all__"


def module_for(agent_id: str, policies: str) -> str:
    """The module that plays ``agent_id``."""
    return SHARED if policies == "shared" else agent_id


def is_parallel_env(env: Any) -> bool:
    """True for a PettingZoo ParallelEnv (checked without importing RLlib types)."""
    from pettingzoo import ParallelEnv

    return isinstance(env, ParallelEnv)


class ParallelAgentsEnv(MultiAgentEnv):
    """A PettingZoo ParallelEnv as an RLlib MultiAgentEnv with masked (and state) observations."""

    def __init__(self, env: Any, policies: str = "shared", central_critic: bool = False) -> None:
        super().__init__()
        if policies not in POLICIES:
            raise ValueError(f"policies must be one of {POLICIES}, got {policies!r}")
        if central_critic and not hasattr(env, "state"):
            raise ValueError("central_critic needs an env with a global state() method")
        self.env = env
        self.policies = policies
        self.central_critic = central_critic
        self.possible_agents = list(env.possible_agents)
        self.agents: list[str] = []
        spaces = {a: self._space(env, a) for a in self.possible_agents}
        self.observation_spaces = spaces
        self.action_spaces = {a: env.action_space(a) for a in self.possible_agents}
        self.observation_space = gym.spaces.Dict(spaces)
        self.action_space = gym.spaces.Dict(self.action_spaces)
        # The modules: what the backend builds and trains.
        modules = sorted({module_for(a, policies) for a in self.possible_agents})
        self.module_agents = {m: next(a for a in self.possible_agents
                                      if module_for(a, policies) == m) for m in modules}  # fmt: skip
        self.trained_agents = modules

    def _space(self, env: Any, agent: str) -> gym.spaces.Dict:
        inner = env.observation_space(agent)
        n = int(env.action_space(agent).n)
        parts = {OBS_KEY: inner, MASK_KEY: gym.spaces.Box(0.0, 1.0, (n,), np.float32)}
        if self.central_critic:
            state = getattr(env, "state_space", None)
            if state is None:
                sample = np.asarray(env.state(), dtype=np.float32).reshape(-1)
                state = gym.spaces.Box(-np.inf, np.inf, sample.shape, np.float32)
            parts[STATE_KEY] = state
        return gym.spaces.Dict(parts)

    def _wrap(self, observations: dict[str, Any], infos: dict[str, Any]) -> dict[str, dict]:
        state = (
            np.asarray(self.env.state(), np.float32).reshape(-1) if self.central_critic else None
        )
        out = {}
        for agent, obs in observations.items():
            n = int(self.action_spaces[agent].n)
            mask = (infos.get(agent) or {}).get("action_mask")
            mask = np.ones(n, np.float32) if mask is None else np.asarray(mask, np.float32)
            out[agent] = {OBS_KEY: np.asarray(obs, np.float32), MASK_KEY: mask}
            if state is not None:
                out[agent][STATE_KEY] = state
        return out

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        observations, infos = self.env.reset(seed=seed, options=options)
        self.agents = list(self.env.agents)
        return self._wrap(observations, infos), {a: {} for a in observations}

    def step(self, action_dict: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        actions = {agent: int(action) for agent, action in action_dict.items()}
        observations, rewards, terminated, truncated, infos = self.env.step(actions)
        self.agents = list(self.env.agents)
        done = not self.env.agents
        terminated = {**terminated, ALL: done and all(terminated.values())}
        truncated = {**truncated, ALL: done and not terminated[ALL]}
        episode = {a: {"episode": i["episode"]} for a, i in infos.items() if "episode" in i}
        return self._wrap(observations, infos), rewards, terminated, truncated, episode

    def close(self) -> None:
        self.env.close()


class ParallelEnvCreator:
    """Wraps each env of the task's factory (picklable: it travels to the env runners)."""

    def __init__(self, policies: str, central_critic: bool) -> None:
        self.policies = policies
        self.central_critic = central_critic

    def __call__(self, env: Any) -> ParallelAgentsEnv:
        return ParallelAgentsEnv(env, self.policies, self.central_critic)
