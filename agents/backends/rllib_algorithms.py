"""Off-policy algorithms under backend=rllib: DQN and SAC on RLlib's new API stack.

The common knobs and the SB3-named ``algo.kwargs`` (``buffer_size``, ``learning_starts``,
``train_freq``, ``gradient_steps``, ``target_update_interval``, ``tau``, exploration, ``ent_coef``)
map to RLlib's names in one table per algorithm (:data:`DQN_KNOBS`, :data:`SAC_KNOBS`); a kwarg
left out takes SB3's default (:data:`DQN_KWARGS`, :data:`SAC_KWARGS`), and every value is set
explicitly, since RLlib's defaults differ (prioritized replay, dueling double-Q, 256-unit
heads). RLlib's A2C left with the old API stack, so ``a2c`` has no counterpart here.

RLlib's default modules take only 1-D boxes; :class:`FlatBoxes` flattens image observations and
image actions for them, as SB3's ``MlpPolicy`` flattens observations. The trained agent reshapes
its actions back (see :mod:`agents.backends.rllib_agent`). A task's own network (an SB3
features extractor, e.g. drive_highway's ego-attention) becomes the encoder of RLlib's DQN
module (:class:`ExtractorDQNModule`), as it is the trunk of SB3's Q-network; SAC refuses one.

PPO on Box actions gets SB3's Gaussian (:func:`default_ppo_module`): RLlib's default module with
a log standard deviation that does not depend on the observation (``free_log_std``), starting at
the task's ``log_std_init`` policy setting (:class:`GaussianPPOModule`), where RLlib's own
default has the network output it, starting near 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.dqn.torch.default_dqn_torch_rl_module import DefaultDQNTorchRLModule
from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import DefaultPPOTorchRLModule

from agents.backends.rllib_agent import mlp

OFF_POLICY = ("dqn", "sac")
# RLlib's default is 1,000 env steps per algo.train() for DQN (one metrics line per iteration);
# small budgets and checkpoint intervals shorten it so a run stops near its budget.
ITERATION_STEPS = 1000
# SB3's defaults for the kwargs learnloop passes through under the same names.
DQN_KWARGS: dict[str, Any] = {
    "buffer_size": 1_000_000, "learning_starts": 100, "train_freq": 4, "gradient_steps": 1,
    "target_update_interval": 10_000, "tau": 1.0, "exploration_fraction": 0.1,
    "exploration_initial_eps": 1.0, "exploration_final_eps": 0.05,
}  # fmt: skip
# ent_coef None: the common algo.ent_coef, as the SB3 backend passes it to SAC.
SAC_KWARGS: dict[str, Any] = {
    "buffer_size": 1_000_000, "learning_starts": 100, "train_freq": 1, "gradient_steps": 1,
    "target_update_interval": 1, "tau": 0.005, "ent_coef": None, "target_entropy": "auto",
}  # fmt: skip


@dataclass
class Knobs:
    """What a knob's value is computed from."""

    algo: Any  # tasks.config.AlgoConfig
    kwargs: dict[str, Any]  # algo.kwargs over SB3's defaults
    total_steps: int
    envs_per_round: int  # envs stepped per sampling round: runners (+1, as RLlib counts) x envs


def _lr(k: Knobs) -> Any:
    """The learning rate, or SB3's linear decay to 0 as an RLlib schedule."""
    if k.algo.lr_schedule == "linear":
        return [[0, k.algo.learning_rate], [k.total_steps, 0.0]]
    return k.algo.learning_rate


