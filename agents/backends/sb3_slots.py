"""Parameter sharing for a parallel multi-agent problem under Stable-Baselines3: agent slots.

A batched parallel env keeps ``B`` copies of an env of ``N`` agents and steps them in one call,
with arrays (B, N, ...) (``envs.warehouse.vector.RobotsVectorEnv`` is one: ``n_agents``,
``single_observation_space``, ``single_action_space``, ``reset(seed)``, ``step(actions)`` with
``info["action_mask"]`` and, for copies that ended and were reset, ``info["final_observation"]``).
:func:`make_agent_slots` presents it as an SB3 ``VecEnv`` of ``B * N`` slots, one per agent, so
that a single policy acts for, and learns from, every agent; SB3 then counts steps per slot
(agent-steps, as RLlib counts them on the same problem). The env applies its own options
(masks, shaping); the slots only reshape. ``SB3Backend`` uses them for a
:class:`~agents.base.ParallelAgents` problem.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _vec_env_base() -> type:
    from stable_baselines3.common.vec_env import VecEnv

    return VecEnv


def make_agent_slots(batched: Any) -> Any:
    """An SB3 VecEnv with one slot per agent of ``batched`` (SB3's ``VecEnv`` is subclassed
    here, not at import, so importing this module does not import SB3)."""
    base = _vec_env_base()

    class AgentSlots(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.batched, self.agents = batched, batched.n_agents
            self.render_mode = None  # SB3 asks every env for it
            super().__init__(
                batched.num_envs * self.agents,
                batched.single_observation_space,
                batched.single_action_space,
            )
            self._seed: int | None = None
            self._actions = np.zeros(self.num_envs, dtype=np.int64)
            self._masks = np.ones((self.num_envs, self.action_space.n), dtype=bool)

        def reset(self) -> np.ndarray:
            obs, info = self.batched.reset(seed=self._seed)
            self._seed = None
            self._masks = self._slot_masks(info)
            return obs.reshape(self.num_envs, -1)

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)

        def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
            shape = (self.batched.num_envs, self.agents)
            obs, rewards, terminated, truncated, info = self.batched.step(
                self._actions.reshape(shape)
            )
            flat = obs.reshape(self.num_envs, -1)
            dones = np.repeat(terminated | truncated, self.agents)
            cut = np.repeat(truncated & ~terminated, self.agents)
            infos: list[dict] = [{} for _ in range(self.num_envs)]
            if dones.any():
                final = np.array(flat)
                final[dones] = info["final_observation"].reshape(-1, flat.shape[1])
                for slot in np.flatnonzero(dones):
                    infos[slot]["terminal_observation"] = final[slot]
                    infos[slot]["TimeLimit.truncated"] = bool(cut[slot])
            self._masks = self._slot_masks(info)
            return flat, rewards.reshape(self.num_envs).astype(np.float32), dones, infos

        def _slot_masks(self, info: dict) -> np.ndarray:
            return info["action_mask"].reshape(self.num_envs, -1).astype(bool)

        def action_masks(self) -> np.ndarray:
            """(slots, actions) bool masks, for MaskablePPO."""
            return self._masks

        def seed(self, seed: int | None = None) -> list[int | None]:
            self._seed = seed
            return [seed] * self.num_envs

        def close(self) -> None:
            pass

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            return [getattr(self, attr_name)] * len(self._indices(indices))

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            setattr(self, attr_name, value)

        def env_method(
            self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any
        ) -> list:
            if method_name == "action_masks":
                return list(self._masks[self._indices(indices)])
            return [getattr(self, method_name)(*args, **kwargs)] * len(self._indices(indices))

        def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
            return [False] * len(self._indices(indices))

        def _indices(self, indices: Any) -> list[int]:
            if indices is None:
                return list(range(self.num_envs))
            return [indices] if isinstance(indices, int) else list(indices)

    return AgentSlots()
