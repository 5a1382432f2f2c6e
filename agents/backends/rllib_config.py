"""How the RLlib backend builds RLlib's config and reads its results (agents/backends/rllib.py).

The Ray RLlib backend: PPO, DQN and SAC on RLlib's new API stack, on a local Ray or a cluster.

Single-agent tasks hand over a Gymnasium env factory; two-player self-play tasks hand over a
:class:`~agents.backends.rllib_selfplay.SelfPlayMultiAgentEnv` (one module per role, only
``learner`` trains); a PettingZoo ParallelEnv (the warehouse robots) is wrapped in
:class:`~agents.backends.rllib_parallel.ParallelAgentsEnv` (shared or per-agent policies,
optionally a critic on the global state). The common knobs map to RLlib's names in one table per
algorithm (:data:`PPO_KNOBS`; DQN's and SAC's in :mod:`agents.backends.rllib_algorithms`); every
value is set explicitly because RLlib's defaults differ from SB3's, and the config's ``rllib:``
section passes anything else (``{method: {argument: value}}``, applied last).

``algo.train()`` logs nothing by itself: each iteration's result dict is renamed to
learnloop's metric names (:data:`LEARNER_METRICS`, :func:`result_metrics`) and handed to the run's logger. The global
step is environment steps sampled over the run's lifetime (for self-play: the learner's own
moves; for robots, robot-steps: as under SB3). Checkpoints hold ``algo.save_to_path`` output plus a small JSON naming
the trained module (and DQN's or SAC's replay buffer); the trained agent loads from a checkpoint
with torch alone, no Ray. RLlib's default modules take 1-D boxes only, so image observations
and actions reach them flattened (:class:`~agents.backends.rllib_algorithms.FlatBoxes`).
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.backends.rllib_agent import MODULE_FILE, is_masked_space
from agents.base import EPISODE_METRICS, TrainContext, episode_metrics, resolve_device

SINGLE_MODULE = "default_policy"  # RLlib's module id for single-agent tasks
PPO_FAMILY = ("ppo", "maskable_ppo")  # both PPO: masking comes from the observations

# learnloop knob -> RLlib PPOConfig.training() argument; (name, rllib name, value from algo).
PPO_KNOBS: tuple[tuple[str, str, Callable[[Any], Any]], ...] = (
    ("n_steps x n_envs", "train_batch_size_per_learner", lambda a: a.n_steps * a.n_envs),
    ("batch_size", "minibatch_size", lambda a: a.batch_size),
    ("n_epochs", "num_epochs", lambda a: a.n_epochs),
    ("learning_rate", "lr", lambda a: a.learning_rate),  # lr_schedule=linear: a schedule
    ("gamma", "gamma", lambda a: a.gamma),
    ("gae_lambda", "lambda_", lambda a: a.gae_lambda),
    ("clip_range", "clip_param", lambda a: a.clip_range),  # RLlib has no clip schedule
    ("ent_coef", "entropy_coeff", lambda a: a.ent_coef),
    ("vf_coef", "vf_loss_coeff", lambda a: a.vf_coef),
    ("max_grad_norm", "grad_clip", lambda a: a.max_grad_norm),
    # net_arch -> model_config: fcnet_hiddens (RLlib's module) or net_arch (ActorCriticModule)
)
# SB3's PPO behaviour where RLlib's defaults differ: no KL penalty, no value-loss clipping.
PPO_FIXED: dict[str, Any] = {
    "use_kl_loss": False, "kl_coeff": 0.0, "vf_clip_param": float("inf"),
    "grad_clip_by": "global_norm", "use_critic": True, "use_gae": True,
    "shuffle_batch_per_epoch": True,
}  # fmt: skip
# Result-dict keys (under learners/<module>/) -> learnloop metric names; SB3's entropy_loss is
# the negative entropy.
LEARNER_METRICS: dict[str, tuple[str, float]] = {
    "policy_loss": ("losses/policy_gradient_loss", 1.0),
    "vf_loss": ("losses/value_loss", 1.0),
    "entropy": ("losses/entropy_loss", -1.0),
    "vf_explained_var": ("losses/explained_variance", 1.0),
    "total_loss": ("losses/loss", 1.0),
    "default_optimizer_learning_rate": ("charts/learning_rate", 1.0),
}  # PPO's; DQN's and SAC's are in agents.backends.rllib_algorithms
RESTART_DELAY_S = 2.0  # RLlib waits 60 s before restarting a failed env runner
# RLlib pings runners that died once per training iteration and waits up to 30 s for one that
# Ray cannot place (its node is gone, no CPU free elsewhere): the run crawled at 1/14 of its
# rate. A short ping, and the trainer pings such runners only every PROBE_EVERY_S.
PROBE_TIMEOUT_S = 3.0
PROBE_EVERY_S = 30.0


def _settings(ctx: TrainContext) -> tuple[Any, dict[str, Any]]:
    """The ``ray`` section and the ``rllib`` passthrough."""
    return ctx.ray, dict(ctx.rllib)


def env_runner_layout(algo: Any, ray_cfg: Any) -> tuple[int, int, int]:
    """(env runners, envs per runner, rollout fragment length) for ``n_steps x n_envs``."""
    runners = ray_cfg.num_env_runners
    per_runner = ray_cfg.num_envs_per_env_runner or max(1, -(-algo.n_envs // max(runners, 1)))
    batch = algo.n_steps * algo.n_envs
    envs = max(runners, 1) * per_runner
    if batch % envs and algo.name in ("ppo", "maskable_ppo"):
        # RLlib would reject it later with a traceback: every env samples the same fragment.
        raise ValueError(
            f"ray.num_env_runners={runners} x {per_runner} envs each = {envs} envs cannot share "
            f"a batch of algo.n_steps x algo.n_envs = {batch} steps evenly; make algo.n_envs "
            f"a multiple of the runners (or set ray.num_envs_per_env_runner)"
        )
    return runners, per_runner, max(1, batch // envs)


def ppo_training_kwargs(algo: Any, total_steps: int) -> dict[str, Any]:
    """PPOConfig.training() arguments from the common knobs (:data:`PPO_KNOBS`)."""
    kwargs = {rllib: value(algo) for _, rllib, value in PPO_KNOBS}
    if algo.lr_schedule == "linear":  # SB3: lr * progress remaining, down to 0 at the end
        kwargs["lr"] = [[0, algo.learning_rate], [total_steps, 0.0]]
    if algo.batch_size > kwargs["train_batch_size_per_learner"]:
        raise ValueError(
            f"algo.batch_size={algo.batch_size} exceeds the batch n_steps x n_envs="
            f"{kwargs['train_batch_size_per_learner']}"
        )
    return {**kwargs, **PPO_FIXED}


def _module_config(ctx: TrainContext) -> dict[str, Any]:
    return {"net_arch": list(ctx.algo.net_arch), **ctx.policy_kwargs}


def _gpus(ctx: TrainContext, ray_cfg: Any) -> float:
    """GPUs per learner: as configured, else one when a local learner sees a GPU."""
    if ray_cfg.num_gpus_per_learner > 0:
        if ctx.device == "cpu":
            raise ValueError("device=cpu conflicts with ray.num_gpus_per_learner > 0")
        return float(ray_cfg.num_gpus_per_learner)
    if ray_cfg.num_learners == 0 and ctx.device != "cpu":
        return 1.0 if resolve_device(ctx.device).startswith("cuda") else 0.0
    return 0.0


class EnvCreator:
    """RLlib's env creator: env ``worker_index * per_runner + n`` of the task's factory."""

    def __init__(
        self, make_env: Callable[[int], Any], per_runner: int, wrap: Callable | None = None
    ) -> None:
        self.make_env = make_env
        self.per_runner = per_runner
        self.wrap = wrap
        self.made = 0

    def __call__(self, env_context: Any) -> Any:
        index = env_context.worker_index * self.per_runner + self.made
        self.made += 1
        env = self.make_env(index)
        return env if self.wrap is None else self.wrap(env)


class AgentToModule:
    """RLlib's policy mapping: ``shared``/``separate`` for parallel envs; else the identity
    (self-play envs name their agents after the module that plays them)."""

    def __init__(self, policies: str | None = None) -> None:
        self.policies = policies

    def __call__(self, agent_id: str, episode: Any = None, **kwargs: Any) -> str:
        if self.policies is None:
            return agent_id
        from agents.backends.rllib_parallel import module_for

        return module_for(agent_id, self.policies)


def uses_actor_critic_module(env: Any, policy_kwargs: dict[str, Any]) -> bool:
    """PPO on our SB3-shaped module for Discrete actions with masks, images or a features
    extractor; on RLlib's default module (an MLP; Gaussian for Box actions) otherwise."""
    if not hasattr(env.action_space, "n"):
        return False
    space = env.observation_space
    return (
        is_masked_space(space)
        or "features_extractor_class" in policy_kwargs
        or len(getattr(space, "shape", None) or ()) > 1
    )


