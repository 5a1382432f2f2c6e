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

from agents.base import (
    Agent,
    Backend,
    Periodic,
    Player,
    TrainContext,
    TwoPlayerGame,
    episode_metrics,
    resolve_device,
)
from agents.schedule import Schedule

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
    if name == "qrdqn":  # DQN learning the distribution of returns by its quantiles
        from sb3_contrib import QRDQN

        return QRDQN
    import stable_baselines3 as sb3

    from agents.backends.sb3_dqn import DQN  # SB3's, with Double DQN and a dueling head

    classes = {"ppo": sb3.PPO, "a2c": sb3.A2C, "dqn": DQN, "sac": sb3.SAC}
    if name not in classes:
        raise ValueError(
            f"unknown algorithm {name!r}; known: maskable_ppo, qrdqn, {', '.join(classes)}"
        )
    return classes[name]


def metric_name(sb3_key: str) -> str | None:
    """learnloop's name for an SB3 log key, or None for keys not worth a curve."""
    if sb3_key in _RENAMES:
        return _RENAMES[sb3_key]  # None: dropped
    if sb3_key.startswith("episode/"):  # an env's per-episode metrics (EPISODE_METRICS)
        return "charts/" + sb3_key.split("/", 1)[1]
    if sb3_key.startswith("train/"):
        return "losses/" + sb3_key.split("/", 1)[1]
    return None


def _schedule(kind: str, value: float) -> Any:
    if kind == "linear":
        return lambda progress_remaining: progress_remaining * value
    return value


def algorithm_kwargs(ctx: TrainContext, cls: type) -> dict[str, Any]:
    """Constructor arguments from the common knobs, keeping only those ``cls`` accepts."""
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

    algo = ctx.algo
    accepted = set(inspect.signature(cls.__init__).parameters)
    common = {
        "learning_rate": _schedule(algo.lr_schedule, algo.learning_rate),
        "batch_size": algo.batch_size,
        "n_epochs": algo.n_epochs,
        "gamma": algo.gamma,
        "gae_lambda": algo.gae_lambda,
        "clip_range": _schedule(algo.clip_schedule, algo.clip_range),
        "ent_coef": algo.ent_coef,
        "vf_coef": algo.vf_coef,
        "max_grad_norm": algo.max_grad_norm,
    }
    if issubclass(cls, OnPolicyAlgorithm):
        # algo.n_steps is the rollout length of PPO and A2C. SB3's off-policy algorithms (DQN,
        # SAC, TD3, QR-DQN, TQC) take an argument of the same name since 2.7 with another
        # meaning, n-step returns: passing 128 there made their targets 128-step returns of old
        # behaviour. They get it only from algo.kwargs, by its SB3 name.
        common["n_steps"] = algo.n_steps
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


