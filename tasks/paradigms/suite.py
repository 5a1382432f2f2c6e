"""paradigms: every paradigm task on one digits split, compared in one report.

Each **member** is a paradigm task with a few overrides (a label fraction, a backend). They
train one after another with the same seed and the same split; metrics go to the suite's
TensorBoard and metrics.jsonl under ``<member>/...``, with the global step counting every
member's env steps in turn. The evaluation writes one table (paradigm, feedback used, labels
used, test metric, env steps, wall time), the scikit-learn references, and two plots:
validation accuracy against env steps, and test accuracy against labels used.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.backends import BACKENDS, backend_for
from agents.base import Agent, Backend, TrainContext
from tasks.config import ConfigError, TaskConfig, TrainConfig, describe, section, set_value, to_dict
from tasks.paradigms.report import HEADLINE, evaluate_members
from tasks.runner.base import EvalResult, Task

MEMBER_FILE = "member.json"


def default_members() -> dict[str, Any]:
    """The comparison the issue asks for, plus label-fraction variants for the labels plot."""
    return {
        "supervised": {"task": "digits_supervised"},
        "supervised_10pct": {"task": "digits_supervised", "overrides": {"env.label_fraction": 0.1}},
        "supervised_5pct": {"task": "digits_supervised", "overrides": {"env.label_fraction": 0.05}},
        "semi_10pct": {"task": "digits_semi"},
        "semi_5pct": {"task": "digits_semi", "overrides": {"env.label_fraction": 0.05}},
        "gan_10pct": {"task": "digits_gan"},
        "gan_5pct": {"task": "digits_gan", "overrides": {"env.label_fraction": 0.05}},
        "selfsup_probe_10pct": {"task": "digits_selfsup"},
        "reward_only": {"task": "digits_bandit"},
        "reward_only_ppo": {"task": "digits_bandit", "overrides": {"backend": "sb3"}},
        "clustering": {"task": "digits_cluster"},
        "anomaly": {"task": "digits_anomaly"},
        "regression_mse": {"task": "diabetes_regression"},
        "regression_reward": {
            "task": "diabetes_regression",
            "overrides": {"env.feedback": "reward", "learner.name": "reward"},
        },
    }


@dataclass
class ParadigmsConfig(TaskConfig):
    """Config of the paradigms comparison."""

    backend: str = describe(
        "Default backend of the members (each may override it).",
        "learnloop",
        choices=tuple(BACKENDS),
    )
    members: dict[str, Any] = describe(
        "Runs to compare: name -> {task: NAME, overrides: {key: value}}.", factory=default_members
    )
    only: list[str] = describe("Run only these members (empty: all).", factory=list)
    steps_scale: float = describe(
        "Multiply every member's train.total_steps and eval.every by this.", 1.0, min=0.001
    )
    split_seed: int = describe("The split every member shares.", 0, min=0)
    baselines: bool = describe("Fit the scikit-learn references too.", True)
    train: TrainConfig = section(
        lambda: TrainConfig(total_steps=360_000, checkpoint_every=0),
        "Only sizes the progress bar (set to the members' budgets added up); each member has "
        "its own budget.",
    )

    def algorithm(self) -> None:
        """None: the suite trains no algorithm itself; each member names its own (and its
        backend is resolved with it, in :func:`resolve_members`)."""
        return None


@dataclass
class Member:
    """One run of the comparison: its task, resolved config, and (after training) its agent."""

    name: str
    task: Task
    cfg: Any
    agent: Agent | None = None
    steps: int = 0
    wall_s: float = 0.0


def resolve_members(cfg: Any) -> list[Member]:
    """Every selected member with its config: task YAML, overrides, then the suite's seed,
    split and step scale."""
    from tasks.config import load_config
    from tasks.registry import TASKS, load_task, task_yaml

    unknown = sorted(set(cfg.only) - set(cfg.members))
    if unknown:
        raise ConfigError(f"only: unknown member {unknown[0]!r}; members: {', '.join(cfg.members)}")
    members = []
    for name, spec in cfg.members.items():
        if cfg.only and name not in cfg.only:
            continue
        if (
            not isinstance(spec, dict)
            or spec.get("task") not in HEADLINE
            or spec["task"] not in TASKS
        ):
            raise ConfigError(
                f"members.{name}: needs task: one of {', '.join(HEADLINE)}, got {spec!r}"
            )
        task = load_task(spec["task"])
        overrides = [f"backend={cfg.backend}", f"seed={cfg.seed}", f"device={cfg.device}"]
        sub = load_config(task.config_cls, spec["task"], task_yaml(spec["task"]), overrides)
        for key, value in (spec.get("overrides") or {}).items():
            set_value(sub, key, value)
        try:  # the member's own algorithm decides its backend, as on the command line
            sub.backend = backend_for(sub.backend, sub.algorithm())
        except ValueError as error:
            raise ConfigError(f"members.{name}: {error}") from None
        task.validate(sub)
        sub.env.split_seed = cfg.split_seed
        sub.eval.baselines = cfg.baselines
        sub.train.total_steps = max(1, int(sub.train.total_steps * cfg.steps_scale))
        sub.train.checkpoint_every = 0
        if sub.eval.every:
            sub.eval.every = max(1, int(sub.eval.every * cfg.steps_scale))
        members.append(Member(name, task, sub))
    return members


class _Prefixed:
    """A logger view for one member: names under ``<member>/``, steps after earlier members'."""

    def __init__(self, parent: Any, prefix: str, offset: int) -> None:
        self.parent, self.prefix, self.offset = parent, prefix, offset
        self.last = 0

    def log(self, step: int, metrics: dict[str, float]) -> None:
        self.last = max(self.last, step)
        self.parent.log(self.offset + step, {f"{self.prefix}/{k}": v for k, v in metrics.items()})

    def progress(self, step: int) -> None:
        self.last = max(self.last, step)
        self.parent.progress(self.offset + step)


