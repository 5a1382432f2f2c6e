"""The command line: ``python -m tasks.run TASK [ACTION] [key=value ...]``.

    python -m tasks.run --list                     every task, one line each
    python -m tasks.run cartpole                   train, evaluate, write the report
    python -m tasks.run cartpole eval              evaluate the newest checkpoint
    python -m tasks.run cartpole --help            the task's config fields
    python -m tasks.run configs/my.yaml seed=3     a YAML file whose ``task:`` names the task
    python -m tasks.run cartpole seeds=3           seeds 0, 1, 2 and their aggregate report

Bad input (an unknown task or key, a wrong value, a broken YAML file, a missing checkpoint)
prints one line on stderr and exits with code 2; a failure during a run exits with code 1 and
leaves the run folder readable, with the traceback in ``error.log``.
"""

from __future__ import annotations

import difflib
import sys
import traceback
from pathlib import Path
from typing import Any

from tasks.config import ConfigError, help_rows, load_config, read_yaml
from tasks.registry import TASKS, task_yaml

ACTIONS = ("train", "eval", "play", "gtp")
USAGE = (
    "usage: python -m tasks.run TASK [train|eval|play|gtp] [key=value ...] [seeds=N|a,b,c] | --list"
)


class UsageError(ValueError):
    """The command line itself is wrong."""


def list_tasks() -> str:
    """One line per task: its name and description."""
    width = max(len(name) for name in TASKS)
    return "\n".join(f"{name:<{width}}  {entry.description}" for name, entry in TASKS.items())


