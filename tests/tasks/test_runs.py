"""Checkpoints are atomic: a failed or killed write never replaces the last good one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.runner.runs import (
    CheckpointError,
    Checkpoints,
    new_run,
    newest_checkpoint,
    read_meta,
    resolve_checkpoint,
    truncate_metrics,
)


def test_failed_write_keeps_previous_checkpoint(tmp_path: Path) -> None:
    run = new_run(tmp_path, "demo", "sb3", 0)
    checkpoints = Checkpoints(run, {"task": "demo"}, keep=2)
    checkpoints.save(100, lambda folder: (folder / "weights").write_text("good"))

    def crash(folder: Path) -> None:
        (folder / "weights").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        checkpoints.save(200, crash)
    newest = newest_checkpoint(run.checkpoints_dir)
    assert newest is not None and newest.name == "step_100"
    assert (newest / "weights").read_text() == "good"
    assert resolve_checkpoint(run.path) == newest


def test_keeps_only_recent_checkpoints(tmp_path: Path) -> None:
    run = new_run(tmp_path, "demo", "sb3", 0)
    checkpoints = Checkpoints(run, {}, keep=2)
    for step in (1, 2, 3):
        checkpoints.save(step, lambda folder: None)
    assert sorted(p.name for p in run.checkpoints_dir.glob("step_*")) == ["step_2", "step_3"]
    assert read_meta(run.checkpoints_dir / "step_3")["step"] == 3


def test_corrupt_meta_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "step_5"
    folder.mkdir()
    (folder / "meta.json").write_text(json.dumps({"step": "five"}))
    with pytest.raises(CheckpointError, match="corrupt metadata"):
        read_meta(folder)


def test_truncate_metrics_drops_later_steps_and_torn_lines(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": 5}\n{"step": 9}\n{"step": 1')
    truncate_metrics(path, 5)
    assert path.read_text() == '{"step": 1}\n{"step": 5}\n'


def test_two_runs_in_one_second_get_distinct_folders(tmp_path: Path) -> None:
    first, second = new_run(tmp_path, "demo", "sb3", 1), new_run(tmp_path, "demo", "sb3", 1)
    assert first.path != second.path


def test_progress_lines_give_the_rate_or_seconds_each() -> None:
    import io
    import re
    import time

    from tasks.runner.logging import ProgressDisplay

    out = io.StringIO()
    slow = ProgressDisplay(4, "evaluation", log_every_s=0, stream=out, unit="matches")
    time.sleep(1.1)
    slow.update(1)
    fast = ProgressDisplay(10_000, "training", log_every_s=0, stream=out)
    time.sleep(0.01)
    fast.update(5_000)
    first, second = out.getvalue().splitlines()
    assert re.match(r"evaluation: 1/4 \(25%\) \d+ s each ETA \d+s$", first), first
    assert second.startswith("training: 5,000/10,000 (50%)") and " steps/s ETA " in second
