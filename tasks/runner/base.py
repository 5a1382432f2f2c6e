"""The task interface: what one task supplies to the runner.

A task names its config class, builds its env, and evaluates an agent. The runner
(:mod:`tasks.runner.session`) does everything else the same way for every task: run folders,
logging, checkpoints, resume, training through a backend, evaluation files and the report.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.base import Agent, Backend, ParallelAgents, Periodic, TwoPlayerGame
    from tasks.runner.runs import Run


@dataclass
class EvalResult:
    """What an evaluation found: headline numbers plus tables for the report.

    ``metrics`` go to results.json and to TensorBoard as ``eval/<name>``; each table is a list
    of rows (dicts with the same keys) written to ``eval/<table>.json`` and into report.md.
    """

    metrics: dict[str, float]
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list)  # (caption, path in the run)


class Task:
    """Base class of every task; subclasses fill in the hooks."""

    name: str = ""
    config_cls: type = object
    headline: str = "charts/episode_return"  # shown on the progress bar
    actions: tuple[str, ...] = ("train", "eval")
    # Metrics drawn in report.md's curves, beside the headline.
    curves: tuple[str, ...] = ("charts/episode_return", "charts/episode_length")

    @property
    def description(self) -> str:
        """One line on what the task does: its entry in the task registry (one place)."""
        from tasks.registry import TASKS

        entry = TASKS.get(self.name)
        return entry.description if entry is not None else ""

    def validate(self, cfg: Any) -> None:
        """Check values the field types cannot (names in lists, say); raise ConfigError."""

    def make_env(self, cfg: Any, index: int) -> Any:
        """The ``index``-th training env (a Gymnasium env)."""
        raise NotImplementedError

    def make_env_factory(self, cfg: Any) -> Callable[[int], Any]:
        """A picklable ``index -> env`` callable (subprocess vector envs pickle it)."""
        return functools.partial(self.make_env, cfg)

    def backend(self, cfg: Any, name: str | None = None) -> Backend:
        """The backend that trains and loads this task's agents: the registered one the config
        names (``sb3``, ``rllib``, ``learnloop``, ``zero``; ``name`` for a checkpoint's own)."""
        from agents.backends import get_backend

        return get_backend(name or cfg.backend)

    def policy_kwargs(self, cfg: Any) -> dict[str, Any]:
        """Extra policy arguments for the backend (a features extractor, say)."""
        return {}

    def game(self, cfg: Any) -> TwoPlayerGame | None:
        """What a two-player board game gives self-play backends (None for other tasks)."""
        return None

    def parallel_agents(self, cfg: Any) -> ParallelAgents | None:
        """What a cooperative multi-agent task gives backends (None for other tasks)."""
        return None

    def algorithm_settings(self, cfg: Any) -> Any:
        """The typed section of the algorithm the config names, for backends that have one."""
        return None

    def network(self, cfg: Any) -> Any:
        """The task's network section, for backends that build their own network."""
        return None

    def algorithm(self, cfg: Any) -> str:
        """What trains the agent, as the report names it (the backend's algorithm)."""
        return cfg.algorithm() or cfg.algo.name

    def periodic(self, cfg: Any, run: Run) -> list[Periodic]:
        """Hooks to call during training (periodic evaluation, opponent snapshots)."""
        return []

    def evaluate(self, cfg: Any, agent: Agent, run: Run) -> EvalResult:
        """Evaluate ``agent`` and return what was found (files may go to ``run.eval_dir``)."""
        raise NotImplementedError

    def run_action(self, action: str, cfg: Any, agent: Agent | None, note: str) -> int:
        """Interactive actions (``play``, ``gtp``); ``agent`` is None before any training."""
        raise NotImplementedError(f"task {self.name} has no action {action!r}")
