"""A tiny run produces every file of the run folder; SIGKILL then resume=latest continues."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tasks.run import main
from tests.conftest import REPO

TINY = ["train.total_steps=2048", "train.checkpoint_every=1024", "eval.episodes=2", "algo.n_envs=2"]


def only_run(runs_dir: Path, task: str = "cartpole") -> Path:
    (run,) = (runs_dir / task).iterdir()
    return run


def scalar_tags(tb_dir: Path) -> set[str]:
    events = EventAccumulator(str(tb_dir))
    events.Reload()
    return set(events.Tags()["scalars"])


def test_tiny_run_writes_the_whole_run_folder(runs_dir: Path) -> None:
    assert main(["cartpole", f"runs_dir={runs_dir}", *TINY]) == 0
    run = only_run(runs_dir)
    assert run.name.endswith("-sb3-s0")
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["total_steps"] == 2048
    assert "tasks.run cartpole" in (run / "command.txt").read_text()
    checkpoints = run / "checkpoints"
    latest = checkpoints / (checkpoints / "latest").read_text().strip()
    meta = json.loads((latest / "meta.json").read_text())
    assert meta["step"] >= 2048 and meta["backend"] == "sb3" and meta["task"] == "cartpole"
    assert "stable-baselines3" in meta["versions"] and len(meta["config_hash"]) == 16
    assert (latest / "model.zip").is_file()
    assert not list(checkpoints.glob(".tmp-*")), "no temporary checkpoint may be left behind"
    results = json.loads((run / "eval" / "results.json").read_text())
    assert results["task"] == "cartpole" and results["step"] == meta["step"]
    assert {"episode_return", "baseline/random/episode_return"} <= set(results["metrics"])
    assert (run / "eval" / "policies.json").is_file()
    report = (run / "report.md").read_text()
    assert "![learning curves](curves.png)" in report and "| trained |" in report
    assert (run / "curves.png").stat().st_size > 1000
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert all("step" in x for x in lines)
    tags = scalar_tags(run / "tb")
    for tag in (
        "charts/episode_return",
        "charts/episode_length",
        "losses/value_loss",
        "time/fps",
        "eval/episode_return",
    ):
        assert tag in tags


def test_eval_action_rewrites_results_with_the_runs_own_settings(runs_dir: Path) -> None:
    assert main(["cartpole", f"runs_dir={runs_dir}", *TINY, "env.max_episode_steps=30"]) == 0
    run = only_run(runs_dir)
    (run / "eval" / "results.json").unlink()
    assert main(["cartpole", "eval", f"runs_dir={runs_dir}", "eval.episodes=1"]) == 0
    results = json.loads((run / "eval" / "results.json").read_text())
    assert results["step"] >= 2048
    assert results["metrics"]["episode_length"] <= 30, "eval uses the run's saved env settings"


@pytest.mark.slow
def test_sigkill_then_resume_latest_continues(runs_dir: Path) -> None:
    args = [
        f"runs_dir={runs_dir}",
        "train.total_steps=400000",
        "train.checkpoint_every=1000",
        "algo.n_envs=2",
        "eval.episodes=1",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tasks.run", "cartpole", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        found = list(runs_dir.glob("cartpole/*/checkpoints/step_*/meta.json"))
        if len(found) >= 3:
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    run = only_run(runs_dir)
    killed_at = max(
        int(p.name[5:]) for p in (run / "checkpoints").glob("step_*") if (p / "meta.json").is_file()
    )
    assert killed_at >= 3000
    steps_before = [
        json.loads(x)["step"]
        for x in (run / "metrics.jsonl").read_text().splitlines()
        if x.strip().endswith("}")
    ]
    assert (
        main(
            [
                "cartpole",
                f"runs_dir={runs_dir}",
                "resume=latest",
                f"train.total_steps={killed_at + 2000}",
            ]
        )
        == 0
    )
    assert only_run(runs_dir) == run, "resume continues the same run folder"
    meta = json.loads(
        (
            run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip() / "meta.json"
        ).read_text()
    )
    assert meta["step"] >= killed_at + 2000
    steps = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps), "metrics continue from the checkpoint without going back"
    assert steps[-1] >= killed_at + 2000 and steps_before
    assert len((run / "command.txt").read_text().splitlines()) == 2