def _intensity(k: Knobs) -> float:
    """RLlib's training_intensity that makes ``gradient_steps`` updates per sampling round.

    RLlib runs ``training_intensity / native ratio`` updates a round, native ratio being
    ``batch / (fragment x envs per round)`` (rllib/algorithms/dqn/dqn.py calculate_rr_weights).
    SB3's ``gradient_steps=-1`` means one update per env step collected. Training intensity
    is a replay ratio (samples trained on per sample collected), and that is what this keeps:
    with several learners (``ray.num_learners``) each update trains on ``batch_size`` samples
    per learner, so RLlib makes proportionally fewer, larger updates.
    """
    per_round = k.kwargs["train_freq"] * k.envs_per_round
    updates = per_round if k.kwargs["gradient_steps"] == -1 else k.kwargs["gradient_steps"]
    return updates * k.algo.batch_size / per_round


def _epsilon(k: Knobs) -> list[list[float]]:
    """SB3's linear epsilon decay over ``exploration_fraction`` of the run."""
    decay = max(1, int(k.kwargs["exploration_fraction"] * k.total_steps))
    initial, final = k.kwargs["exploration_initial_eps"], k.kwargs["exploration_final_eps"]
    return [[0, initial], [decay, final]]


def _replay(k: Knobs) -> dict[str, Any]:
    return {"type": "EpisodeReplayBuffer", "capacity": int(k.kwargs["buffer_size"])}  # uniform


def _entropy(k: Knobs) -> tuple[float, bool]:
    """(initial alpha, learned?) from SB3's ent_coef: 'auto', 'auto_<initial>' or a number."""
    value = k.kwargs["ent_coef"]
    value = k.algo.ent_coef if value is None else value
    if isinstance(value, str) and value.startswith("auto"):
        return (float(value[5:]) if value.startswith("auto_") else 1.0), True
    try:
        return float(value), False
    except (TypeError, ValueError):
        raise ValueError(
            f"algo.kwargs.ent_coef={value!r}: expected 'auto', 'auto_<initial>' or a number"
        ) from None


