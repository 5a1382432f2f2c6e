"""The training loop of the RLlib backend: iterations, logging, hooks, checkpoints, snapshots.

One :class:`Trainer` owns one RLlib ``Algorithm``. It calls ``algo.train()`` until the run's
step budget is spent; after each iteration it logs learnloop's metrics, reports progress, runs
the task's periodic hooks with an :class:`RLlibAgent` on the current weights, and saves a
checkpoint every ``checkpoint_every`` steps and at the end. Self-play snapshots
(:meth:`Trainer.add_snapshot`) copy the learner's weights into an opponent slot on the learner
group and push them to every env runner explicitly.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.backends.rllib_agent import ALGORITHM_DIR, MODULE_FILE, RLlibAgent, load_agent
from agents.backends.rllib_algorithms import (
    OFF_POLICY_METRICS,
    FlatBoxes,
    exploration_metrics,
    needs_flat_boxes,
)
from agents.backends.rllib_config import (
    LEARNER_METRICS,
    PPO_FAMILY,
    PROBE_EVERY_S,
    SINGLE_MODULE,
    EnvCreator,
    env_runner_layout,
    read_module_info,
    result_metrics,
    sampled_steps,
    uses_actor_critic_module,
)
from agents.base import Agent, Periodic, TrainContext, TwoPlayerGame
from agents.schedule import Schedule

REPLAY_FILE = "replay_buffer.pkl"


class Trainer:
    """Builds the algorithm for ``ctx`` and trains it to ``ctx.total_steps``."""

    def __init__(self, ctx: TrainContext, build_config: Callable, tag: str) -> None:
        from ray.rllib.env.multi_agent_env import MultiAgentEnv
        from ray.tune.registry import register_env

        from agents.backends.rllib_parallel import ParallelEnvCreator, is_parallel_env

        self.ctx = ctx
        ray_cfg = ctx.ray
        # A two-player game: both seats in one MultiAgentEnv, snapshots are RLlib modules.
        make_env = ctx.make_env if ctx.game is None else SeatsCreator(ctx.game, ctx.seed)
        probe, wrap = make_env(0), None
        self.action_shape: list[int] | None = None  # the env's, where the module's is flat
        if is_parallel_env(probe):  # PettingZoo ParallelEnv: masks, state, policy mapping
            wrap = ParallelEnvCreator(
                getattr(ray_cfg, "policies", "shared"), getattr(ray_cfg, "central_critic", False)
            )
            probe = wrap(probe)
        elif flattens_boxes(ctx, probe):  # RLlib's default modules take 1-D boxes only
            shape = getattr(probe.action_space, "shape", None) or ()
            self.action_shape = list(shape) if len(shape) > 1 else None
            wrap = FlatBoxes
            probe = wrap(probe)
        try:
            self.multi = isinstance(probe, MultiAgentEnv)
            self.trained = (
                list(getattr(probe, "trained_agents", ["learner"])) if self.multi
                else [SINGLE_MODULE]
            )  # fmt: skip
            self.slots = list(getattr(probe, "snapshot_slots", []))
            per_runner = env_runner_layout(ctx.algo, ray_cfg)[1] if ray_cfg else ctx.algo.n_envs
            env_name = f"learnloop-{tag}"
            register_env(env_name, EnvCreator(make_env, per_runner, wrap))
            config = build_config(ctx, probe, env_name)
        finally:
            probe.close()
        self.algo = config.build_algo()
        throttle_restores(self.algo, PROBE_EVERY_S)
        nodes = runner_nodes(self.algo)
        if nodes:  # where sampling runs: a user on a cluster checks it here (and in job logs)
            print(f"env runners: {len(nodes)} on {len(set(nodes))} node(s)", file=sys.stderr,
                  flush=True)  # fmt: skip
        self.learner_metrics = OFF_POLICY_METRICS.get(ctx.algo.name, LEARNER_METRICS)
        self.module_id = self.trained[0]
        self.snapshots = 0
        self.step = 0
        if ctx.resume_from is not None:
            self._restore(ctx.resume_from)

    # -- state ----------------------------------------------------------------------------------

    def _restore(self, checkpoint: Path) -> None:
        if not (checkpoint / MODULE_FILE).is_file():
            raise ValueError(f"cannot resume from {checkpoint}: not an RLlib checkpoint")
        self.algo.restore_from_path(str((checkpoint / ALGORITHM_DIR).resolve()))
        buffer = getattr(self.algo, "local_replay_buffer", None)
        if buffer is not None and (checkpoint / REPLAY_FILE).is_file():
            buffer.set_state(pickle.loads((checkpoint / REPLAY_FILE).read_bytes()))
        info = read_module_info(checkpoint)
        self.step = int(info.get("step", 0))
        self.snapshots = int(info.get("snapshots", 0))
        for slot in range(min(self.snapshots, len(self.slots))):
            weights = self.algo.learner_group.get_weights([self.slots[slot]])[self.slots[slot]]
            self._push(self.slots[slot], weights)

    def _write(self, folder: Path) -> None:
        self.algo.save_to_path(str((folder / ALGORITHM_DIR).resolve()))
        # DQN's and SAC's replay buffer, as the SB3 backend keeps it: on RLlib's new API stack
        # save_to_path leaves it out, whatever store_buffer_in_checkpoints says.
        buffer = getattr(self.algo, "local_replay_buffer", None)
        if buffer is not None:
            (folder / REPLAY_FILE).write_bytes(pickle.dumps(buffer.get_state()))
        info = {"module_id": self.module_id, "modules": self.trained, "step": self.step,
                "snapshots": self.snapshots, "action_shape": self.action_shape}  # fmt: skip
        (folder / MODULE_FILE).write_text(json.dumps(info) + "\n")

    def agent(self) -> RLlibAgent:
        """An agent on the current weights (the local env runner's modules, synced each step)."""
        peers = {m: self.algo.get_module(m) for m in self.trained[1:]}
        module = self.algo.get_module(self.module_id)
        return RLlibAgent(module, self.module_id, peers=peers, action_shape=self.action_shape)

    # -- self-play snapshots --------------------------------------------------------------------

    def add_snapshot(self, name: str) -> int:
        """Copy the learner's weights into the next opponent slot; returns the pool size."""
        if not self.slots:
            raise ValueError("this task has no self-play opponent slots")
        slot = self.slots[self.snapshots % len(self.slots)]
        self.snapshots += 1
        weights = self.algo.learner_group.get_weights([self.module_id])[self.module_id]
        self.algo.learner_group.set_weights({slot: weights})
        self._push(slot, weights)
        return min(self.snapshots, len(self.slots))

    def _push(self, slot: str, weights: dict[str, Any]) -> None:
        """Put ``weights`` into module ``slot`` on every env runner (RLlib's sync skips it)."""
        from agents.backends.rllib_selfplay import set_active_snapshots

        active = min(self.snapshots, len(self.slots))

        def push(runner: Any) -> None:
            runner.module[slot].set_state(weights)
            set_active_snapshots(runner, active)

        self.algo.env_runner_group.foreach_env_runner(push, local_env_runner=True)

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> Agent:
        """Train to the budget; returns the agent loaded from the final checkpoint."""
        ctx = self.ctx
        start, start_time = self.step, time.monotonic()
        extra = []
        if ctx.game is not None:
            extra.append(Periodic(ctx.game.snapshot_every, self._snapshot, at_end=False))
        schedule = Schedule(ctx, start, extra)
        while self.step < ctx.total_steps:
            result = self.algo.train()
            # Lifetime counters come back with restore_from_path, so they count the whole run.
            self.step = max(self.step, sampled_steps(result, self.trained, self.multi))
            metrics = result_metrics(result, self.trained, self.multi, self.learner_metrics)
            elapsed = time.monotonic() - start_time
            metrics["time/fps"] = (self.step - start) / elapsed if elapsed > 0 else 0.0
            metrics.update(exploration_metrics(self.algo.config, self.step))
            ctx.logger.log(self.step, metrics)
            ctx.logger.progress(self.step)
            schedule.advance(self.step, self.agent, self._write)
        return load_agent(schedule.finish(self.step, self.agent, self._write))

    def _snapshot(self, step: int, agent: Agent) -> dict[str, float]:
        return {"charts/pool_size": float(self.add_snapshot(f"step_{step}"))}

    def stop(self) -> None:
        """Stop the env runners and learners (the Ray instance stays)."""
        self.algo.stop()


def throttle_restores(algo: Any, every_s: float) -> None:
    """Elastic env runners: while some are down, RLlib's per-iteration attempt to bring them
    back (a ping that waits for an actor Ray may have nowhere to place) runs only every
    ``every_s`` seconds; training goes on with the healthy ones, and a runner comes back at the
    first ping after Ray restarts it (a node with a free CPU joined). Says so once per loss."""
    restore = algo.restore_env_runners
    state = {"last": -float("inf"), "told": False}

    def restore_now_and_then(group: Any) -> list[int]:
        total, healthy = group.num_remote_env_runners(), group.num_healthy_remote_env_runners()
        if healthy >= total:
            state["told"] = False
            return restore(group)  # a no-op: nothing to probe
        if not state["told"]:
            print(f"env runners: {total - healthy} of {total} lost; training goes on with "
                  f"{healthy}, and they rejoin once Ray restarts them (a node with a free CPU)",
                  file=sys.stderr, flush=True)  # fmt: skip
            state["told"] = True
        now = time.monotonic()
        if now - state["last"] < every_s:
            return []
        state["last"] = now
        return restore(group)

    algo.restore_env_runners = restore_now_and_then


def runner_nodes(algo: Any) -> list[str]:
    """The Ray node id of each healthy remote env runner (empty without remote runners)."""
    group = algo.env_runner_group
    if not group.num_remote_env_runners():
        return []

    def node(_: Any) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()

    return list(group.foreach_env_runner(node, local_env_runner=False))


class SeatsCreator:
    """``index -> SelfPlayMultiAgentEnv`` for a two-player game (picklable for env runners)."""

    def __init__(self, game: TwoPlayerGame, seed: int) -> None:
        self.game, self.seed = game, seed

    def __call__(self, index: int) -> Any:
        from agents.backends.rllib_selfplay import SelfPlayMultiAgentEnv

        game = self.game
        return SelfPlayMultiAgentEnv(
            game.make_game, game.obs_transform, dict(game.opponents), game.fixed_share,
            game.max_snapshots, seed=self.seed * 1000 + index,
        )  # fmt: skip


def flattens_boxes(ctx: TrainContext, env: Any) -> bool:
    """True when a single-agent env with multi-dimensional boxes meets RLlib's default modules
    (DQN, SAC, or PPO without our actor-critic module)."""
    from ray.rllib.env.multi_agent_env import MultiAgentEnv

    if isinstance(env, MultiAgentEnv) or not needs_flat_boxes(env):
        return False
    ours = ctx.algo.name in PPO_FAMILY and uses_actor_critic_module(env, ctx.policy_kwargs)
    return not ours
