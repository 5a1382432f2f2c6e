"""The ``learnloop`` backend: trains a :class:`Learner` on a batched paradigm env.

Registered in :data:`agents.backends.BACKENDS` like sb3 and rllib; its algorithms are the
learners (:data:`agents.learners.LEARNERS`). What the task decides (which learner, the batched
env on the training part, early stopping on the validation part) arrives as a
:class:`LearnerSettings` in ``TrainContext.settings``.

The loop is the collector and the trainer in one screen: act on the B observations of a
``VectorEnv``, step it, hand what came back to ``learner.observe``, and every so often log,
validate (keeping the best weights: early stopping), call the task's periodic hooks and save a
checkpoint. The global step counts env steps, B per loop turn, as every backend does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.base import Backend, TrainContext, episode_metrics, resolve_device
from agents.learners.base import Learner, load_learner
from agents.schedule import Schedule

LOOP_FILE = "loop.pt"
MakeLearner = Callable[[Any, Any, int, str], Learner]  # (obs space, action space, seed, device)
MakeVectorEnv = Callable[[int], Any]  # seed -> a batched env on the training part


@dataclass
class EarlyStopping:
    """Validate every ``every`` env steps; keep the best weights; stop after ``patience``
    validations without improvement (0: never stop early, still restore the best at the end).

    ``validate(learner)`` returns metrics on the validation part; ``monitor`` names the one
    that decides, larger is better unless ``mode="min"``.
    """

    validate: Callable[[Learner], dict[str, float]]
    monitor: str
    every: int = 5_000
    patience: int = 0
    mode: str = "max"

    def __post_init__(self) -> None:
        if self.mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {self.mode!r}")
        if self.every < 1:
            raise ValueError(f"every must be at least 1, got {self.every!r}")

    def better(self, value: float, best: float | None) -> bool:
        """Whether ``value`` beats ``best`` (ties count as better: later weights saw more)."""
        if best is None:
            return True
        return value >= best if self.mode == "max" else value <= best


class _Tracker:
    """Early-stopping state: the best value, its step and weights, validations since."""

    def __init__(self) -> None:
        self.best: float | None = None
        self.best_step = 0
        self.best_weights: dict[str, Any] | None = None
        self.stale = 0

    def state(self) -> dict[str, Any]:
        return dict(vars(self))

    def load(self, state: dict[str, Any]) -> None:
        vars(self).update(state)


@dataclass
class LearnerSettings:
    """What a task gives the learnloop backend (as ``TrainContext.settings``): the learner,
    made for the env's spaces (``make_learner(obs space, action space, seed, device)``), the
    batched env on the training part (``make_vector_env(seed)``), and early stopping (None:
    train the whole budget, keep the last weights)."""

    make_learner: MakeLearner
    make_vector_env: MakeVectorEnv
    early_stopping: EarlyStopping | None = None


class LearnerBackend(Backend):
    """Trains learnloop's torch learners through the runner (checkpoints, resume, logging)."""

    name = "learnloop"

    def __init__(self, log_every: int = 2_000) -> None:
        self.log_every = log_every

    def train(self, ctx: TrainContext) -> Learner:
        settings = ctx.settings
        if not isinstance(settings, LearnerSettings):
            raise ValueError(
                "backend=learnloop trains learnloop's learners, which a task describes with "
                "LearnerSettings (the paradigm tasks do); this task gives none"
            )
        device = resolve_device(ctx.device)
        env = settings.make_vector_env(ctx.seed)
        learner = settings.make_learner(
            env.single_observation_space, env.single_action_space, ctx.seed, device
        )
        tracker, step = _Tracker(), 0
        if ctx.resume_from is not None:
            step = self._resume(ctx.resume_from, learner, tracker)
        # A resumed run restarts the stream with a new seed rather than replaying the old one.
        obs, _ = env.reset(seed=ctx.seed + step)
        loop = _Loop(self, ctx, learner, tracker, step, settings.early_stopping)
        try:
            loop.run(env, obs)
        finally:
            env.close()
        if tracker.best_weights is not None:
            learner.load_weights(tracker.best_weights)
        ctx.save_checkpoint(
            loop.step, lambda folder: self.write(folder, learner, tracker, loop.step)
        )
        return learner

    def _resume(self, checkpoint: Path, learner: Learner, tracker: _Tracker) -> int:
        learner.load_state(load_learner(checkpoint, str(learner.device)).state())
        loop_state = torch.load(checkpoint / LOOP_FILE, weights_only=False)
        tracker.load(loop_state["early_stopping"])
        return int(loop_state["step"])

    def write(self, folder: Path, learner: Learner, tracker: _Tracker, step: int) -> None:
        """Fill a checkpoint folder: the learner, and the loop's step and early-stopping state."""
        learner.save(folder)
        torch.save({"step": step, "early_stopping": tracker.state()}, folder / LOOP_FILE)

    def load(self, path: Path, ctx: TrainContext | None = None) -> Learner:
        device = resolve_device(ctx.device if ctx is not None else "cpu")
        learner = load_learner(path, device)
        learner.train_mode(False)
        return learner


