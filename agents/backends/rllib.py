"""The Ray RLlib backend: PPO, DQN and SAC on RLlib's new API stack, on a local Ray or a cluster.

Single-agent tasks hand over a Gymnasium env factory; two-player games (``TrainContext.game``)
become a :class:`~agents.backends.rllib_selfplay.SelfPlayMultiAgentEnv` (one module per role,
only ``learner`` trains, snapshots fill the opponent modules); a parallel multi-agent problem
(the warehouse robots) is wrapped in :class:`~agents.backends.rllib_parallel.ParallelAgentsEnv`
(shared or per-agent policies, optionally a critic on the global state). The common knobs map
to RLlib's names in one table per algorithm (:data:`~agents.backends.rllib_config.PPO_KNOBS`;
DQN's and SAC's in :mod:`agents.backends.rllib_algorithms`); every value is set explicitly
because RLlib's defaults differ from SB3's, and the config's ``rllib:`` section passes anything
else (``{method: {argument: value}}``, applied last).

``algo.train()`` logs nothing by itself: each iteration's result dict is renamed to
learnloop's metric names and handed to the run's logger (agents/backends/rllib_trainer.py).
The global step is environment steps sampled over the run's lifetime (for self-play: the
learner's own moves; for robots, robot-steps: as under SB3). Checkpoints hold
``algo.save_to_path`` output plus a small JSON naming the trained module (and DQN's or SAC's
replay buffer); the trained agent loads from a checkpoint with torch alone, no Ray. RLlib's
default modules take 1-D boxes only, so image observations and actions reach them flattened
(:class:`~agents.backends.rllib_algorithms.FlatBoxes`).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from agents.backends.ray_cluster import ensure_ray
from agents.backends.rllib_config import (
    build_config,
    check_algo,
    check_algorithm,
    check_network,
)
from agents.base import Agent, Backend, TrainContext, resolve_device


class RLlibBackend(Backend):
    """Trains with RLlib PPO (new API stack) on a local Ray or a Ray cluster."""

    name = "rllib"

    def train(self, ctx: TrainContext) -> Agent:
        from agents.backends.rllib_trainer import Trainer

        check_algorithm(ctx.algo.name)  # before Ray's seconds of start-up
        started = ensure_ray(ctx.ray.address)
        trainer = None
        try:
            trainer = Trainer(ctx, build_config, uuid.uuid4().hex[:8])
            return trainer.run()
        finally:
            if trainer is not None:
                trainer.stop()
            if started:
                import ray

                ray.shutdown()

    def check_network(self, algorithm: str, policy_kwargs: dict[str, Any]) -> None:
        check_network(algorithm, policy_kwargs)

    def check_algo(self, algo: Any) -> None:
        check_algo(algo)

    def load(self, path: Path, ctx: TrainContext | None = None) -> Agent:
        from agents.backends.rllib_agent import load_agent

        if ctx is not None and ctx.device != "cpu":
            resolve_device(ctx.device)  # one torch thread on CPU; errors on a missing GPU
        return load_agent(path)


BACKEND = RLlibBackend()
