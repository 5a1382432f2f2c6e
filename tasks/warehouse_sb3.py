"""Parameter sharing for the robots warehouse under Stable-Baselines3.

:func:`make_robot_slots` presents ``B`` warehouses of ``N`` robots (one
``envs.warehouse.vector.RobotsVectorEnv``) as an SB3 ``VecEnv`` of ``B * N`` slots, one per
robot, so a single policy acts for, and learns from, every robot. SB3 then counts steps per
slot: ``train.total_steps`` are robot-steps. :class:`SharedRobotsBackend` is the SB3 backend
training on that vector env instead of one built from per-index Gymnasium envs.

Optional potential-based shaping (Ng et al., 1999) adds ``weight * (gamma * phi(s') - phi(s))``
to each robot's reward, which leaves the optimal policies unchanged. ``phi`` is the robot's
progress through its job cycle minus its scaled distance to the next target, read from the
``observe_targets`` features: empty-handed 0 (target: the nearest request), carrying a request
0.5 (target: a goal), carrying a delivered shelf -0.25 (target: a free slot). Lifting a request,
delivering (with its reward) and putting a shelf back each raise the shaped return; a whole
cycle adds nothing beyond the delivery reward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.backends.sb3 import SB3Agent, SB3Backend, _make_callback, _metric_writer
from agents.base import Agent, TrainContext, resolve_device
from envs.warehouse import _kernels

PHASE_POTENTIAL = {"empty": 0.0, "request": 0.5, "delivered": -0.25}


def potential(observations: np.ndarray, height: int, width: int) -> np.ndarray:
    """phi for (..., D) observations that end with the 7 ``observe_targets`` features."""
    targets = observations[..., -_kernels.TARGET_FEATURES :]
    loaded = observations[..., 2] > 0.5
    wanted = targets[..., 0] > 0.5
    scale_x, scale_y = max(width - 1, 1), max(height - 1, 1)
    span = float(width + height)

    def distance(column: int) -> np.ndarray:
        dx = np.abs(targets[..., column]) * scale_x
        dy = np.abs(targets[..., column + 1]) * scale_y
        return (dx + dy) / span

    empty = PHASE_POTENTIAL["empty"] - distance(1)
    request = PHASE_POTENTIAL["request"] - distance(3)
    delivered = PHASE_POTENTIAL["delivered"] - distance(5)
    return np.where(loaded, np.where(wanted, request, delivered), empty)


def _vec_env_base() -> type:
    from stable_baselines3.common.vec_env import VecEnv

    return VecEnv


def make_robot_slots(
    num_envs: int, env_kwargs: dict[str, Any], shaping: float = 0.0, gamma: float = 0.99
) -> Any:
    """An SB3 VecEnv with one slot per robot of ``num_envs`` warehouses (SB3's ``VecEnv`` is
    subclassed here, not at import, so importing this module does not import SB3)."""
    from envs.warehouse.vector import RobotsVectorEnv

    base = _vec_env_base()

    class RobotSlots(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.warehouses = RobotsVectorEnv(num_envs, **env_kwargs)
            w = self.warehouses
            if shaping and not w.core.observe_targets:
                raise ValueError("shaping needs observe_targets=True (it reads those features)")
            self.robots = w.n_robots
            self.render_mode = None  # SB3 asks every env for it
            super().__init__(
                num_envs * w.n_robots, w.single_observation_space, w.single_action_space
            )
            self._seed: int | None = None
            self._actions = np.zeros(self.num_envs, dtype=np.int64)
            self._masks = np.ones((self.num_envs, 5), dtype=bool)
            self._phi = np.zeros(self.num_envs)
            layout = w.core.layout
            self._shape = (layout.height, layout.width)

        def reset(self) -> np.ndarray:
            obs, info = self.warehouses.reset(seed=self._seed)
            self._seed = None
            flat = obs.reshape(self.num_envs, -1)
            self._masks = info["action_mask"].reshape(self.num_envs, 5).astype(bool)
            if shaping:
                self._phi = potential(flat, *self._shape)
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
            if shaping:
                now = potential(flat, *self._shape)
                ends = now if final is None else potential(final, *self._shape)
                rewards += shaping * (gamma * ends - self._phi)
                self._phi = now
            self._masks = info["action_mask"].reshape(self.num_envs, 5).astype(bool)
            return flat, rewards, dones, infos

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
    """SB3 training on robot slots (parameter sharing); loading is SB3Backend's."""

    def __init__(self, env_kwargs: dict[str, Any], shaping: float) -> None:
        self.env_kwargs, self.shaping = env_kwargs, shaping

    def train(self, ctx: TrainContext) -> Agent:
        from stable_baselines3.common.logger import Logger
        from stable_baselines3.common.vec_env import VecMonitor

        from agents.backends.sb3 import algorithm_class

        device = resolve_device(ctx.device)
        slots = make_robot_slots(ctx.algo.n_envs, self.env_kwargs, self.shaping, ctx.algo.gamma)
        vec_env = VecMonitor(slots)
        vec_env.seed(ctx.seed)
        cls = algorithm_class(ctx.algo.name)
        if ctx.resume_from is not None:
            model = self._load_model(ctx.resume_from, cls, vec_env, device)
        else:
            model = self._new_model(ctx, cls, vec_env, device)
        model.set_logger(Logger(folder=None, output_formats=[_metric_writer(ctx.logger)]))
        agent = SB3Agent(model)
        remaining = max(0, ctx.total_steps - model.num_timesteps)
        model.learn(
            total_timesteps=remaining,
            callback=_make_callback(ctx, agent),
            reset_num_timesteps=ctx.resume_from is None,
            log_interval=1,
        )
        ctx.save_checkpoint(int(model.num_timesteps), agent.save)
        vec_env.close()
        return agent
