"""Run folders, atomic checkpoints and resume.

A run lives in ``<runs_dir>/<task>/<YYYYmmdd-HHMMSS>-<backend>-s<seed>/`` (see DESIGN.md).
A checkpoint is written into ``checkpoints/.tmp-step_<N>-<pid>/`` and renamed to
``checkpoints/step_<N>/`` only once complete, with ``meta.json`` written last inside it; the
file ``checkpoints/latest`` names the newest one and is itself replaced atomically. A process
killed at any moment leaves either the old checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

META_FILE = "meta.json"
LATEST_FILE = "latest"
VERSIONED_PACKAGES = (
    "learnloop", "numpy", "gymnasium", "pettingzoo", "torch",
    "stable-baselines3", "sb3-contrib", "ray",
)  # fmt: skip


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable or not a learnloop checkpoint."""


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a checkpoint depends on."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def config_hash(config: dict[str, Any]) -> str:
    """A short stable hash of the resolved config, ignoring where and how it runs."""
    stable = {k: v for k, v in config.items() if k not in ("runs_dir", "resume", "checkpoint")}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Run:
    """One run folder and the files in it."""

    path: Path

    @property
    def tb_dir(self) -> Path:
        return self.path / "tb"

    @property
    def metrics_file(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def eval_dir(self) -> Path:
        return self.path / "eval"

    @property
    def report_file(self) -> Path:
        return self.path / "report.md"

    def read_config(self) -> dict[str, Any]:
        """The resolved config this run was started with."""
        with open(self.path / "config.yaml") as handle:
            return yaml.safe_load(handle) or {}

    def write_config(self, config: dict[str, Any], argv: list[str]) -> None:
        """Save the resolved config and the command that started the run."""
        atomic_write_text(self.path / "config.yaml", yaml.safe_dump(config, sort_keys=False))
        command = " ".join(_quote(a) for a in [sys.executable, "-m", "tasks.run", *argv])
        with open(self.path / "command.txt", "a") as handle:
            handle.write(command + "\n")


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def new_run(runs_dir: Path, task: str, backend: str, seed: int) -> Run:
    """Create a fresh run folder (a numeric suffix keeps two runs in one second apart)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = runs_dir / task / f"{stamp}-{backend}-s{seed}"
    path, suffix = base, 1
    while True:
        try:
            path.mkdir(parents=True)
            break
        except FileExistsError:
            suffix += 1
            path = base.with_name(f"{base.name}-{suffix}")
    for sub in ("tb", "checkpoints", "eval"):
        (path / sub).mkdir()
    return Run(path)


def latest_run(runs_dir: Path, task: str, seed: int | None = None) -> Run | None:
    """The newest run folder of ``task`` (by name, which starts with its start time); with
    ``seed``, the newest trained with that seed."""
    task_dir = runs_dir / task
    if not task_dir.is_dir():
        return None
    runs = sorted(p for p in task_dir.iterdir() if (p / "config.yaml").is_file()
                  and (seed is None or run_seed(p) == seed))  # fmt: skip
    return Run(runs[-1]) if runs else None


def run_seed(run: Path) -> int:
    """The seed in a run folder's name (``<stamp>-<backend>-s<seed>[-n]``), or -1."""
    found = re.search(r"-s(\d+)(?:-\d+)?$", run.name)
    return int(found.group(1)) if found else -1


class Checkpoints:
    """Writes, lists and finds the checkpoints of one run (in its checkpoints folder, or in
    ``folder``)."""

    def __init__(
        self, run: Run, meta: dict[str, Any], keep: int = 3, folder: Path | None = None
    ) -> None:
        self.dir = folder or run.checkpoints_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.meta = meta
        self.keep = keep

    def save(self, step: int, write: Callable[[Path], None]) -> Path:
        """Fill a temp folder with ``write``, then rename it to ``step_<step>`` atomically."""
        final = self.dir / f"step_{step}"
        tmp = self.dir / f".tmp-step_{step}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        write(tmp)
        meta = {**self.meta, "step": step, "time": time.time()}
        atomic_write_text(tmp / META_FILE, json.dumps(meta, indent=2))
        _fsync_dir(tmp)
        if final.exists():  # a re-save at the same step (e.g. after resume) replaces the old one
            old = self.dir / f".old-step_{step}-{os.getpid()}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
        atomic_write_text(self.dir / LATEST_FILE, final.name + "\n")
        _fsync_dir(self.dir)
        self._prune()
        return final

    def _prune(self) -> None:
        for old in list_checkpoints(self.dir)[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        for stale in self.dir.glob(".tmp-step_*"):
            if not stale.name.endswith(f"-{os.getpid()}"):
                shutil.rmtree(stale, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def list_checkpoints(checkpoints_dir: Path) -> list[Path]:
    """Complete checkpoints (with meta.json), oldest first."""
    if not checkpoints_dir.is_dir():
        return []
    found = [
        p
        for p in checkpoints_dir.glob("step_*")
        if p.is_dir() and (p / META_FILE).is_file() and p.name[5:].isdigit()
    ]
    return sorted(found, key=lambda p: int(p.name[5:]))


def read_meta(checkpoint: Path) -> dict[str, Any]:
    """A checkpoint's metadata; CheckpointError when it is missing or corrupt."""
    meta_path = checkpoint / META_FILE
    if not checkpoint.exists():
        raise CheckpointError(f"checkpoint {checkpoint} does not exist")
    try:
        meta = json.loads(meta_path.read_text())
    except FileNotFoundError:
        raise CheckpointError(
            f"{checkpoint} is not a learnloop checkpoint (no {META_FILE})"
        ) from None
    except (OSError, json.JSONDecodeError) as error:
        raise CheckpointError(f"checkpoint {checkpoint} is unreadable: {error}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("step"), int):
        raise CheckpointError(f"checkpoint {checkpoint} has corrupt metadata in {META_FILE}")
    return meta


def resolve_checkpoint(path: Path) -> Path:
    """A step folder from a step folder, a checkpoints folder or a run folder."""
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if (path / META_FILE).is_file():
        read_meta(path)
        return path
    for folder in (path / "checkpoints", path):
        found = newest_checkpoint(folder)
        if found is not None:
            return found
    raise CheckpointError(f"no checkpoint found in {path}")


def newest_checkpoint(checkpoints_dir: Path) -> Path | None:
    """The checkpoint ``latest`` names, or the highest complete step folder."""
    pointer = checkpoints_dir / LATEST_FILE
    if pointer.is_file():
        candidate = checkpoints_dir / pointer.read_text().strip()
        if (candidate / META_FILE).is_file():
            return candidate
    found = list_checkpoints(checkpoints_dir)
    return found[-1] if found else None


def truncate_metrics(metrics_file: Path, step: int) -> None:
    """Drop log lines after ``step`` (and a torn last line) before a resumed run appends."""
    if not metrics_file.is_file():
        return
    kept = []
    for line in metrics_file.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("step", 0) <= step:
            kept.append(line)
    atomic_write_text(metrics_file, "".join(f"{line}\n" for line in kept))


def read_metrics(metrics_file: Path) -> list[dict[str, Any]]:
    """Every complete line of metrics.jsonl."""
    records = []
    if metrics_file.is_file():
        for line in metrics_file.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records