def make_vec_env(ctx: TrainContext, pool: Any = None) -> Any:
    """``n_envs`` envs in a DummyVecEnv or SubprocVecEnv, with VecMonitor: ``ctx.make_env``'s,
    or for a two-player game one seat each against ``pool`` (in this process, since the pool
    grows during training)."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecMonitor

    make_env = ctx.make_env
    if ctx.game is not None:
        make_env = functools.partial(_seat_env, ctx.game, pool)
    factories = [functools.partial(make_env, i) for i in range(ctx.algo.n_envs)]
    subproc = ctx.algo.vec_env == "subproc" and ctx.game is None
    vec_cls = SubprocVecEnv if subproc else DummyVecEnv
    vec_env = VecMonitor(vec_cls(factories))
    vec_env.seed(ctx.seed)
    return vec_env


def _seat_env(game: TwoPlayerGame, pool: Any, index: int) -> Any:
    from agents.selfplay import SelfPlayEnv

    return SelfPlayEnv(game.make_game, pool, game.obs_transform)


def opponent_pool(game: TwoPlayerGame, seed: int) -> Any:
    """The self-play pool of a two-player game: its fixed players, no snapshots yet."""
    from agents.selfplay import OpponentPool

    return OpponentPool(dict(game.opponents), game.fixed_share, game.max_snapshots, seed=seed)


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

        q = self._q(obs)
        if q is not None:  # greedy on Q; float64 keeps their order
            return torch.softmax(q, dim=-1).numpy()
        policy = self.model.policy
        kwargs = {"action_masks": action_masks} if self.uses_masks else {}
        with torch.no_grad():
            tensor, _ = policy.obs_to_tensor(obs)
            dist = policy.get_distribution(tensor, **kwargs).distribution
        if not hasattr(dist, "probs"):
            raise ValueError(f"{type(self.model).__name__}'s policy is not categorical")
        return dist.probs.cpu().numpy()

    def q_values(self, obs: Any) -> np.ndarray:
        q = self._q(obs)
        if q is None:
            raise ValueError(f"{type(self.model).__name__} has no Q-values (a DQN's have)")
        return q.numpy()

    def action_values(self, obs: Any, actions: np.ndarray) -> np.ndarray:
        import torch

        policy = self.model.policy
        critic = getattr(policy, "critic", None)
        if critic is None:
            raise ValueError(f"{type(self.model).__name__} has no critic of actions (SAC's has)")
        with torch.no_grad():
            tensor, _ = policy.obs_to_tensor(obs)
            actions = np.asarray(actions, np.float32)
            scaled = policy.scale_action(actions.reshape(len(actions), -1))
            values = critic(tensor, torch.as_tensor(scaled, device=tensor.device))
            return torch.cat(values, dim=1).min(dim=1).values.double().cpu().numpy()

    def _q(self, obs: Any) -> Any:
        """(batch, actions) float64 Q-values on the CPU: a DQN's from the network its greedy
        actions come from (the average under algo.average_steps), a QR-DQN's the mean of its
        quantiles; None for a policy without them."""
        import torch
        from sb3_contrib.qrdqn.policies import QRDQNPolicy
        from stable_baselines3.dqn.policies import DQNPolicy

        policy = self.model.policy
        if not isinstance(policy, DQNPolicy | QRDQNPolicy):
            return None
        with torch.no_grad():
            tensor, _ = policy.obs_to_tensor(obs)
            if isinstance(policy, DQNPolicy):
                return getattr(policy, "greedy_net", policy.q_net)(tensor).double().cpu()
            return policy.quantile_net(tensor).double().mean(dim=1).cpu()

    def policy_value(
        self, observations: np.ndarray, masks: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        from agents.networks import sb3_policy_value

        return sb3_policy_value(self.model.policy)(observations, masks)

    def player(self, deterministic: bool = True, seed: int = 0) -> Player:
        from agents.players import NetworkPlayer

        return NetworkPlayer(self.model.policy, deterministic, seed)

    def snapshot(self) -> Player:
        from agents.players import NetworkPlayer

        return NetworkPlayer.frozen_copy(self.model.policy)

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
        pool = opponent_pool(ctx.game, ctx.seed) if ctx.game is not None else None
        vec_env = make_vec_env(ctx, pool) if pool is not None else self.make_vec_env(ctx)
        cls = algorithm_class(ctx.algo.name)
        if ctx.resume_from is not None:
            model = self._load_model(ctx.resume_from, cls, vec_env, device)
            if pool is not None:
                self._refill_pool(pool, ctx)
        else:
            model = self._new_model(ctx, cls, vec_env, device)
        model.set_logger(Logger(folder=None, output_formats=[_metric_writer(ctx.logger)]))
        agent = SB3Agent(model)
        extra = []
        if pool is not None:
            extra.append(Periodic(ctx.game.snapshot_every, _snapshotter(pool), at_end=False))
        schedule = Schedule(ctx, int(model.num_timesteps), extra)
        remaining = max(0, ctx.total_steps - model.num_timesteps)
        model.learn(
            total_timesteps=remaining,
            callback=_make_callback(ctx, agent, schedule),
            reset_num_timesteps=ctx.resume_from is None,
            log_interval=1,
        )
        # SB3 runs its last update after the last callback, so a checkpoint the callback wrote
        # at this step holds the weights from before it: write it again.
        schedule.finish(
            int(model.num_timesteps), lambda: agent, agent.save, trained_since_save=True
        )
        vec_env.close()
        return agent

    def _refill_pool(self, pool: Any, ctx: TrainContext) -> None:
        """A resumed run's pool gets the snapshots of its kept checkpoints back: snapshots live
        in memory only, and a learner facing no past selves would train against the fixed
        players alone until the next snapshots."""
        kept = sorted(ctx.resume_from.parent.glob("step_*"), key=lambda p: int(p.name[5:]))
        for checkpoint in kept[-ctx.game.max_snapshots :]:
            if (checkpoint / MODEL_FILE).is_file():
                pool.add_snapshot(checkpoint.name, self.load(checkpoint, ctx).snapshot())

    def make_vec_env(self, ctx: TrainContext) -> Any:
        """The vectorised training env: ``ctx.make_env``'s, or for a parallel multi-agent
        problem one slot per agent of ``n_envs`` copies (one policy shared by the agents)."""
        if ctx.parallel is None:
            return make_vec_env(ctx)
        from stable_baselines3.common.vec_env import VecMonitor

        from agents.backends.sb3_slots import make_agent_slots

        vec_env = VecMonitor(make_agent_slots(ctx.parallel.make_batched_env(ctx.algo.n_envs)))
        vec_env.seed(ctx.seed)
        return vec_env

    def _new_model(self, ctx: TrainContext, cls: type, vec_env: Any, device: str) -> Any:
        policy_kwargs = {"net_arch": list(ctx.algo.net_arch), **ctx.policy_kwargs}
        if ctx.algo.dueling:
            policy_kwargs["dueling"] = True
        if ctx.algo.average_steps:
            policy_kwargs["average_steps"] = ctx.algo.average_steps
        model = cls(
            _policy_name(ctx.algo.policy, vec_env.observation_space),
            vec_env,
            seed=ctx.seed,
            device=device,
            policy_kwargs=policy_kwargs,
            verbose=0,
            **algorithm_kwargs(ctx, cls),
        )
        if ctx.algo.double_q:
            model.double_q = True  # saved with the model
        return model

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


def _snapshotter(pool: Any) -> Any:
    def snapshot(step: int, agent: Agent) -> dict[str, float]:
        pool.add_snapshot(f"step_{step}", agent.snapshot())
        return {"charts/pool_size": float(len(pool.snapshots))}

    return snapshot


def _make_callback(ctx: TrainContext, agent: SB3Agent, schedule: Schedule) -> Any:
    from stable_baselines3.common.callbacks import BaseCallback

    class LoopCallback(BaseCallback):
        """Progress, periodic hooks and checkpoints at environment-step boundaries."""

        def _on_step(self) -> bool:
            # Per-episode metrics from the envs (subprocess envs' infos arrive here too); SB3
            # averages them until its next dump, which MetricWriter logs as charts/<name>.
            for info in self.locals.get("infos", ()):
                for name, value in episode_metrics(info).items():
                    self.logger.record_mean(f"episode/{name}", value)
            step = int(self.model.num_timesteps)
            ctx.logger.progress(step)
            schedule.advance(step, lambda: agent, agent.save)
            return True

    return LoopCallback()


BACKEND = SB3Backend()