Knob = tuple[str, str, Callable[[Knobs], Any]]
# learnloop knob -> DQNConfig.training() argument.
DQN_KNOBS: tuple[Knob, ...] = (
    ("learning_rate", "lr", _lr),
    ("gamma", "gamma", lambda k: k.algo.gamma),
    ("batch_size", "train_batch_size_per_learner", lambda k: k.algo.batch_size),
    ("max_grad_norm", "grad_clip", lambda k: k.algo.max_grad_norm),
    ("kwargs.buffer_size", "replay_buffer_config", _replay),
    ("kwargs.learning_starts", "num_steps_sampled_before_learning_starts",
     lambda k: k.kwargs["learning_starts"]),
    ("kwargs.target_update_interval", "target_network_update_freq",  # both in env steps
     lambda k: k.kwargs["target_update_interval"]),
    ("kwargs.tau", "tau", lambda k: k.kwargs["tau"]),
    ("kwargs.gradient_steps", "training_intensity", _intensity),
    ("kwargs.exploration_*", "epsilon", _epsilon),
    ("double_q", "double_q", lambda k: k.algo.double_q),
    ("dueling", "dueling", lambda k: k.algo.dueling),
)  # fmt: skip
# SB3's DQN where RLlib's defaults differ: plain DQN unless algo.double_q / algo.dueling say
# otherwise (RLlib's default is both), uniform replay, 1-step Huber targets. The replay buffer
# goes into checkpoints by our hand (rllib_trainer.py): RLlib's store_buffer_in_checkpoints works
# on its old API stack only.
DQN_FIXED: dict[str, Any] = {
    "num_atoms": 1, "noisy": False, "n_step": 1, "td_error_loss_fn": "huber", "adam_epsilon": 1e-8,
    "grad_clip_by": "global_norm", "store_buffer_in_checkpoints": False,
}  # fmt: skip
# learnloop knob -> SACConfig.training() argument (SB3's SAC has one learning rate for all three).
SAC_KNOBS: tuple[Knob, ...] = (
    ("learning_rate", "actor_lr", _lr),
    ("learning_rate", "critic_lr", _lr),
    ("learning_rate (0: a fixed ent_coef)", "alpha_lr",
     lambda k: _lr(k) if _entropy(k)[1] else 0.0),
    ("gamma", "gamma", lambda k: k.algo.gamma),
    ("batch_size", "train_batch_size_per_learner", lambda k: k.algo.batch_size),
    ("kwargs.buffer_size", "replay_buffer_config", _replay),
    ("kwargs.learning_starts", "num_steps_sampled_before_learning_starts",
     lambda k: k.kwargs["learning_starts"]),
    ("kwargs.target_update_interval", "target_network_update_freq",
     lambda k: k.kwargs["target_update_interval"]),
    ("kwargs.tau", "tau", lambda k: k.kwargs["tau"]),
    ("kwargs.gradient_steps", "training_intensity", _intensity),
    # A fixed ent_coef of 0 cannot be a log: the smallest positive alpha stands in for it.
    ("kwargs.ent_coef", "initial_alpha", lambda k: max(_entropy(k)[0], 1e-8)),
    ("kwargs.target_entropy", "target_entropy", lambda k: k.kwargs["target_entropy"]),
)  # fmt: skip
# SB3's SAC: twin critics, 1-step targets, no gradient clipping; lr None (RLlib's SAC rule).
SAC_FIXED: dict[str, Any] = {
    "twin_q": True, "n_step": 1, "grad_clip": None, "lr": None, "store_buffer_in_checkpoints": False,
}  # fmt: skip
TABLES = {"dqn": (DQN_KNOBS, DQN_FIXED, DQN_KWARGS), "sac": (SAC_KNOBS, SAC_FIXED, SAC_KWARGS)}
# Learner results (under learners/<module>/) -> the names SB3's DQN and SAC log under.
OFF_POLICY_METRICS: dict[str, dict[str, tuple[str, float]]] = {
    "dqn": {
        "qf_loss": ("losses/loss", 1.0),
        "default_optimizer_learning_rate": ("charts/learning_rate", 1.0),
    },
    "sac": {
        "policy_loss": ("losses/actor_loss", 1.0),
        "qf_loss": ("losses/critic_loss", 1.0),
        "alpha_loss": ("losses/ent_coef_loss", 1.0),
        "alpha_value": ("losses/ent_coef", 1.0),
        "policy_learning_rate": ("charts/learning_rate", 1.0),
    },
}


def sb3_kwargs(algo: Any) -> dict[str, Any]:
    """``algo.kwargs`` over SB3's defaults; ValueError names a kwarg RLlib has no place for."""
    defaults = TABLES[algo.name][2]
    unknown = sorted(set(algo.kwargs) - set(defaults))
    if unknown:
        raise ValueError(
            f"algo.kwargs: {', '.join(unknown)} not available for {algo.name} under "
            f"backend=rllib; known: {', '.join(defaults)} (others go in the rllib: section)"
        )
    kwargs = {**defaults, **algo.kwargs}
    if not isinstance(kwargs["train_freq"], int) or kwargs["train_freq"] < 1:
        raise ValueError(
            f"algo.kwargs.train_freq={kwargs['train_freq']!r}: backend=rllib takes a number of "
            "env steps >= 1"
        )
    return kwargs


def knob_values(algo: Any, total_steps: int, envs_per_round: int) -> dict[str, Any]:
    """``training()`` arguments for DQN or SAC from the common knobs and ``algo.kwargs``."""
    knobs, fixed, _ = TABLES[algo.name]
    values = Knobs(algo, sb3_kwargs(algo), total_steps, envs_per_round)
    return {**{rllib: value(values) for _, rllib, value in knobs}, **fixed}