def check_algorithm(name: str) -> None:
    """ValueError, in one line, for an algorithm RLlib's new API stack does not run here."""
    from agents.backends import backend_for

    if backend_for("rllib", name) != "rllib":
        raise ValueError(f"algo.name={name!r} runs on its own backend, not under backend=rllib")


def check_network(name: str, policy_kwargs: dict[str, Any]) -> None:
    """ValueError, in one line, for a task's features extractor under an algorithm whose RLlib
    module here is RLlib's own MLP (SAC): it would be dropped, not trained. PPO's and DQN's
    modules build it."""
    extractor = policy_kwargs.get("features_extractor_class")
    if extractor is not None and name not in (*PPO_FAMILY, "dqn"):
        raise ValueError(
            f"algo.name={name} under backend=rllib trains RLlib's own MLP, not the task's "
            f"{extractor.__name__} network; use backend=sb3, or ppo or dqn under backend=rllib"
        )


def check_algo(algo: Any) -> None:
    """ValueError, in one line, for an ``algo`` setting RLlib's DQN here has no counterpart for:
    ``average_steps`` (greedy actions from averaged weights; RLlib's act from the online ones)."""
    if getattr(algo, "average_steps", 0):
        raise ValueError(
            f"algo.average_steps={algo.average_steps} runs under backend=sb3 only "
            "(backend=rllib's DQN acts from its online weights); set it to 0"
        )


