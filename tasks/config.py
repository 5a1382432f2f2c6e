"""Typed task configs: defaults in dataclasses, then a YAML file, then ``key=value`` overrides.

Every field carries a one-line description (``describe``), and optionally a range or a set of
allowed values. Values from YAML and the command line are type-checked against the field's type
hint; an unknown key, a wrong type, a value out of range or a YAML syntax error raises
:class:`ConfigError` with one line that names the key, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import sys
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agents.backends import ALGORITHMS, BACKENDS, backend_for
from agents.backends.ray_cluster import RayConfig
from agents.settings import describe, section


class ConfigError(ValueError):
    """A config value, key or file is wrong; the message is one line meant for the user."""


# ---------------------------------------------------------------------------------------------
# Sections shared by every task
# ---------------------------------------------------------------------------------------------


@dataclass
class TrainConfig:
    """How long to train and how often to save."""

    total_steps: int = describe("Environment steps to train for.", 50_000, min=1)
    checkpoint_every: int = describe(
        "Save a checkpoint every this many environment steps (0: only at the end).", 10_000, min=0
    )
    keep_checkpoints: int = describe("How many recent checkpoints to keep on disk.", 3, min=1)
    log_every_s: float = describe(
        "Seconds between plain progress lines when stderr is not a terminal.", 10.0, min=0.1
    )


@dataclass
class EvalConfig:
    """Evaluation after training and during it."""

    episodes: int = describe("Episodes (or games per opponent) in the final evaluation.", 20, min=1)
    every: int = describe(
        "Evaluate during training every this many environment steps (0: off).", 0, min=0
    )
    periodic_episodes: int = describe("Episodes per periodic evaluation during training.", 5, min=1)
    deterministic: bool = describe("Act greedily (no sampling) when evaluating.", True)


@dataclass
class AlgoConfig:
    """The learning algorithm and its common knobs (the same names under every backend)."""

    name: str = describe("Algorithm.", "ppo", choices=ALGORITHMS)
    policy: str = describe(
        "SB3 policy class name, or 'auto' to pick from the observation space.", "auto"
    )
    n_envs: int = describe("Environments stepped side by side.", 4, min=1, max=4096)
    vec_env: str = describe(
        "How to run the environments: 'dummy' (one process) or 'subproc'.",
        "dummy",
        choices=("dummy", "subproc"),
    )
    learning_rate: float = describe("Optimizer step size.", 3e-4, min=0.0)
    lr_schedule: str = describe(
        "Learning-rate schedule over training.", "constant", choices=("constant", "linear")
    )
    n_steps: int = describe(
        "Steps per environment per rollout (PPO, A2C; SB3's off-policy n-step returns are "
        "algo.kwargs.n_steps).",
        128,
        min=1,
    )
    batch_size: int = describe("Minibatch size.", 64, min=1)
    n_epochs: int = describe("Passes over each rollout (PPO).", 10, min=1)
    gamma: float = describe("Discount factor.", 0.99, min=0.0, max=1.0)
    gae_lambda: float = describe("GAE lambda.", 0.95, min=0.0, max=1.0)
    clip_range: float = describe("PPO clip range.", 0.2, min=0.0)
    clip_schedule: str = describe(
        "Clip-range schedule over training.", "constant", choices=("constant", "linear")
    )
    ent_coef: float = describe("Entropy bonus coefficient.", 0.0, min=0.0)
    vf_coef: float = describe("Value loss coefficient.", 0.5, min=0.0)
    max_grad_norm: float = describe("Gradient clipping norm.", 0.5, min=0.0)
    net_arch: list[int] = describe("Hidden layer sizes of the MLP parts.", factory=lambda: [64, 64])
    double_q: bool = describe(
        "DQN: Double Q-learning targets (the online network picks the next action, the target "
        "network values it).",
        False,
    )
    dueling: bool = describe("DQN: a dueling head, Q = V + A - mean(A).", False)
    average_steps: int = describe(
        "DQN, SB3 backend: greedy actions (evaluation, validation, play) from a moving average "
        "of the Q-network's weights over about this many gradient steps; exploration acts from "
        "the online weights (0: greedy from the online weights).",
        0,
        min=0,
    )
    kwargs: dict[str, Any] = describe(
        "Other keyword arguments passed to the algorithm as they are (e.g. buffer_size for DQN).",
        factory=dict,
    )


@dataclass
class TaskConfig:
    """Fields every task has. Tasks subclass this and add an ``env`` section and their own."""

    task: str = describe("The task's name (set by the runner; a YAML file may name it).", "")
    seed: int = describe("Random seed for envs, networks and evaluation.", 0, min=0)
    backend: str = describe("Training backend.", "sb3", choices=tuple(BACKENDS))
    device: str = describe("'auto' (CUDA when present), 'cpu', 'cuda' or 'cuda:N'.", "auto")
    runs_dir: str = describe("Folder that holds the run folders.", "runs")
    resume: str = describe(
        "'latest' continues the newest run of this task; a run folder path continues that run.", ""
    )
    checkpoint: str = describe(
        "A checkpoint to evaluate, play or serve (a step folder or a run folder).", ""
    )
    train: TrainConfig = section(TrainConfig, "Training budget and checkpoints.")
    eval: EvalConfig = section(EvalConfig, "Evaluation.")
    algo: AlgoConfig = section(AlgoConfig, "Algorithm and hyperparameters.")
    ray: RayConfig = section(RayConfig, "Ray cluster settings for backend=rllib.")
    rllib: dict[str, Any] = describe(
        "backend=rllib: other AlgorithmConfig settings by method, applied last "
        "(e.g. {training: {kl_coeff: 0.2}, fault_tolerance: {max_num_env_runner_restarts: 5}}).",
        factory=dict,
    )

    def algorithm(self) -> str | None:
        """The algorithm this config trains, as the backend registry names it: ``algo.name``
        unless the task's config names it elsewhere (the paradigm tasks' ``learner.name``);
        None for a config that trains none itself (a suite of member tasks)."""
        return self.algo.name


# ---------------------------------------------------------------------------------------------
# Walking, checking and setting values
# ---------------------------------------------------------------------------------------------


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def iter_fields(cfg_cls: type, prefix: str = "") -> Iterator[tuple[str, Any, dataclasses.Field]]:
    """Yield (dotted key, type hint, field) for every leaf field, depth first."""
    hints = _hints(cfg_cls)
    for f in dataclasses.fields(cfg_cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            yield from iter_fields(hint, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", hint, f


def type_name(hint: Any) -> str:
    """A short readable name of a type hint ('int', 'list[int]', 'str | None')."""
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__name__
    return str(hint).replace("typing.", "")


def _is_optional(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in (
        typing.get_args(hint)
    )


def coerce(key: str, value: Any, hint: Any, f: dataclasses.Field | None = None) -> Any:
    """Check ``value`` against ``hint`` (and the field's bounds); return it, converted if needed."""
    if _is_optional(hint):
        if value is None:
            return None
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return coerce(key, value, inner[0], f)
    origin = typing.get_origin(hint)
    bad = ConfigError(f"{key}: expected {type_name(hint)}, got {value!r}")
    if hint is bool:
        if not isinstance(value, bool):
            raise bad
    elif hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise bad
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        value = float(value)
    elif hint is str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise bad
        value = str(value)
    elif origin is list:
        if not isinstance(value, list | tuple):
            raise bad
        (item,) = typing.get_args(hint)
        value = [coerce(f"{key}[{i}]", v, item) for i, v in enumerate(value)]
    elif origin is dict:
        if not isinstance(value, dict):
            raise bad
        value = dict(value)
    if f is not None:
        _check_bounds(key, value, f)
    return value


def _check_bounds(key: str, value: Any, f: dataclasses.Field) -> None:
    choices, low, high = f.metadata.get("choices"), f.metadata.get("min"), f.metadata.get("max")
    if choices is not None and value not in choices:
        allowed = ", ".join(str(c) for c in choices)
        raise ConfigError(f"{key}: {value!r} is not one of: {allowed}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if low is not None and value < low:
            raise ConfigError(f"{key}: {value!r} is below the minimum {low}")
        if high is not None and value > high:
            raise ConfigError(f"{key}: {value!r} is above the maximum {high}")


def _unknown_key(key: str, known: list[str]) -> ConfigError:
    name = key.rsplit(".", 1)[-1]
    leaves = [k.rsplit(".", 1)[-1] for k in known]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if not close:
        by_leaf = difflib.get_close_matches(name, leaves, n=1, cutoff=0.6)
        close = [known[leaves.index(by_leaf[0])]] if by_leaf else []
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return ConfigError(f"unknown config key '{key}'{hint}")


# Keys that configs once had: an old run's config.yaml (or a YAML file) that still sets one
# loads with a one-line warning instead of an unknown-key error.
REMOVED_KEYS: dict[str, str] = {
    "expert": "expert iteration was removed (it made the network weaker; see algo.name=alphazero)",
    "search.rollout_weight": "the Python PUCT search and its random playouts were removed",
    "search.batch_size": "the compiled search evaluates one leaf per game per step",
    "report.stats_every": "every backend logs charts/crash_rate and charts/mean_speed as episodes end",
}


def removed_key(key: str) -> str | None:
    """Why ``key`` (or the section holding it) is no longer a config key, or None."""
    for old, reason in REMOVED_KEYS.items():
        if key == old or key.startswith(old + "."):
            return reason
    return None


def set_value(cfg: Any, key: str, value: Any, source: str = "") -> None:
    """Set the dotted ``key`` of ``cfg`` to ``value`` after checking it; errors name the key.

    A key in :data:`REMOVED_KEYS` is skipped with a one-line warning on stderr."""
    reason = removed_key(key)
    if reason is not None:
        print(f"warning: config key '{key}' is ignored: {reason}", file=sys.stderr)
        return
    parts = key.split(".")
    target = cfg
    for depth, part in enumerate(parts):
        names = {f.name: f for f in dataclasses.fields(target)}
        if part not in names:
            known = [k for k, _, _ in iter_fields(type(cfg))]
            known += [f"{'.'.join(parts[:depth])}.{n}".lstrip(".") for n in names]
            raise _unknown_key(key, sorted(set(known)))
        f = names[part]
        hint = _hints(type(target))[part]
        if depth == len(parts) - 1:
            if dataclasses.is_dataclass(hint):
                if not isinstance(value, Mapping):
                    raise ConfigError(f"{key}: expected a section (a mapping), got {value!r}")
                for sub_key, sub_value in value.items():
                    set_value(cfg, f"{key}.{sub_key}", sub_value, source)
                return
            setattr(target, part, coerce(key, value, hint, f))
            return
        if not dataclasses.is_dataclass(hint):
            raise ConfigError(f"{'.'.join(parts[: depth + 1])} is a value, not a section")
        target = getattr(target, part)


def apply_mapping(cfg: Any, values: Mapping[str, Any], prefix: str = "") -> None:
    """Apply a nested mapping (as read from YAML) onto ``cfg``."""
    for key, value in values.items():
        if not isinstance(key, str):
            raise ConfigError(f"config keys must be strings, got {key!r}")
        set_value(cfg, f"{prefix}{key}", value)


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping; a syntax error names the file and line."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{where}: YAML syntax error: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of config keys, got {type(data).__name__}")
    return data


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``key=value`` and parse the value as YAML (so 3 is an int, [64, 64] a list)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"expected key=value, got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, (raw if isinstance(value, str) else value)


def load_config(
    cfg_cls: type,
    task: str,
    yaml_path: Path | None,
    overrides: list[str],
) -> Any:
    """Typed defaults, then the YAML file, then the overrides; returns a checked config."""
    cfg = cfg_cls()
    if yaml_path is not None:
        data = read_yaml(yaml_path)
        named = data.pop("task", None)
        if named is not None and named != task:
            raise ConfigError(f"{yaml_path}: task: {named!r} does not match the task {task!r}")
        apply_mapping(cfg, data)
    for text in overrides:
        key, value = parse_override(text)
        if key == "task":
            raise ConfigError("task cannot be overridden; name the task on the command line")
        if _leaf_hint(cfg_cls, key) is str and not isinstance(value, str):
            value = text.partition("=")[2]
        set_value(cfg, key, value)
    cfg.task = task
    algorithm = cfg.algorithm()
    try:  # a native algorithm (alphazero) brings its own backend
        if algorithm is not None:
            cfg.backend = backend_for(cfg.backend, algorithm)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    algo = getattr(cfg, "algo", None)
    for knob in ("double_q", "dueling", "average_steps"):  # DQN's own options
        if algo is not None and getattr(algo, knob) and algo.name != "dqn":
            value = str(getattr(algo, knob)).lower()  # true, as a YAML file or override says
            raise ConfigError(f"algo.{knob}={value} is a DQN option; algo.name is {algo.name}")
    return cfg


def _leaf_hint(cfg_cls: type, key: str) -> Any:
    for name, hint, _ in iter_fields(cfg_cls):
        if name == key:
            return hint
    return None


def to_dict(cfg: Any) -> dict[str, Any]:
    """The config as plain nested dicts (for config.yaml and hashing)."""
    return dataclasses.asdict(cfg)


def from_dict(cfg_cls: type, data: Mapping[str, Any]) -> Any:
    """Rebuild a config from ``to_dict`` output (e.g. a run's config.yaml), checking it."""
    cfg = cfg_cls()
    apply_mapping(cfg, data)
    return cfg


def help_rows(cfg_cls: type) -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) for every field, for ``--help``."""
    defaults = to_dict(cfg_cls())
    rows = []
    for key, hint, f in iter_fields(cfg_cls):
        value: Any = defaults
        for part in key.split("."):
            value = value[part]
        text = f.metadata.get("help", "")
        if f.metadata.get("choices"):
            text += f" One of: {', '.join(map(str, f.metadata['choices']))}."
        rows.append((key, type_name(hint), repr(value), text))
    return rows