BACKEND = LearnerBackend()


class _Loop:
    """One training run's loop state (kept apart so ``train`` reads top to bottom)."""

    def __init__(
        self,
        backend: LearnerBackend,
        ctx: TrainContext,
        learner: Learner,
        tracker: _Tracker,
        step: int,
        stopping: EarlyStopping | None,
    ) -> None:
        self.backend, self.ctx, self.learner, self.tracker = backend, ctx, learner, tracker
        self.step, self.stopping = step, stopping
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.reward_sum, self.reward_count = 0.0, 0
        self.started, self.start_step = time.monotonic(), step
        self.validated_at = -1
        self.schedule = Schedule(ctx, step)

    def due(self, every: int, previous: int) -> bool:
        """Whether a multiple of ``every`` lies in (previous, step]."""
        return every > 0 and self.step // every > previous // every

    def run(self, env: Any, obs: np.ndarray) -> None:
        ctx, learner, stopping = self.ctx, self.learner, self.stopping
        learner.train_mode(True)
        while self.step < ctx.total_steps:
            actions = learner.act_batch(obs, None, deterministic=False)
            next_obs, rewards, _, _, info = env.step(actions)
            self.record(learner.observe(obs, actions, rewards, info), rewards, info)
            obs, previous = next_obs, self.step
            self.step += env.num_envs
            ctx.logger.progress(self.step)
            if self.due(self.backend.log_every, previous):
                self.flush()
            self.schedule.advance(self.step, self.evaluating, self.write)
            learner.train_mode(True)
            if stopping is not None and self.due(stopping.every, previous):
                self.validated_at = self.step
                if self.validate(stopping):
                    break
        self.flush()
        self.schedule.finish(self.step, self.evaluating, self.write, checkpoint=False)
        learner.train_mode(True)
        if stopping is not None and self.validated_at != self.step:
            self.validate(stopping)  # the last steps since the previous validation count too

    def evaluating(self) -> Learner:
        """The learner, in evaluation mode for a periodic hook (training mode comes back after)."""
        self.learner.train_mode(False)
        return self.learner

    def write(self, folder: Path) -> None:
        """Fill a checkpoint folder at the current step."""
        self.backend.write(folder, self.learner, self.tracker, self.step)

    def record(self, metrics: dict[str, float], rewards: np.ndarray, info: dict[str, Any]) -> None:
        episodes = {f"charts/{k}": v for k, v in episode_metrics(info).items()}
        for name, value in {**metrics, **episodes}.items():
            self.sums[name] = self.sums.get(name, 0.0) + float(value)
            self.counts[name] = self.counts.get(name, 0) + 1
        feedback = np.asarray(info.get("feedback", np.ones(len(rewards), dtype=bool)), dtype=bool)
        self.reward_sum += float(np.asarray(rewards)[feedback].sum())
        self.reward_count += int(feedback.sum())

    def flush(self) -> None:
        metrics = {name: self.sums[name] / self.counts[name] for name in self.sums}
        if self.reward_count:
            metrics["charts/reward"] = self.reward_sum / self.reward_count
        elapsed = time.monotonic() - self.started
        if elapsed > 0:
            metrics["time/fps"] = (self.step - self.start_step) / elapsed
        self.ctx.logger.log(self.step, metrics)
        self.sums, self.counts = {}, {}
        self.reward_sum, self.reward_count = 0.0, 0

    def validate(self, stopping: EarlyStopping) -> bool:
        """Validate, keep the best weights; True when patience has run out."""
        self.learner.train_mode(False)
        metrics = stopping.validate(self.learner)
        self.learner.train_mode(True)
        self.ctx.logger.log(self.step, {f"eval_periodic/val_{k}": v for k, v in metrics.items()})
        value, tracker = float(metrics[stopping.monitor]), self.tracker
        if stopping.better(value, tracker.best):
            improved = tracker.best is None or value != tracker.best
            tracker.best, tracker.best_step = value, self.step
            tracker.best_weights = self.learner.weights()
            tracker.stale = 0 if improved else tracker.stale
            return False
        tracker.stale += 1
        return stopping.patience > 0 and tracker.stale >= stopping.patience