def build_config(ctx: TrainContext, probe: Any, env_name: str) -> Any:
    """The full algorithm config (PPO, DQN or SAC) for a task whose first env is ``probe``."""
    check_algorithm(ctx.algo.name)
    check_algo(ctx.algo)
    check_network(ctx.algo.name, ctx.policy_kwargs)
    ray_cfg, passthrough = _settings(ctx)
    runners, per_runner, fragment = env_runner_layout(ctx.algo, ray_cfg)
    if ctx.algo.name in PPO_FAMILY:
        config = ppo_config(ctx, probe, fragment)
    else:
        from agents.backends.rllib_algorithms import off_policy_config

        config = off_policy_config(ctx, probe, (runners, per_runner, fragment))
    config = (
        config.environment(env_name, disable_env_checking=True)
        .env_runners(num_env_runners=runners, num_envs_per_env_runner=per_runner,
                     num_cpus_per_env_runner=1)
        .learners(num_learners=ray_cfg.num_learners, num_gpus_per_learner=_gpus(ctx, ray_cfg),
                  num_cpus_per_learner=ray_cfg.num_cpus_per_learner)
        .fault_tolerance(restart_failed_env_runners=True,
                         delay_between_env_runner_restarts_s=RESTART_DELAY_S,
                         env_runner_health_probe_timeout_s=PROBE_TIMEOUT_S)
        .debugging(seed=ctx.seed)
        .callbacks(on_episode_end=log_episode_metrics)
    )  # fmt: skip
    return apply_passthrough(config, passthrough)


def log_episode_metrics(*, episode: Any, metrics_logger: Any = None, **_: Any) -> None:
    """RLlib's on_episode_end, in every env runner (remote ones included): the env's
    per-episode metrics (``info[EPISODE_METRICS]`` on the last step) into RLlib's results,
    averaged over the last 100 episodes as RLlib averages returns."""
    if metrics_logger is None:
        return
    last = episode.get_infos(-1)
    # A multi-agent episode gives each agent's last info.
    infos = last.values() if isinstance(last, dict) and EPISODE_METRICS not in last else [last]
    for info in infos:
        for name, value in episode_metrics(info).items():
            metrics_logger.log_value((EPISODE_METRICS, name), value, reduce="mean", window=100)


