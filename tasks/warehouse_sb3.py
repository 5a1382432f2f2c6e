"""Parameter sharing for the robots warehouse under Stable-Baselines3.

:func:`make_robot_slots` presents ``B`` warehouses of ``N`` robots (one
``envs.warehouse.vector.RobotsVectorEnv``) as an SB3 ``VecEnv`` of ``B * N`` slots, one per
robot, so a single policy acts for, and learns from, every robot. SB3 then counts steps per
slot: ``train.total_steps`` are robot-steps. :class:`SharedRobotsBackend` is the SB3 backend
training on that vector env instead of one built from per-index Gymnasium envs.

Optional potential-based shaping (Ng et al., 1999) adds ``weight * (gamma * phi(s') - phi(s))``
to each robot's reward, which leaves the optimal policies of the discounted problem unchanged.
``phi`` is the robot's progress through its job cycle, less the steps (moves and turns, around
shelves when loaded) to its next target divided by twice the map's height + width: empty-handed 0
(target: the resting request matched to it, closest pairs first; -1 with none), carrying a
request 0.5 (target: a goal), carrying another shelf -0.25 (target: the free slot matched to it);
``Warehouses.job_potential``, from ``envs.warehouse._paths.jobs``. On RWARE's tiny map lifting a request is then worth about +0.2,
delivering (reward included) and putting the shelf back about 0, and the walks between the
rest; a whole cycle adds nothing beyond the delivery reward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.backends.sb3 import SB3Backend
from agents.base import TrainContext


def job_masks(core: Any) -> np.ndarray:
    """(B, N, 5) bool: the env's masks, with TOGGLE_LOAD kept only where it serves a job:
    lifting a requested shelf, or putting down a shelf that is not requested."""
    masks = core.action_masks().astype(bool)
    b, i = np.indices(core.shelf.shape)
    under = core.shelf_grid[b, core.y, core.x] - 1
    carried = core.shelf
    lift = (carried < 0) & (under >= 0) & core.requested[b, np.maximum(under, 0)]
    drop = (carried >= 0) & ~core.requested[b, np.maximum(carried, 0)]
    masks[..., 4] &= lift | drop
    return masks


def _vec_env_base() -> type:
    from stable_baselines3.common.vec_env import VecEnv

    return VecEnv


def make_robot_slots(
    num_envs: int,
    env_kwargs: dict[str, Any],
    shaping: float = 0.0,
    discount: float = 1.0,
    jobs_only: bool = False,
) -> Any:
    """An SB3 VecEnv with one slot per robot of ``num_envs`` warehouses, shaping rewards with
    ``discount`` as gamma (SB3's ``VecEnv`` is subclassed here, not at import, so importing
    this module does not import SB3)."""
    from envs.warehouse.vector import RobotsVectorEnv

    base = _vec_env_base()

    class RobotSlots(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.warehouses = RobotsVectorEnv(num_envs, **env_kwargs)
            w = self.warehouses
            self.robots = w.n_robots
            self.render_mode = None  # SB3 asks every env for it
            super().__init__(
                num_envs * w.n_robots, w.single_observation_space, w.single_action_space
            )
            self._seed: int | None = None
            self._actions = np.zeros(self.num_envs, dtype=np.int64)
            self._masks = np.ones((self.num_envs, 5), dtype=bool)
            self._phi = np.zeros(self.num_envs)

        def reset(self) -> np.ndarray:
            obs, info = self.warehouses.reset(seed=self._seed)
            self._seed = None
            flat = obs.reshape(self.num_envs, -1)
            self._masks = self._current_masks(info)
            if shaping:
                self._phi = self.warehouses.core.job_potential().reshape(-1)
            return flat

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)

        def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
            obs, rewards, _, truncated, info = self.warehouses.step(self._actions)
            flat = obs.reshape(self.num_envs, -1)
            rewards = rewards.reshape(self.num_envs).astype(np.float32)
            dones = np.repeat(truncated, self.robots)
            infos: list[dict] = [{} for _ in range(self.num_envs)]
            final = None
            if truncated.any():
                final = np.array(flat)
                final[dones] = info["final_observation"].reshape(-1, flat.shape[1])
                for slot in np.flatnonzero(dones):
                    infos[slot]["terminal_observation"] = final[slot]
                    infos[slot]["TimeLimit.truncated"] = True
            if shaping:  # the last step of an episode is not shaped (its state was reset)
                now = self.warehouses.core.job_potential().reshape(-1)
                rewards += shaping * np.where(dones, 0.0, discount * now - self._phi)
                self._phi = now
            self._masks = self._current_masks(info)
            return flat, rewards, dones, infos

        def _current_masks(self, info: dict) -> np.ndarray:
            masks = job_masks(self.warehouses.core) if jobs_only else info["action_mask"]
            return masks.reshape(self.num_envs, 5).astype(bool)

        def action_masks(self) -> np.ndarray:
            """(slots, 5) bool masks, for MaskablePPO."""
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

    return RobotSlots()


class SharedRobotsBackend(SB3Backend):
    """SB3 training on robot slots (parameter sharing); all but the vector env is SB3Backend's."""

    def __init__(self, env_kwargs: dict[str, Any], shaping: float, jobs_only: bool) -> None:
        self.env_kwargs, self.shaping, self.jobs_only = env_kwargs, shaping, jobs_only

    def make_vec_env(self, ctx: TrainContext) -> Any:
        """The robot slots of ``ctx.algo.n_envs`` warehouses, under a VecMonitor."""
        from stable_baselines3.common.vec_env import VecMonitor

        slots = make_robot_slots(
            ctx.algo.n_envs, self.env_kwargs, self.shaping, ctx.algo.gamma, self.jobs_only
        )
        vec_env = VecMonitor(slots)
        vec_env.seed(ctx.seed)
        return vec_env
