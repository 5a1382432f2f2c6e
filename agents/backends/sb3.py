"""The Stable-Baselines3 backend: one process, vectorised envs, algorithms chosen by name.

SB3 writes its own metric names (``rollout/ep_rew_mean``, ``train/value_loss``); a small output
format renames them to learnloop's (``charts/episode_return``, ``losses/value_loss``) and hands
them to the run's logger, so TensorBoard looks the same under every backend.
"""

from __future__ import annotations

import functools
import inspect
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from agents.base import Agent, Backend, TrainContext, resolve_device

MODEL_FILE = "model.zip"
REPLAY_FILE = "replay_buffer.pkl"
ON_POLICY = ("ppo", "maskable_ppo", "a2c")
_RENAMES: dict[str, str | None] = {
    "rollout/ep_rew_mean": "charts/episode_return",
    "rollout/ep_len_mean": "charts/episode_length",
    "rollout/exploration_rate": "charts/exploration_rate",
    "time/fps": "time/fps",
    "train/learning_rate": "charts/learning_rate",
    "train/clip_range": "charts/clip_range",
    "train/n_updates": None,
}


def algorithm_class(name: str) -> type:
    """The SB3 / sb3-contrib class for an algorithm name."""
    if name == "maskable_ppo":
        from sb3_contrib import MaskablePPO

        return MaskablePPO
    import stable_baselines3 as sb3

    classes = {"ppo": sb3.PPO, "a2c": sb3.A2C, "dqn": sb3.DQN, "sac": sb3.SAC}
    if name not in classes:
        raise ValueError(f"unknown algorithm {name!r}; known: maskable_ppo, {', '.join(classes)}")
    return classes[name]


def metric_name(sb3_key: str) -> str | None:
    """learnloop's name for an SB3 log key, or None for keys not worth a curve."""
    if sb3_key in _RENAMES:
        return _RENAMES[sb3_key]  # None: dropped
    if sb3_key.startswith("train/"):
        return "losses/" + sb3_key.split("/", 1)[1]
    return None


def _schedule(kind: str, value: float) -> Any:
    if kind == "linear":
        return lambda progress_remaining: progress_remaining * value
    return value


def algorithm_kwargs(ctx: TrainContext, cls: type) -> dict[str, Any]:
    """Constructor arguments from the common knobs, keeping only those ``cls`` accepts."""
    algo = ctx.algo
    accepted = set(inspect.signature(cls.__init__).parameters)
    common = {
        "learning_rate": _schedule(algo.lr_schedule, algo.learning_rate),
        "n_steps": algo.n_steps,
        "batch_size": algo.batch_size,
        "n_epochs": algo.n_epochs,
        "gamma": algo.gamma,
        "gae_lambda": algo.gae_lambda,
        "clip_range": _schedule(algo.clip_schedule, algo.clip_range),
        "ent_coef": algo.ent_coef,
        "vf_coef": algo.vf_coef,
        "max_grad_norm": algo.max_grad_norm,
    }
    kwargs = {k: v for k, v in common.items() if k in accepted}
    unknown = sorted(set(algo.kwargs) - accepted)
    if unknown:
        raise ValueError(f"algo.kwargs: {cls.__name__} does not accept {', '.join(unknown)}")
    kwargs.update(algo.kwargs)
    return kwargs


def _policy_name(algo_policy: str, observation_space: Any) -> str:
    if algo_policy != "auto":
        return algo_policy
    from gymnasium import spaces

    return "MultiInputPolicy" if isinstance(observation_space, spaces.Dict) else "MlpPolicy"