def off_policy_config(ctx: Any, probe: Any, layout: tuple[int, int, int]) -> Any:
    """A DQNConfig or SACConfig with the knobs, the module and the iteration size set."""
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    if _multi_agent_or_masked(probe):
        raise ValueError(
            f"algo.name={ctx.algo.name!r} under backend=rllib takes single-agent tasks without "
            "action masks; use ppo or maskable_ppo here"
        )
    if ctx.algo.name == "dqn":
        from ray.rllib.algorithms.dqn import DQNConfig as Config
    else:
        from ray.rllib.algorithms.sac import SACConfig as Config
    runners, per_runner, _ = layout
    training = knob_values(ctx.algo, ctx.total_steps, per_runner * (runners + 1))
    every = [n for n in (ITERATION_STEPS, ctx.total_steps, ctx.checkpoint_every) if n > 0]
    # SB3's MLPs: net_arch with ReLU, then a linear output. RLlib's SAC encodes observation and
    # action apart and fuses them (one ReLU layer here) where SB3 concatenates them first.
    model = DefaultModelConfig(
        fcnet_hiddens=list(ctx.algo.net_arch), fcnet_activation="relu", head_fcnet_hiddens=[],
        fusionnet_hiddens=[], fusionnet_activation="relu",
    )  # fmt: skip
    config = Config()
    if "features_extractor_class" in ctx.policy_kwargs:  # DQN only (check_network says)
        config = config.rl_module(
            rl_module_spec=RLModuleSpec(module_class=ExtractorDQNModule),
            model_config={**asdict(model), **extractor_config(ctx.policy_kwargs, probe)},
        )
    else:
        config = config.rl_module(model_config=model)
    return (
        config
        .training(**training)
        # train_freq steps per env between updates; SAC's squashed actions in [-1, 1] are
        # rescaled to the box, as SB3 does
        .environment(normalize_actions=True, clip_actions=False)
        .env_runners(rollout_fragment_length=sb3_kwargs(ctx.algo)["train_freq"])
        .reporting(min_sample_timesteps_per_iteration=min(every), min_time_s_per_iteration=0,
                   min_train_timesteps_per_iteration=0)
    )  # fmt: skip


def _multi_agent_or_masked(probe: Any) -> bool:
    """True when ``probe`` is multi-agent or masked: RLlib's DQN/SAC modules take neither."""
    from ray.rllib.env.multi_agent_env import MultiAgentEnv

    from agents.backends.rllib_agent import is_masked_space

    return isinstance(probe, MultiAgentEnv) or is_masked_space(probe.observation_space)


def exploration_metrics(config: Any, step: int) -> dict[str, float]:
    """``charts/exploration_rate`` for DQN (SB3 logs it too); nothing for other algorithms."""
    schedule = getattr(config, "epsilon", None)
    if config.algo_class.__name__ != "DQN" or not isinstance(schedule, list | tuple):
        return {}
    steps, values = zip(*schedule, strict=True)
    return {"charts/exploration_rate": float(np.interp(step, steps, values))}


# -- flat boxes for RLlib's default modules ----------------------------------------------------


def _flat(space: Any) -> Any:
    if isinstance(space, gym.spaces.Box) and len(space.shape) > 1:
        return gym.spaces.Box(space.low.reshape(-1), space.high.reshape(-1), dtype=space.dtype)
    return space


def needs_flat_boxes(env: Any) -> bool:
    """True when the env's observations or actions are boxes of more than one dimension."""
    return any(
        isinstance(space, gym.spaces.Box) and len(space.shape) > 1
        for space in (env.observation_space, env.action_space)
    )


