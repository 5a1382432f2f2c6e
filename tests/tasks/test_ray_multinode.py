"""A job on a two-node Ray cluster, submitted as README says, survives losing the worker node.

Both nodes run on this machine, each from its own ``ray start --block`` with its own
``--temp-dir`` (nodes on one machine that share one unpack the job's working dir over each
other: NOTES, and README's cluster section). The head and the worker get one CPU each, so the
job's two env runners (one CPU each) land one per node; the job's log says where they run.
Once training is under way the worker node is killed with SIGKILL: the job must still finish
its budget and leave a whole run folder; a new worker node then joins, and the lost runner
comes back on it before the run ends.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.optional import require
from tests.tasks.test_ray_jobs import Head, free_ports, job_env, wait_finished


class WorkerNode:
    """A second Ray node joined to ``head``, with its own temp dir; ``kill()`` is a node loss."""

    def __init__(
        self, head: Head, token: str, num_cpus: int = 1, temp_dir: str | None = None
    ) -> None:
        """``temp_dir``: share one (the head's, say) instead of a fresh one of its own."""
        names = ("node-manager-port", "object-manager-port", "dashboard-agent-listen-port",
                 "dashboard-agent-grpc-port", "runtime-env-agent-port", "metrics-export-port")  # fmt: skip
        ports = dict(zip(names, free_ports(len(names)), strict=True))
        self.head, self.token = head, token
        self.owned = temp_dir is None
        self.temp_dir = temp_dir or tempfile.mkdtemp(prefix="llray-w-", dir="/tmp")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token, OMP_NUM_THREADS="1")
        command = [sys.executable, "-m", "ray.scripts.scripts", "start", "--block",
                   f"--address=127.0.0.1:{head.ports['port']}", f"--num-cpus={num_cpus}",
                   f"--temp-dir={self.temp_dir}", "--disable-usage-stats",
                   *(f"--{name}={port}" for name, port in ports.items())]  # fmt: skip
        self.log_path = Path(tempfile.mkdtemp(prefix="llray-log-")) / "worker.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_joined(self, nodes: int = 2, timeout: float = 90.0) -> None:
        """Until ``ray status`` on the head counts ``nodes`` active nodes."""

        def active() -> int:
            text = subprocess.run(
                [sys.executable, "-m", "ray.scripts.scripts", "status",
                 f"--address=127.0.0.1:{self.head.ports['port']}"],
                capture_output=True, text=True,
                env={**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": self.token},
            ).stdout  # fmt: skip
            match = re.search(r"Active:\s*\n((?:\s+\d+ node_\w+\n)+)", text)
            return len(match.group(1).strip().splitlines()) if match else 0

        wait_for(lambda: active() == nodes, timeout, f"{nodes} active Ray nodes")

    def kill(self) -> None:
        """SIGKILL the node's whole process group: its raylet and workers die at once."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        self.kill()
        self.log.close()
        shutil.rmtree(self.log_path.parent, ignore_errors=True)
        if self.owned:
            shutil.rmtree(self.temp_dir, ignore_errors=True)


STEPS = 120_000  # ~1 min of cartpole: time for the lost runner to come back on a new node


def wait_for(predicate, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1.0)


@pytest.mark.slow
def test_a_job_on_two_nodes_finishes_after_the_worker_node_dies(tmp_path: Path) -> None:
    require("ray.job_submission")
    require("aiohttp")
    from ray.job_submission import JobStatus

    token = secrets.token_hex(16)
    head = Head(token, num_cpus=1)
    worker = None
    try:
        client = head.client(token)
        worker = WorkerNode(head, token)
        worker.wait_joined()
        runs_dir = tmp_path / "runs"
        job_id = client.submit_job(
            entrypoint=f"{sys.executable} -m tasks.run cartpole backend=rllib "
            f"runs_dir={runs_dir} ray.num_env_runners=2 train.total_steps={STEPS} "
            "train.checkpoint_every=4000 eval.episodes=2 eval.every=0",
            runtime_env=job_env(),
        )
        logs = lambda: client.get_job_logs(job_id)  # noqa: E731
        wait_for(lambda: "env runners:" in logs() or client.get_job_status(job_id).is_terminal(),
                 240, "the env runners to start")  # fmt: skip
        assert "env runners: 2 on 2 node(s)" in logs(), logs()[-3000:]
        checkpoints = runs_dir / "cartpole"
        wait_for(lambda: any(checkpoints.glob("*/checkpoints/step_*")), 240, "a first checkpoint")
        worker.kill()
        wait_for(lambda: "1 of 2 lost" in logs(), 120, "the run to notice the lost runner")
        worker.stop()
        worker = WorkerNode(head, token)  # a node joins: Ray restarts the lost runner there
        assert wait_finished(client, job_id, 420) == JobStatus.SUCCEEDED, logs()[-3000:]
        (run,) = checkpoints.iterdir()
        results = json.loads((run / "eval" / "results.json").read_text())
        assert results["step"] >= STEPS
        assert (run / "report.md").is_file() and (run / "checkpoints" / "latest").exists()
        lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
        healthy = [
            row["ray/healthy_env_runners"] for row in lines if "ray/healthy_env_runners" in row
        ]
        assert healthy[0] == 2 and min(healthy) == 1, healthy  # the loss shows in the metrics
        assert healthy[-1] == 2, healthy  # and the runner came back on the new node
    finally:
        if worker is not None:
            worker.stop()
        head.stop()


@pytest.mark.slow
def test_a_driver_killed_on_a_cluster_resumes_from_the_shared_runs_dir(tmp_path: Path) -> None:
    """SIGKILL to the job's driver after a checkpoint; the same job with resume=latest
    continues that run folder from its newest complete checkpoint and finishes."""
    require("ray.job_submission")
    require("aiohttp")
    from ray.job_submission import JobStatus

    token = secrets.token_hex(16)
    head = Head(token, num_cpus=2)
    try:
        client = head.client(token)
        runs_dir = tmp_path / "runs"
        command = (f"{sys.executable} -m tasks.run cartpole backend=rllib runs_dir={runs_dir} "
                   "ray.num_env_runners=1 train.total_steps=20000 train.checkpoint_every=4000 "
                   "eval.episodes=2 eval.every=0")  # fmt: skip
        first = client.submit_job(entrypoint=command, runtime_env=job_env())
        folder = runs_dir / "cartpole"
        wait_for(lambda: any(folder.glob("*/checkpoints/step_*")), 240, "a first checkpoint")
        driver = subprocess.run(["pgrep", "-f", f"tasks.run cartpole backend=rllib runs_dir={runs_dir}"],
                                capture_output=True, text=True).stdout.split()  # fmt: skip
        assert driver, "the driver process was not found"
        for pid in driver:
            os.kill(int(pid), signal.SIGKILL)
        assert wait_finished(client, first, 420) == JobStatus.FAILED
        (run,) = folder.iterdir()
        assert not (run / "eval" / "results.json").exists()
        second = client.submit_job(entrypoint=command + " resume=latest", runtime_env=job_env())
        status = wait_finished(client, second, 420)
        assert status == JobStatus.SUCCEEDED, client.get_job_logs(second)[-3000:]
        assert [p.name for p in folder.iterdir()] == [run.name]  # the same run folder
        assert json.loads((run / "eval" / "results.json").read_text())["step"] >= 20000
        assert "resum" in client.get_job_logs(second).lower()
    finally:
        head.stop()
