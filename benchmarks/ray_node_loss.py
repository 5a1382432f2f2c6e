"""Throughput before and after a Ray node dies: a two-node cluster on this machine, one job.

The head and a worker node (one CPU each unless ``--cpus`` says, each with its own temp dir)
are started as tests/tasks/test_ray_multinode.py does; a task is submitted with ``ray job
submit`` semantics (the Jobs SDK, working dir shipped), its env runners spread over both nodes;
when the run has logged ``--kill-at`` of its budget the worker node is SIGKILLed. Env steps per
second come from the run's metrics.jsonl (step and wall time of each logged iteration): before
the kill, and after it (from the first iteration that ends 10 s after the kill, so Ray's
detection of the loss is counted once, not averaged away). Goal (issue 18): after >= half of
before, the capacity that survives.

    python benchmarks/ray_node_loss.py [--tasks cartpole,go_small_zero] [--write]
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.sections import write_section  # noqa: E402
from tests.tasks.test_ray_jobs import Head, job_env, wait_finished  # noqa: E402
from tests.tasks.test_ray_multinode import WorkerNode, wait_for  # noqa: E402

TASKS = {  # name -> command line beyond the budget (two env runners or workers, one per node)
    "cartpole": ["cartpole", "backend=rllib", "ray.num_env_runners=2"],
    "warehouse_robots": ["warehouse_robots", "backend=rllib", "ray.num_env_runners=2"],
    "go_small_ppo": [
        "configs/go_small_ppo.yaml",
        "backend=rllib",
        "ray.num_env_runners=2",
        "eval.opponents=[random]",
        "eval.with_search=false",
    ],
    # AlphaZero: self-play moves per second, the learner's own self-play off so that the two
    # Ray workers (one per node) do all of it.
    "go_small_zero": [
        "go_small",
        "ray.num_selfplay_workers=2",
        "zero.learner_selfplay=false",
        "eval.opponents=[random]",
        "eval.with_search=false",
    ],
}
STEPS = {"cartpole": 40_000, "warehouse_robots": 160_000, "go_small_ppo": 200_000,
         "go_small_zero": 160_000}  # about a minute or two of each  # fmt: skip


def rows(run: Path) -> list[dict]:
    path = run / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def rate(points: list[tuple[float, int]]) -> float:
    """Env steps per second between the first and the last (time, step) point."""
    (t0, s0), (t1, s1) = points[0], points[-1]
    return (s1 - s0) / max(t1 - t0, 1e-9)


def measure(task: str, steps: int, kill_at: float, cpus: int) -> dict:
    from ray.job_submission import JobStatus

    token = secrets.token_hex(16)
    head, worker = Head(token, num_cpus=cpus), None
    runs_dir = Path(tempfile.mkdtemp(prefix="node-loss-"))
    try:
        client = head.client(token)
        worker = WorkerNode(head, token, num_cpus=cpus)
        worker.wait_joined()
        command = " ".join(TASKS[task])
        job = client.submit_job(
            entrypoint=f"{sys.executable} -m tasks.run {command} "
            f"runs_dir={runs_dir} train.total_steps={steps} train.checkpoint_every=0 "
            "eval.every=0 eval.episodes=2",
            runtime_env=job_env(),
        )

        def run() -> Path | None:  # the job's run folder, under its task's name
            found = sorted(runs_dir.glob("*/*-s0"))
            return found[-1] if found else None

        def reached() -> bool:
            if client.get_job_status(job).is_terminal():
                raise RuntimeError(client.get_job_logs(job)[-3000:])
            logged = rows(run()) if run() else []
            return bool(logged) and logged[-1]["step"] >= kill_at * steps

        wait_for(reached, 900, f"{kill_at:.0%} of the budget")
        killed = time.time()
        worker.kill()
        status = wait_finished(client, job, 3600)
        logs = client.get_job_logs(job)
        if status != JobStatus.SUCCEEDED:
            raise RuntimeError(logs[-3000:])
        points = [(r["time"], r["step"]) for r in rows(run()) if "time/fps" in r]
        before = [p for p in points if p[0] <= killed]
        after = [p for p in points if p[0] >= killed + 10.0]
        placed = next((ln for ln in logs.splitlines()
                       if ln.startswith(("env runners:", "self-play workers:"))), "?")  # fmt: skip
        return {
            "task": task, "placement": placed.split(": ", 1)[-1],
            "before": rate(before), "after": rate(after) if len(after) > 1 else 0.0,
            "gap_s": (after[0][0] - killed) if after else float("nan"),
        }  # fmt: skip
    finally:
        if worker is not None:
            worker.stop()
        head.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--steps", type=int, default=0, help="budget (0: each task's STEPS)")
    parser.add_argument("--kill-at", type=float, default=0.4)
    parser.add_argument("--cpus", type=int, default=1, help="CPUs of each node")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    lines = [
        f"`python benchmarks/ray_node_loss.py --tasks {args.tasks}`: head "
        f"and worker node on this 2-core machine, {args.cpus} CPU each, the worker SIGKILLed at "
        f"{args.kill_at:.0%} of the budget; env steps/s from the run's own log.",
        "",
        "| task | placement | before (steps/s) | after (steps/s) | after / before |",
        "|---|---|---|---|---|",
    ]
    for task in args.tasks.split(","):
        result = measure(task, args.steps or STEPS[task], args.kill_at, args.cpus)
        print(json.dumps(result), file=sys.stderr)
        lines.append(
            f"| {task} | {result['placement']} | {result['before']:,.0f} | "
            f"{result['after']:,.0f} | {result['after'] / result['before']:.2f} |"
        )
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    if args.write:
        write_section("ray_node_loss", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
