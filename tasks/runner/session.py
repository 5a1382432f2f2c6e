"""What the runner does for every task: train, evaluate, report, resume.

``train``: make or reopen a run folder, train through the backend with checkpoints and logging,
evaluate, write ``eval/results.json`` and ``report.md``. ``evaluate``: load a checkpoint and do
the last two. Interactive actions (``play``, ``gtp``) hand the newest agent to the task.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from agents.base import Agent, TrainContext
from tasks.config import ConfigError, to_dict
from tasks.runner.base import EvalResult, Task
from tasks.runner.logging import MetricLogger, ProgressDisplay
from tasks.runner.report import write_report
from tasks.runner.runs import (
    CheckpointError,
    Checkpoints,
    Run,
    atomic_write_text,
    config_hash,
    latest_run,
    library_versions,
    new_run,
    newest_checkpoint,
    read_meta,
    resolve_checkpoint,
    truncate_metrics,
)


class Session:
    """One invocation of the runner; remembers its run folder for error reports."""

    def __init__(self, task: Task, cfg: Any, argv: list[str]) -> None:
        self.task = task
        self.cfg = cfg
        self.argv = argv
        self.run: Run | None = None

    # -- training ---------------------------------------------------------------------------

    def train(self) -> Run:
        """Train (or resume), then evaluate and write the report; returns the run."""
        cfg = self.cfg
        resume_from = None
        if cfg.resume:
            self.run = find_resume_run(Path(cfg.runs_dir), cfg.task, cfg.resume)
            resume_from = newest_checkpoint(self.run.checkpoints_dir)
        else:
            self.run = new_run(Path(cfg.runs_dir), cfg.task, cfg.backend, cfg.seed)
        run = self.run
        run.write_config(to_dict(cfg), self.argv)
        start = read_meta(resume_from)["step"] if resume_from else 0
        truncate_metrics(run.metrics_file, start)
        print(f"run folder: {run.path}", file=sys.stderr)
        if resume_from:
            print(f"resuming from {resume_from} (step {start:,})", file=sys.stderr)
        progress = ProgressDisplay(
            cfg.train.total_steps,
            f"{cfg.task} [{cfg.backend}]",
            headline=self.task.headline,
            log_every_s=cfg.train.log_every_s,
            start=start,
        )
        with MetricLogger(run.tb_dir, run.metrics_file, progress, purge_step=start + 1) as logger:
            logger.log_text("config", _config_markdown(cfg), step=start)
            agent = self._train_with(logger, resume_from)
            step = newest_step(run)
            result = self.task.evaluate(cfg, agent, run)
            write_results(run, cfg.task, step, result, logger)
        write_report(run, self.task, cfg, result, step)
        print(f"report: {run.report_file}", file=sys.stderr)
        return run

    def _train_with(self, logger: MetricLogger, resume_from: Path | None) -> Agent:
        cfg, run = self.cfg, self.run
        meta = {
            "task": cfg.task,
            "backend": cfg.backend,
            "algo": cfg.algo.name,
            "versions": library_versions(),
            "config_hash": config_hash(to_dict(cfg)),
        }
        checkpoints = Checkpoints(run, meta, keep=cfg.train.keep_checkpoints)
        ctx = train_context(self.task, cfg, logger, checkpoints.save, self.task.periodic(cfg, run))
        ctx.resume_from = resume_from
        return self.task.backend(cfg).train(ctx)

    # -- evaluation and interactive actions -------------------------------------------------

    def load_agent(self, required: bool = True) -> tuple[Agent | None, Path | None]:
        """The agent in ``checkpoint=`` or the newest run's newest checkpoint."""
        cfg = self.cfg
        if cfg.checkpoint:
            checkpoint = resolve_checkpoint(Path(cfg.checkpoint))
        else:
            run = latest_run(Path(cfg.runs_dir), cfg.task)
            checkpoint = newest_checkpoint(run.checkpoints_dir) if run else None
            if checkpoint is None:
                if required:
                    raise CheckpointError(
                        f"no checkpoint of task {cfg.task} under {cfg.runs_dir}; train first "
                        f"(python -m tasks.run {cfg.task}) or pass checkpoint=PATH"
                    )
                return None, None
        return load_checkpoint(self.task, cfg, checkpoint), checkpoint

    def evaluate(self) -> Run:
        """Evaluate a checkpoint; results go to the run folder that holds it."""
        agent, checkpoint = self.load_agent()
        assert checkpoint is not None
        step = read_meta(checkpoint)["step"]
        run_path = checkpoint.parent.parent
        if (run_path / "config.yaml").is_file():
            self.run = Run(run_path)
        else:
            self.run = new_run(Path(self.cfg.runs_dir), self.cfg.task, self.cfg.backend, 0)
            self.run.write_config(to_dict(self.cfg), self.argv)
        run = self.run
        print(f"evaluating {checkpoint} (step {step:,})", file=sys.stderr)
        with MetricLogger(run.tb_dir, run.metrics_file) as logger:
            result = self.task.evaluate(self.cfg, agent, run)
            write_results(run, self.cfg.task, step, result, logger)
        write_report(run, self.task, self.cfg, result, step)
        print(f"results: {run.eval_dir / 'results.json'}", file=sys.stderr)
        return run

    def interactive(self, action: str) -> int:
        """``play`` or ``gtp`` with the newest agent, or without one before any training."""
        agent, checkpoint = self.load_agent(required=bool(self.cfg.checkpoint))
        note = f"checkpoint {checkpoint}" if checkpoint else "no checkpoint yet: random play"
        return self.task.run_action(action, self.cfg, agent, note)


