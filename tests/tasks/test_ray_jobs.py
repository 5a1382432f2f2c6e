"""A Ray job runs a learnloop task on a cluster head, the way the README says to submit one.

The test starts its own head (``ray start --head --block``) on free, non-default ports with its
own temp dir, so it never touches another Ray on the machine; it stops that head by signalling
the process it started. The head runs with token authentication and a token made for the test
(``RAY_AUTH_TOKEN``, nothing written to ``~/.ray``); the job client sends the same token as a
bearer header, which is what a client outside the cluster must do.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.optional import require

REPO = Path(__file__).resolve().parents[2]
EXCLUDES = [".venv", "runs", ".git", "**/__pycache__", "*.egg-info"]


def job_env() -> dict[str, Any]:
    """The runtime env a submitted job gets: the checkout as working dir, one torch thread."""
    return {"working_dir": str(REPO), "excludes": EXCLUDES, "env_vars": {"OMP_NUM_THREADS": "1"}}


def wait_finished(client: Any, job: str, timeout: float) -> Any:
    """The job's final status, polled every 2 s; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (status := client.get_job_status(job)).is_terminal():
        assert time.monotonic() < deadline, (
            f"job still {status}: {client.get_job_logs(job)[-3000:]}"
        )
        time.sleep(2.0)
    return status


def free_ports(count: int) -> list[int]:
    """Ports the OS says are free now (outside Ray's default worker range 10002-19999)."""
    sockets, ports = [], []
    while len(ports) < count:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sockets.append(sock)
        if not 10002 <= port <= 19999:
            ports.append(port)
    for sock in sockets:
        sock.close()
    return ports


class Head:
    """A Ray head started by this test; ``stop()`` ends exactly the processes it started."""

    def __init__(self, token: str, num_cpus: int = 2) -> None:
        names = ("port", "dashboard-port", "ray-client-server-port", "dashboard-agent-listen-port",
                 "dashboard-agent-grpc-port", "runtime-env-agent-port", "metrics-export-port",
                 "node-manager-port", "object-manager-port")  # fmt: skip
        self.ports = dict(zip(names, free_ports(len(names)), strict=True))
        self.temp_dir = tempfile.mkdtemp(prefix="llray-", dir="/tmp")  # short: socket paths
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token, OMP_NUM_THREADS="1")
        command = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
                   f"--num-cpus={num_cpus}", "--include-dashboard=true", "--dashboard-host=127.0.0.1",
                   f"--temp-dir={self.temp_dir}", "--disable-usage-stats",
                   *(f"--{name}={port}" for name, port in self.ports.items())]  # fmt: skip
        self.log = open(Path(self.temp_dir) / "head.log", "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.address = f"http://127.0.0.1:{self.ports['dashboard-port']}"

    def client(self, token: str, timeout: float = 90.0) -> Any:
        """A JobSubmissionClient, once the head's job server answers."""
        from ray.job_submission import JobSubmissionClient

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"ray start exited: {self.read_log()}")
            try:
                return JobSubmissionClient(
                    self.address, headers={"Authorization": f"Bearer {token}"}
                )
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)

    def read_log(self) -> str:
        self.log.flush()
        return (Path(self.temp_dir) / "head.log").read_text()[-3000:]

    def stop(self) -> None:
        """SIGTERM to the ``ray start --block`` process: it takes its Ray processes down."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


@pytest.fixture
def head() -> Iterator[tuple[Head, str]]:
    require("ray.job_submission")
    require("aiohttp")  # ray[default]: the dashboard that serves jobs
    token = secrets.token_hex(16)
    started = Head(token)
    try:
        yield started, token
    finally:
        started.stop()


@pytest.mark.slow
def test_submitted_job_trains_a_task_and_writes_its_run_folder(
    head: tuple[Head, str], tmp_path: Path
) -> None:
    from ray.job_submission import JobStatus, JobSubmissionClient

    ray_head, token = head
    client = ray_head.client(token)
    with pytest.raises(Exception, match="(?i)auth"):  # a wrong token gets no jobs
        JobSubmissionClient(ray_head.address, headers={"Authorization": "Bearer wrong"})
    runs_dir = tmp_path / "runs"  # absolute: the job's working dir is a temporary copy
    job_id = client.submit_job(
        entrypoint=f"{sys.executable} -m tasks.run cartpole backend=rllib runs_dir={runs_dir} "
        "train.total_steps=512 train.checkpoint_every=0 eval.episodes=2",
        runtime_env=job_env(),
    )
    status = wait_finished(client, job_id, 240)
    logs = client.get_job_logs(job_id)
    assert status == JobStatus.SUCCEEDED, logs[-3000:]
    assert "run folder:" in logs and "report:" in logs
    (run,) = (runs_dir / "cartpole").iterdir()
    assert run.name.endswith("-rllib-s0")
    results = json.loads((run / "eval" / "results.json").read_text())
    assert results["step"] >= 512
    assert (run / "report.md").is_file() and any((run / "tb").iterdir())