def member_context(member: Member, logger: Any) -> TrainContext:
    """A TrainContext for one member, built as the runner builds one for a task (no
    checkpoints of its own: the suite saves them all)."""
    from tasks.runner.session import train_context

    cfg, task = member.cfg, member.task
    ctx = train_context(task, cfg, logger, lambda step, write: Path("."), task.periodic(cfg, None))
    ctx.checkpoint_every = 0
    return ctx


class SuiteAgent(Agent):
    """The members' agents side by side; it does not act itself."""

    def __init__(self, members: list[Member]) -> None:
        self.members = members

    def act(self, obs: Any, action_mask: Any = None, deterministic: bool = True) -> Any:
        raise NotImplementedError("the paradigms suite holds one agent per member; use those")

    def save(self, path: Path) -> None:
        for member in self.members:
            folder = path / member.name
            folder.mkdir()
            assert member.agent is not None
            member.agent.save(folder)
            record = {"task": member.cfg.task, "steps": member.steps, "wall_s": member.wall_s}
            record["config"] = to_dict(member.cfg)
            (folder / MEMBER_FILE).write_text(json.dumps(record, indent=2))


class SuiteBackend(Backend):
    """Trains the members one after another; loads them back from one checkpoint."""

    name = "suite"

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg

    def train(self, ctx: TrainContext) -> SuiteAgent:
        if ctx.resume_from is not None:
            raise ConfigError(
                "the paradigms suite cannot resume; start it again (members are short)"
            )
        members, offset = resolve_members(self.cfg), 0
        for member in members:
            logger = _Prefixed(ctx.logger, member.name, offset)
            started = time.monotonic()
            member.agent = member.task.backend(member.cfg).train(member_context(member, logger))
            member.wall_s = time.monotonic() - started
            member.steps = logger.last
            offset += member.steps
        agent = SuiteAgent(members)
        ctx.save_checkpoint(offset, agent.save)
        return agent

    def load(self, path: Path, ctx: TrainContext | None = None) -> SuiteAgent:
        from tasks.config import from_dict
        from tasks.registry import load_task

        members = []
        for folder in sorted(p for p in path.iterdir() if (p / MEMBER_FILE).is_file()):
            record = json.loads((folder / MEMBER_FILE).read_text())
            task = load_task(record["task"])
            member = Member(folder.name, task, from_dict(task.config_cls, record["config"]))
            member.steps, member.wall_s = record["steps"], record["wall_s"]
            backend = task.backend(member.cfg)
            member.agent = backend.load(folder, member_context(member, None))
            members.append(member)
        if not members:
            raise ValueError(f"checkpoint {path} holds no paradigm members ({MEMBER_FILE})")
        return SuiteAgent(members)


class ParadigmsTask(Task):
    """Every paradigm on one split: a table and plots of what each feedback buys."""

    name = "paradigms"
    config_cls = ParadigmsConfig
    headline = "supervised/eval_periodic/val_accuracy"
    curves = ()

    def validate(self, cfg: Any) -> None:
        # The progress bar's total: what the selected members will train, after steps_scale.
        cfg.train.total_steps = max(1, sum(m.cfg.train.total_steps for m in resolve_members(cfg)))

    def algorithm(self, cfg: Any) -> str:
        return "each member's own (see the table)"

    def backend(self, cfg: Any, name: str | None = None) -> Backend:
        return SuiteBackend(cfg)

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:

        return evaluate_members(cfg, agent.members, run)
