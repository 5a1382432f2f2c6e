"""Many robots warehouses stepped by one call: arrays in, arrays out.

``RobotsVectorEnv(num_envs, **kwargs)`` takes the keyword arguments of ``RobotsEnv`` and keeps
``num_envs`` warehouses of the same plan. Every array has the warehouse first and the robot
second: actions (B, N) ints, observations (B, N, D) float32, rewards (B, N) float32. A
warehouse that ends is reset in the same call (its last observation is in
``info["final_observation"]``, its counters in ``info["episode"]``), so the returned
observation always starts the next step. Training code that treats each robot as one slot of
a vector env (parameter sharing) reshapes to (B * N, ...).

The options that change the problem (``job_masks``, ``shaping``, ``shaping_gamma``) act as in
``RobotsEnv``: with the same seed and actions, warehouse 0 of a ``RobotsVectorEnv`` gives the
observations, rewards and masks of a ``RobotsEnv`` (rewards here as float32).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding

from envs.warehouse.core import Warehouses
from envs.warehouse.robots import ACTIONS, RobotsEnv
from envs.warehouse.shaping import JobShaping


class RobotsVectorEnv:
    """``num_envs`` robots warehouses of one plan, stepped together (see the module doc)."""

    def __init__(self, num_envs: int, **kwargs: Any) -> None:
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be an int >= 1, got {num_envs!r}")
        # One RobotsEnv checks the arguments and supplies the plan and the spaces.
        template = RobotsEnv(**kwargs)
        one = template.core
        self.core = Warehouses(
            one.layout, one.n_robots, one.request_queue, num_envs, one.rules,
            kwargs.get("reward", "individual"), one.sensor_range, one.observe_targets,
            one.order_lines, one.observe_paths,
        )  # fmt: skip
        self.num_envs, self.n_robots = num_envs, one.n_robots
        self.max_steps = template.max_steps
        self.max_inactivity_steps = template.max_inactivity_steps
        self.seconds_per_step = template.seconds_per_step
        self.single_observation_space = template.observation_space("robot_0")
        self.single_action_space = spaces.Discrete(len(ACTIONS))
        self.job_masks = template.job_masks
        self.shaping = JobShaping(template.shaping.weight, template.shaping.gamma)
        self.steps = np.zeros(num_envs, dtype=np.int64)
        self.idle = np.zeros(num_envs, dtype=np.int64)
        self.np_random, _ = seeding.np_random()

    @property
    def n_agents(self) -> int:
        """Agents per warehouse (the robots), as adapters of multi-agent envs name them."""
        return self.n_robots

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every warehouse; returns observations (B, N, D) and ``action_mask``."""
        if seed is not None:
            self.np_random, _ = seeding.np_random(seed)
        for b in range(self.num_envs):
            self.core.reset(b, self.np_random)
        self.steps[:] = 0
        self.idle[:] = 0
        if self.shaping.weight:
            self.shaping.start(self.core)
        return self.core.observe(), {"action_mask": self.action_masks()}

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Advance all warehouses; ends are reset at once (see the module docstring)."""
        actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs, self.n_robots)
        if actions.min() < 0 or actions.max() > 4:
            raise ValueError(f"actions must be 0-4, got values {np.unique(actions).tolist()}")
        before = self.core.deliveries.copy()
        rewards = self.core.step(actions, self.np_random).astype(np.float32)
        self.steps += 1
        truncated = self.steps >= self.max_steps
        if self.max_inactivity_steps is not None:
            self.idle = np.where(self.core.deliveries > before, 0, self.idle + 1)
            truncated |= self.idle >= self.max_inactivity_steps
        observations = self.core.observe()
        info: dict[str, Any] = {}
        if truncated.any():
            done = np.flatnonzero(truncated)
            info["final_observation"] = observations[done].copy()
            info["done_envs"] = done
            info["episode"] = {
                "steps": self.steps[done].astype(float),
                "deliveries": self.core.deliveries[done].astype(float),
                "orders_completed": self.core.orders_completed[done].astype(float),
                "pick_rate": self.core.deliveries[done]
                * 3600.0
                / (self.steps[done] * self.seconds_per_step),
            }
            for b in done:
                self.core.reset(int(b), self.np_random)
            self.steps[done] = 0
            self.idle[done] = 0
            observations[done] = self.core.observe()[done]
        if self.shaping.weight:
            self.shaping.shape(self.core, rewards, truncated)
        info["action_mask"] = self.action_masks()
        terminated = np.zeros(self.num_envs, dtype=np.bool_)
        return observations, rewards, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        """(B, N, 5) int8 masks (also given in ``info``; job masks with ``job_masks=True``)."""
        return self.core.job_masks() if self.job_masks else self.core.action_masks()