def resolve_task(name_or_path: str) -> tuple[str, Path | None]:
    """The task name and its YAML file, from a task name or a path to a YAML file."""
    if name_or_path.endswith((".yaml", ".yml")) or Path(name_or_path).is_file():
        path = Path(name_or_path)
        if not path.is_file():
            raise UsageError(f"config file {path} does not exist")
        named = read_yaml(path).get("task")
        if not isinstance(named, str) or not named:
            raise ConfigError(f"{path}: needs a 'task:' key naming one of: {', '.join(TASKS)}")
        if named not in TASKS:
            raise ConfigError(f"{path}: task: unknown task {named!r}; known: {', '.join(TASKS)}")
        return named, path
    if name_or_path not in TASKS:
        close = difflib.get_close_matches(name_or_path, list(TASKS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UsageError(f"unknown task {name_or_path!r}{hint}; known: {', '.join(TASKS)}")
    return name_or_path, task_yaml(name_or_path)


def format_help(task_name: str) -> str:
    """The task's config fields with type, default and description."""
    from tasks.registry import load_task

    task = load_task(task_name)
    rows = help_rows(task.config_cls)
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"{task_name}: {task.description}",
        f"actions: {', '.join(task.actions)} (default: train = train, evaluate, report)",
        f"usage: python -m tasks.run {task_name} [ACTION] [key=value ...]",
        "seeds=3 (or seeds=0,1,2): train each seed in its own run, then write their aggregate "
        "(mean, 95% bootstrap interval, IQM) in <runs_dir>/<task>/<time>-seeds/",
        "",
        f"{'key':<{widths[0]}}  {'type':<{widths[1]}}  {'default':<{widths[2]}}  description",
    ]
    for key, kind, default, text in rows:
        lines.append(f"{key:<{widths[0]}}  {kind:<{widths[1]}}  {default:<{widths[2]}}  {text}")
    return "\n".join(lines)


def parse_args(argv: list[str]) -> tuple[str, str, list[str], bool]:
    """Split argv into (task, action, overrides, wants_help)."""
    wants_help = any(a in ("-h", "--help") for a in argv)
    args = [a for a in argv if a not in ("-h", "--help")]
    if not args:
        raise UsageError(USAGE)
    flags = [a for a in args if a.startswith("-")]
    if flags:
        raise UsageError(f"unknown option {flags[0]}; {USAGE}")
    task, rest = args[0], args[1:]
    action = "train"
    if rest and "=" not in rest[0]:
        action = rest.pop(0)
        if action not in ACTIONS:
            raise UsageError(f"unknown action {action!r}; allowed: {', '.join(ACTIONS)}")
    stray = [a for a in rest if "=" not in a]
    if stray:
        raise UsageError(f"expected key=value, got {stray[0]!r}")
    return task, action, rest, wants_help


def execute(argv: list[str]) -> int:
    """Run the command line ``argv``; returns the exit code (raises on bad input)."""
    if argv[:1] == ["--list"]:
        print(list_tasks())
        return 0
    name, action, overrides, wants_help = parse_args(argv)
    task_name, yaml_path = resolve_task(name)
    if wants_help:
        print(format_help(task_name))
        return 0
    from tasks.registry import load_task

    task = load_task(task_name)
    if action not in task.actions:
        raise UsageError(
            f"task {task_name} has no action {action!r}; it has: {', '.join(task.actions)}"
        )
    seeds = [o for o in overrides if o.startswith("seeds=")]
    if seeds:
        if action != "train":
            raise UsageError(f"{seeds[-1]}: several seeds are for training, not for {action}")
        rest = [o for o in overrides if not o.startswith("seeds=")]
        return _execute_seeds(task, task_name, yaml_path, seeds[-1].split("=", 1)[1], rest, argv)
    return _execute_one(task, task_name, yaml_path, action, overrides, argv)[0]


def _execute_one(
    task: Any, task_name: str, yaml_path: Path | None, action: str, overrides: list[str],
    argv: list[str],
) -> tuple[int, Path | None]:  # fmt: skip
    """One run or command; (exit code, the run folder when one was trained)."""
    from tasks.runner.session import Session, find_resume_run

    cfg = load_config(task.config_cls, task_name, yaml_path, overrides)
    if cfg.resume and action == "train":
        # A resumed run keeps its own saved config; only the new overrides apply on top.
        run = find_resume_run(Path(cfg.runs_dir), task_name, cfg.resume)
        cfg = load_config(task.config_cls, task_name, run.path / "config.yaml", overrides)
    if action != "train":
        # Evaluate, play or serve with the settings the checkpoint was trained under (env
        # options, network shape), plus whatever this command line overrides.
        saved = _checkpoint_run_config(cfg, task_name)
        if saved is not None:
            cfg = load_config(task.config_cls, task_name, saved, overrides)
    task.validate(cfg)
    if action == "train" and getattr(cfg, "algo", None) is not None:
        try:  # a setting the backend would not train as configured: before the run folder
            backend = task.backend(cfg)
            backend.check_algo(cfg.algo)
            backend.check_network(cfg.algo.name, task.policy_kwargs(cfg))
        except ValueError as error:
            raise ConfigError(str(error)) from None
    session = Session(task, cfg, argv)
    try:
        if action == "train":
            session.train()
        elif action == "eval":
            session.evaluate()
        else:
            return session.interactive(action), None
    except Exception as error:
        if isinstance(error, ConfigError | UsageError) or _is_checkpoint_error(error):
            raise
        _report_failure(session, error)
        return 1, None
    return 0, session.run.path if session.run else None


def _execute_seeds(
    task: Any, task_name: str, yaml_path: Path | None, text: str, overrides: list[str],
    argv: list[str],
) -> int:  # fmt: skip
    """Train each seed of ``seeds=`` in its own run, then write their aggregate."""
    from tasks.runner.runs import latest_run
    from tasks.runner.seeds import parse_seeds, write_aggregate

    cfg = load_config(task.config_cls, task_name, yaml_path, overrides)
    seeds = parse_seeds(text, cfg.seed)
    runs = []
    for seed in seeds:
        print(f"seed {seed} ({len(runs) + 1} of {len(seeds)})", file=sys.stderr)
        extra = [f"seed={seed}"]
        if cfg.resume == "latest":  # each seed's own newest run
            run = latest_run(Path(cfg.runs_dir), task_name, seed)
            if run is None:
                raise ConfigError(f"resume=latest: no run of task {task_name} with seed {seed}")
            extra.append(f"resume={run.path}")
        seed_argv = [a for a in argv if not a.startswith(("seeds=", "seed="))] + extra
        code, run_path = _execute_one(task, task_name, yaml_path, "train", overrides + extra,
                                      seed_argv)  # fmt: skip
        if code != 0 or run_path is None:
            return code or 1
        runs.append(run_path)
    folder = write_aggregate(Path(cfg.runs_dir), task_name, runs, argv)
    print(f"seeds report: {folder / 'report.md'}", file=sys.stderr)
    return 0


def _checkpoint_run_config(cfg: object, task: str) -> Path | None:
    """config.yaml of the run that holds the checkpoint an eval/play/gtp command will load."""
    from tasks.runner.runs import latest_run, resolve_checkpoint

    if cfg.checkpoint:  # type: ignore[attr-defined]
        path = Path(cfg.checkpoint)  # type: ignore[attr-defined]
        if not path.exists():
            return None  # the session reports the missing checkpoint
        run_path = resolve_checkpoint(path).parent.parent
    else:
        run = latest_run(Path(cfg.runs_dir), task)  # type: ignore[attr-defined]
        run_path = run.path if run else None
    saved = run_path / "config.yaml" if run_path else None
    return saved if saved is not None and saved.is_file() else None


def _is_checkpoint_error(error: BaseException) -> bool:
    from tasks.runner.runs import CheckpointError

    return isinstance(error, CheckpointError)


def _report_failure(session: object, error: BaseException) -> None:
    run = getattr(session, "run", None)
    where = ""
    if run is not None:
        log = run.path / "error.log"
        log.write_text("".join(traceback.format_exception(error)))
        where = f" (traceback in {log})"
    print(f"error: {type(error).__name__}: {error}{where}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point; maps bad input to exit code 2 with one line on stderr."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        return execute(argv)
    except (UsageError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if _is_checkpoint_error(error):
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