def make_vec_env(ctx: TrainContext) -> Any:
    """``n_envs`` envs from ``ctx.make_env`` in a DummyVecEnv or SubprocVecEnv, with VecMonitor."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecMonitor

    factories = [functools.partial(ctx.make_env, i) for i in range(ctx.algo.n_envs)]
    vec_cls = SubprocVecEnv if ctx.algo.vec_env == "subproc" else DummyVecEnv
    vec_env = VecMonitor(vec_cls(factories))
    vec_env.seed(ctx.seed)
    return vec_env


class SB3Agent(Agent):
    """An agent backed by an SB3 model (masks go to MaskablePPO's ``action_masks``)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.uses_masks = type(model).__name__ == "MaskablePPO"

    def act(
        self, obs: Any, action_mask: np.ndarray | None = None, deterministic: bool = True
    ) -> Any:
        kwargs = (
            {"action_masks": action_mask} if self.uses_masks and action_mask is not None else {}
        )
        action, _ = self.model.predict(obs, deterministic=deterministic, **kwargs)
        return action.item() if isinstance(action, np.ndarray) and action.ndim == 0 else action

    def act_batch(
        self, obs: Any, action_masks: np.ndarray | None = None, deterministic: bool = True
    ) -> np.ndarray:
        kwargs = {}
        if self.uses_masks and action_masks is not None:
            kwargs["action_masks"] = action_masks
        actions, _ = self.model.predict(obs, deterministic=deterministic, **kwargs)
        return np.asarray(actions)

    def action_probabilities(
        self, obs: np.ndarray, action_masks: np.ndarray | None = None
    ) -> np.ndarray:
        import torch

        policy = self.model.policy
        kwargs = {"action_masks": action_masks} if self.uses_masks else {}
        with torch.no_grad():
            tensor, _ = policy.obs_to_tensor(obs)
            dist = policy.get_distribution(tensor, **kwargs).distribution
        if not hasattr(dist, "probs"):
            raise ValueError(f"{type(self.model).__name__}'s policy is not categorical")
        return dist.probs.cpu().numpy()

    def save(self, path: Path) -> None:
        self.model.save(path / MODEL_FILE)
        if hasattr(self.model, "replay_buffer") and self.model.replay_buffer is not None:
            self.model.save_replay_buffer(path / REPLAY_FILE)


class SB3Backend(Backend):
    """Trains with SB3 / sb3-contrib on vectorised Gymnasium envs."""

    name = "sb3"

    def train(self, ctx: TrainContext) -> Agent:
        from stable_baselines3.common.logger import Logger

        device = resolve_device(ctx.device)
        vec_env = self.make_vec_env(ctx)
        cls = algorithm_class(ctx.algo.name)
        if ctx.resume_from is not None:
            model = self._load_model(ctx.resume_from, cls, vec_env, device)
        else:
            model = self._new_model(ctx, cls, vec_env, device)
        model.set_logger(Logger(folder=None, output_formats=[_metric_writer(ctx.logger)]))
        agent = SB3Agent(model)
        callback = _make_callback(ctx, agent)
        remaining = max(0, ctx.total_steps - model.num_timesteps)
        model.learn(
            total_timesteps=remaining,
            callback=callback,
            reset_num_timesteps=ctx.resume_from is None,
            log_interval=1,
        )
        ctx.save_checkpoint(int(model.num_timesteps), agent.save)
        vec_env.close()
        return agent

    def make_vec_env(self, ctx: TrainContext) -> Any:
        """The vectorised training env (subclasses with their own VecEnv override this)."""
        return make_vec_env(ctx)

    def _new_model(self, ctx: TrainContext, cls: type, vec_env: Any, device: str) -> Any:
        policy_kwargs = {"net_arch": list(ctx.algo.net_arch), **ctx.policy_kwargs}
        return cls(
            _policy_name(ctx.algo.policy, vec_env.observation_space),
            vec_env,
            seed=ctx.seed,
            device=device,
            policy_kwargs=policy_kwargs,
            verbose=0,
            **algorithm_kwargs(ctx, cls),
        )

    def _load_model(self, checkpoint: Path, cls: type, vec_env: Any, device: str) -> Any:
        model = cls.load(checkpoint / MODEL_FILE, env=vec_env, device=device)
        if (checkpoint / REPLAY_FILE).is_file():
            model.load_replay_buffer(checkpoint / REPLAY_FILE)
        return model

    def load(self, path: Path, ctx: TrainContext | None = None) -> Agent:
        model_file = path / MODEL_FILE
        if not model_file.is_file():
            raise ValueError(f"checkpoint {path} has no {MODEL_FILE}")
        device = resolve_device(ctx.device if ctx is not None else "auto")
        try:
            with zipfile.ZipFile(model_file) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            raise ValueError(f"checkpoint {model_file} is corrupt (not a zip archive)") from None
        if "data" not in names:
            raise ValueError(f"checkpoint {model_file} is not an SB3 model (no 'data' entry)")
        name = ctx.algo.name if ctx is not None else "ppo"
        try:
            model = algorithm_class(name).load(model_file, device=device)
        except Exception as error:  # SB3 raises many kinds on a damaged archive
            raise ValueError(f"checkpoint {model_file} could not be loaded: {error}") from None
        return SB3Agent(model)


def _metric_writer(sink: Any) -> Any:
    """An SB3 logger output format that forwards renamed metrics to learnloop's logger."""
    from stable_baselines3.common.logger import KVWriter

    class MetricWriter(KVWriter):
        def write(self, key_values: dict[str, Any], key_excluded: dict, step: int = 0) -> None:
            metrics = {}
            for key, value in key_values.items():
                name = metric_name(key)
                if name is not None and isinstance(value, int | float | np.floating | np.integer):
                    metrics[name] = float(value)
            sink.log(step, metrics)

        def close(self) -> None:
            pass

    return MetricWriter()


def _make_callback(ctx: TrainContext, agent: SB3Agent) -> Any:
    from stable_baselines3.common.callbacks import BaseCallback

    class LoopCallback(BaseCallback):
        """Progress, periodic hooks and checkpoints at environment-step boundaries."""

        def _on_training_start(self) -> None:
            start = self.model.num_timesteps
            self.next_checkpoint = _next_multiple(start, ctx.checkpoint_every)
            self.next_hook = [_next_multiple(start, p.every) for p in ctx.periodic]

        def _on_step(self) -> bool:
            step = int(self.model.num_timesteps)
            ctx.logger.progress(step)
            for i, periodic in enumerate(ctx.periodic):
                if self.next_hook[i] and step >= self.next_hook[i]:
                    self.next_hook[i] = _next_multiple(step, periodic.every)
                    metrics = periodic.hook(step, agent)
                    if metrics:
                        ctx.logger.log(step, metrics)
            if self.next_checkpoint and step >= self.next_checkpoint:
                self.next_checkpoint = _next_multiple(step, ctx.checkpoint_every)
                ctx.save_checkpoint(step, agent.save)
            return True

        def _on_training_end(self) -> None:
            step = int(self.model.num_timesteps)
            for periodic in ctx.periodic:
                if periodic.at_end and periodic.every:
                    metrics = periodic.hook(step, agent)
                    if metrics:
                        ctx.logger.log(step, metrics)

    return LoopCallback()


def _next_multiple(step: int, every: int) -> int:
    """The first multiple of ``every`` above ``step`` (0 when ``every`` is 0: never)."""
    return (step // every + 1) * every if every > 0 else 0


BACKEND = SB3Backend()