class FlatBoxes(gym.Wrapper):
    """Multi-dimensional Box observations and actions seen as 1-D boxes (same values, in C
    order); actions are reshaped back before they reach the env."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.action_shape = env.action_space.shape
        self.observation_space = _flat(env.observation_space)
        self.action_space = _flat(env.action_space)

    def _observation(self, obs: Any) -> Any:
        if self.observation_space is self.env.observation_space:
            return obs
        return np.asarray(obs, dtype=self.observation_space.dtype).reshape(-1)

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        return self._observation(obs), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if self.action_space is not self.env.action_space:
            action = np.asarray(action).reshape(self.action_shape)
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._observation(obs), reward, terminated, truncated, info


# -- DQN's default module with the task's features extractor -------------------------------------


def extractor_config(policy_kwargs: dict[str, Any], probe: Any) -> dict[str, Any]:
    """``model_config`` entries for :class:`ExtractorDQNModule`: the task's extractor, its
    kwargs and the observation's shape before :class:`FlatBoxes` flattened it."""
    space = (probe.env if isinstance(probe, FlatBoxes) else probe).observation_space
    return {
        "features_extractor_class": policy_kwargs["features_extractor_class"],
        "features_extractor_kwargs": dict(policy_kwargs.get("features_extractor_kwargs", {})),
        "features_space": space,
    }


class ExtractorEncoder(torch.nn.Module):
    """RLlib encoder made of a task's SB3 features extractor and then ``fcnet_hiddens`` (ReLU):
    SB3's Q-network trunk. Observations arrive flat (FlatBoxes) and are reshaped back first."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        space = config["features_space"]
        self.shape = tuple(space.shape)
        self.features = config["features_extractor_class"](
            space, **config["features_extractor_kwargs"]
        )
        hidden = list(config["fcnet_hiddens"])
        self.trunk, _ = mlp(self.features.features_dim, hidden, torch.nn.ReLU)

    def forward(self, batch: dict[str, Any]) -> dict[str, Any]:
        from ray.rllib.core.columns import Columns
        from ray.rllib.core.models.base import ENCODER_OUT

        obs = batch[Columns.OBS].float()
        features = self.features(obs.reshape(len(obs), *self.shape))
        return {ENCODER_OUT: self.trunk(features)}


class ExtractorDQNModule(DefaultDQNTorchRLModule):
    """RLlib's DQN module (Q head, or dueling heads, and target copies of each) whose encoder is
    the task's features extractor and ``fcnet_hiddens``, as SB3's DQN builds it, in place of
    RLlib's MLP over the flat observation."""

    def setup(self) -> None:
        super().setup()
        self.encoder = ExtractorEncoder(dict(self.model_config))


# -- PPO's default module, with SB3's Gaussian for Box actions ----------------------------------

LOG_STD_INIT = 0.0  # SB3's default policy log_std_init


class GaussianPPOModule(DefaultPPOTorchRLModule):
    """RLlib's default PPO module whose Gaussian has a free log standard deviation (SB3's
    parameterisation), initialised to ``model_config["log_std_init"]``."""

    def setup(self) -> None:
        super().setup()
        with torch.no_grad():
            self.pi.log_std.fill_(float(self.model_config.get("log_std_init", LOG_STD_INIT)))


def default_ppo_module(ctx: Any, probe: Any) -> dict[str, Any]:
    """``PPOConfig.rl_module()`` arguments for RLlib's default module on ``probe``'s spaces: MLPs
    of ``net_arch`` (tanh) for the policy and the value; for Box actions SB3's Gaussian, its log
    standard deviation starting at the policy setting ``log_std_init`` (SB3's 0 without one)."""
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    arch = ctx.policy_kwargs.get("net_arch", ctx.algo.net_arch)
    if isinstance(arch, dict):  # SB3's {"pi": [...], "vf": [...]}: RLlib has one size list
        arch = arch["pi"]
    model = DefaultModelConfig(
        fcnet_hiddens=list(arch), fcnet_activation="tanh", head_fcnet_hiddens=[],
        vf_share_layers=False,
    )  # fmt: skip
    if not isinstance(probe.action_space, gym.spaces.Box):
        return {"model_config": model}
    gaussian = {
        **asdict(model), "free_log_std": True,
        "log_std_init": float(ctx.policy_kwargs.get("log_std_init", LOG_STD_INIT)),
    }  # fmt: skip
    return {"rl_module_spec": RLModuleSpec(module_class=GaussianPPOModule, model_config=gaussian)}