def train_context(
    task: Task,
    cfg: Any,
    logger: Any = None,
    save_checkpoint: Any = None,
    periodic: list[Any] | None = None,
) -> TrainContext:
    """The one place a task's config becomes what a backend receives."""
    return TrainContext(
        make_env=task.make_env_factory(cfg),
        total_steps=cfg.train.total_steps,
        seed=cfg.seed,
        device=cfg.device,
        algo=cfg.algo,
        logger=logger,
        save_checkpoint=save_checkpoint,
        checkpoint_every=cfg.train.checkpoint_every,
        periodic=list(periodic or []),
        policy_kwargs=task.policy_kwargs(cfg),
        game=task.game(cfg),
        parallel=task.parallel_agents(cfg),
        settings=task.algorithm_settings(cfg),
        network=task.network(cfg),
        ray=cfg.ray,
        rllib=dict(cfg.rllib),
    )


def load_checkpoint(task: Task, cfg: Any, checkpoint: Path) -> Agent:
    """The agent in the step folder ``checkpoint``, by the backend that wrote it;
    CheckpointError when it belongs to another task or cannot be read."""
    meta = read_meta(checkpoint)
    if meta.get("task") not in (None, cfg.task):
        raise CheckpointError(f"checkpoint {checkpoint} belongs to task {meta['task']!r}")
    backend = meta.get("backend", cfg.backend)
    try:
        return task.backend(cfg, backend).load(checkpoint, load_context(task, cfg))
    except ValueError as error:
        raise CheckpointError(str(error)) from None


def load_context(task: Task, cfg: Any, device: str | None = None) -> TrainContext:
    """What a backend's ``load`` needs to rebuild an agent of ``task`` (no training)."""
    ctx = train_context(task, cfg)
    ctx.total_steps, ctx.checkpoint_every = 0, 0
    ctx.device = device or cfg.device
    return ctx


def find_resume_run(runs_dir: Path, task: str, resume: str) -> Run:
    """The run ``resume=`` names: 'latest' or a run folder path."""
    if resume == "latest":
        run = latest_run(runs_dir, task)
        if run is None:
            raise ConfigError(f"resume=latest: no run of task {task} under {runs_dir}")
        return run
    path = Path(resume)
    if not (path / "config.yaml").is_file():
        raise ConfigError(f"resume={resume}: not a run folder (no config.yaml)")
    return Run(path)


def newest_step(run: Run) -> int:
    """The step of the run's newest checkpoint (0 if none)."""
    checkpoint = newest_checkpoint(run.checkpoints_dir)
    return read_meta(checkpoint)["step"] if checkpoint else 0


def write_results(
    run: Run, task: str, step: int, result: EvalResult, logger: MetricLogger | None
) -> None:
    """eval/results.json, one JSON per table, and eval/* metrics in TensorBoard."""
    run.eval_dir.mkdir(exist_ok=True)
    payload = {"task": task, "step": step, "metrics": result.metrics, "notes": result.notes}
    payload["tables"] = sorted(result.tables)
    atomic_write_text(run.eval_dir / "results.json", json.dumps(payload, indent=2) + "\n")
    for name, rows in result.tables.items():
        atomic_write_text(run.eval_dir / f"{name}.json", json.dumps(rows, indent=2) + "\n")
    if logger is not None:
        logger.log(step, {f"eval/{k}": v for k, v in result.metrics.items()})


def _config_markdown(cfg: Any) -> str:
    import yaml

    return "```\n" + yaml.safe_dump(to_dict(cfg), sort_keys=False) + "```"
