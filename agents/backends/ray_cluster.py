"""Joining or starting Ray, shared by every backend that uses it (RLlib, AlphaZero's workers).

Importing this module imports nothing heavy; ``ray`` is imported when a run asks for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from agents.settings import describe


@dataclass
class RayConfig:
    """Where and how wide to run under backend=rllib."""

    address: str = describe(
        "Ray cluster address; empty starts a local Ray with this machine's CPUs, 'auto' joins one.",
        "",
    )
    num_env_runners: int = describe(
        "RLlib env runner processes (0: sample in the driver).", 0, min=0
    )
    num_envs_per_env_runner: int = describe(
        "Environments per env runner (0: algo.n_envs spread over the env runners).", 0, min=0
    )
    num_learners: int = describe("Learner processes (0: learn in the driver).", 0, min=0)
    num_selfplay_workers: int = describe(
        "algo.name=alphazero: self-play Ray actors feeding the learner (0: self-play in the "
        "training process only).",
        0, min=0,
    )  # fmt: skip
    num_gpus_per_learner: float = describe("GPUs per learner.", 0.0, min=0.0)
    num_cpus_per_learner: float = describe("CPUs per learner.", 1.0, min=0.0)
    policies: str = describe(
        "Parallel multi-agent envs: one policy for every agent, or one per agent.",
        "shared",
        choices=("shared", "separate"),
    )
    central_critic: bool = describe(
        "Parallel multi-agent envs: the critic reads the env's global state (MAPPO-style).", False
    )


def ensure_ray(address: str = "") -> bool:
    """Start or join Ray unless this process already has; True when this call started it.

    Empty ``address``: inside a Ray job (``RAY_ADDRESS`` set) join that cluster, else start a
    fresh local Ray with this machine's CPUs and no dashboard, whatever a head killed earlier
    left behind (Ray's ``ray_current_cluster`` file would otherwise make ``ray.init`` try to
    join it). ``auto`` or an address: join it.
    """
    import ray

    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": False}
    if not address and not os.environ.get("RAY_ADDRESS"):
        kwargs["num_cpus"] = os.cpu_count() or 1
        address = "local"  # always a new instance, never a stale one
    ray.init(address=address or None, **kwargs)
    return True