def ppo_config(ctx: TrainContext, probe: Any, fragment: int) -> Any:
    """PPOConfig with the knobs and the module: ours, one per multi-agent role, or RLlib's."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.env.multi_agent_env import MultiAgentEnv

    from agents.backends.rllib_agent import ActorCriticModule

    if ctx.algo.clip_schedule != "constant":
        warnings.warn(
            f"backend=rllib: algo.clip_schedule={ctx.algo.clip_schedule!r} is not available in "
            f"RLlib's PPO; clip_param stays {ctx.algo.clip_range}",
            stacklevel=3,
        )
    # SB3's PPO clips Gaussian actions to the box; RLlib's default would rescale [-1, 1] to it.
    config = (
        PPOConfig()
        .environment(normalize_actions=False, clip_actions=True)
        .env_runners(rollout_fragment_length=fragment)
        .training(**ppo_training_kwargs(ctx.algo, ctx.total_steps))
    )
    if isinstance(probe, MultiAgentEnv):
        spec = functools.partial(RLModuleSpec, module_class=ActorCriticModule,
                                 model_config=_module_config(ctx))  # fmt: skip
        # module id -> an agent it plays (for its spaces); identity unless the env says
        agents = getattr(probe, "module_agents", {a: a for a in probe.possible_agents})
        from agents.backends.rllib_selfplay import SelfPlayMultiAgentEnv, next_round

        if isinstance(probe, SelfPlayMultiAgentEnv):  # one snapshot per sampling round
            config = config.callbacks(on_sample_end=next_round)
        config = config.multi_agent(
            policies=set(agents), policy_mapping_fn=AgentToModule(getattr(probe, "policies", None)),
            policies_to_train=list(getattr(probe, "trained_agents", ["learner"])),
            # Robot-steps, as SB3 counts them. Not for self-play, where one agent moves per env
            # step anyway: RLlib 2.60's agent-step count hits a NaN from a restarted runner.
            count_steps_by="env_steps" if isinstance(probe, SelfPlayMultiAgentEnv) else "agent_steps",
        ).rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={
            m: spec(observation_space=probe.observation_spaces[a],
                    action_space=probe.action_spaces[a]) for m, a in agents.items()
        }))  # fmt: skip
    elif uses_actor_critic_module(probe, ctx.policy_kwargs):
        config = config.rl_module(rl_module_spec=RLModuleSpec(
            module_class=ActorCriticModule, model_config=_module_config(ctx)))  # fmt: skip
    else:  # RLlib's default MLPs (SB3's Gaussian for boxes, log_std_init included)
        from agents.backends.rllib_algorithms import default_ppo_module

        config = config.rl_module(**default_ppo_module(ctx, probe))
    return config


def apply_passthrough(config: Any, passthrough: dict[str, Any]) -> Any:
    """Apply ``rllib: {method: {argument: value}}`` onto an AlgorithmConfig, last."""
    for method, arguments in passthrough.items():
        target = getattr(config, method, None) if not method.startswith("_") else None
        if not callable(target) or not isinstance(arguments, dict):
            raise ValueError(
                f"rllib.{method}: expected an AlgorithmConfig method with a mapping of "
                f"arguments (e.g. rllib: {{training: {{kl_coeff: 0.2}}}}), got {arguments!r}"
            )
        try:
            config = target(**arguments)
        except TypeError as error:
            raise ValueError(f"rllib.{method}: {error}") from None
    return config


def _lookup(result: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(result, dict) or key not in result:
            return None
        result = result[key]
    return result


def result_metrics(
    result: dict[str, Any],
    trained: list[str],
    multi: bool,
    learner_metrics: dict[str, tuple[str, float]] = LEARNER_METRICS,
) -> dict[str, float]:
    """learnloop's metrics from one ``algo.train()`` result (NaN values are dropped later);
    ``learner_metrics`` names the algorithm's learner results (PPO's by default)."""
    runners = result.get("env_runners", {})
    metrics: dict[str, float] = {}
    returns = []
    for module in trained:
        suffix = f"/{module}" if len(trained) > 1 else ""
        if multi:
            ret = _lookup(runners, "module_episode_return_mean", module)
            ret = _lookup(runners, "module_episode_returns_mean", module) if ret is None else ret
        else:
            ret = runners.get("episode_return_mean")
        if ret is not None:
            metrics["charts/episode_return" + suffix] = float(ret)
            returns.append(float(ret))
        for key, (name, sign) in learner_metrics.items():
            value = _lookup(result, "learners", module, key)
            if value is not None:
                metrics[name + suffix] = sign * float(value)
    if len(trained) > 1 and returns:  # one policy per agent: the headline is their mean
        metrics["charts/episode_return"] = sum(returns) / len(returns)
    for name, value in (runners.get(EPISODE_METRICS) or {}).items():
        metrics[f"charts/{name}"] = float(value)
    if "episode_len_mean" in runners:
        metrics["charts/episode_length"] = float(runners["episode_len_mean"])
    faults = result.get("fault_tolerance", {})
    healthy, restarts = (
        faults.get(k, 0) for k in ("num_healthy_workers", "num_remote_worker_restarts")
    )
    if healthy or restarts:  # only with remote env runners
        metrics["ray/healthy_env_runners"] = float(healthy)
        metrics["ray/env_runner_restarts"] = float(restarts)
    return metrics


def sampled_steps(result: dict[str, Any], trained: list[str], multi: bool) -> int:
    """Lifetime steps: env steps, or for multi-agent the trained modules' own steps."""
    runners = result.get("env_runners", {})
    if multi:
        lifetime = runners.get("num_module_steps_sampled_lifetime", {})
        return int(sum(float(lifetime.get(m, 0)) for m in trained))
    return int(float(runners.get("num_env_steps_sampled_lifetime", 0)))


def read_module_info(checkpoint: Path) -> dict[str, Any]:
    """The JSON the backend writes beside ``algo.save_to_path`` output."""
    return json.loads((checkpoint / MODULE_FILE).read_text())
