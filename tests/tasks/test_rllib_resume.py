"""backend=rllib runs killed with SIGKILL (no clean stop) resume from their last complete
checkpoint: single-agent, self-play and multi-agent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tests.optional import require

CASES = {
    "cartpole": ["train.checkpoint_every=1024", "algo.n_envs=2", "algo.n_steps=128"],
    "tictactoe": ["train.checkpoint_every=512", "algo.n_envs=2", "algo.n_steps=128",
                  "algo.batch_size=128", "algo.n_epochs=1", "selfplay.snapshot_every=256",
                  "eval.every=0", "eval.opponents=[random]", "search.simulations=4",
                  "network.channels=8", "network.blocks=1"],
    "warehouse_robots": ["train.checkpoint_every=1024", "algo.n_envs=2", "algo.n_steps=256",
                         "algo.n_epochs=1", "env.max_steps=128"],
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("task", list(CASES))
def test_a_run_killed_with_sigkill_resumes_from_its_last_checkpoint(
    task: str, runs_dir: Path
) -> None:
    require("ray.rllib")
    common = [task, "backend=rllib", f"runs_dir={runs_dir}", "eval.episodes=1", *CASES[task]]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tasks.run", *common, "train.total_steps=100000"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: Ray's head processes die with it
    )  # fmt: skip
    deadline = time.monotonic() + 300
    checkpoints: list[Path] = []
    while len(checkpoints) < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        checkpoints = list(runs_dir.glob(f"{task}/*/checkpoints/step_*"))
    time.sleep(0.7)  # somewhere after the second checkpoint, maybe inside the third
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert len(checkpoints) >= 2, "no checkpoints before the deadline"
    (run,) = (runs_dir / task).iterdir()
    killed_at = max(json.loads(line)["step"] for line in
                    (run / "metrics.jsonl").read_text().splitlines())  # fmt: skip

    target = killed_at + 1024
    result = run_cli(*common, f"train.total_steps={target}", "resume=latest", timeout=400)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "resuming from" in result.stderr
    assert len(list((runs_dir / task).iterdir())) == 1  # the same run folder went on
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps)  # lines after the resumed checkpoint were dropped, not doubled
    assert json.loads((run / "eval" / "results.json").read_text())["step"] >= target
    for checkpoint in (run / "checkpoints").glob("step_*"):
        assert (checkpoint / "meta.json").is_file()  # only complete checkpoints
