"""``ray job submit --working-dir .`` again and again on a fresh two-node cluster on this machine.

A head and a worker node (each with its own ``--temp-dir``, as README says nodes on one
machine need; ``--shared-temp-dir`` gives them one, the setup that lost jobs' working dirs) get
``--jobs`` submissions in a row of the same short cartpole run under RLlib with two env
runners (one per node), each with the checkout as its working dir. Counts the jobs that
succeed and says how the others failed.

    python benchmarks/ray_job_repeat.py [--jobs 10] [--shared-temp-dir] [--write]
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.sections import write_section  # noqa: E402
from tests.tasks.test_ray_jobs import Head, job_env, wait_finished  # noqa: E402
from tests.tasks.test_ray_multinode import WorkerNode  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--shared-temp-dir", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    from ray.job_submission import JobStatus

    token = secrets.token_hex(16)
    head = Head(token, num_cpus=1)
    worker = None
    outcomes: list[str] = []
    started = time.monotonic()
    try:
        client = head.client(token)
        worker = WorkerNode(head, token, temp_dir=head.temp_dir if args.shared_temp_dir else None)
        worker.wait_joined()
        runs_dir = Path(tempfile.mkdtemp(prefix="job-repeat-"))
        for index in range(args.jobs):
            job = client.submit_job(
                entrypoint=f"{sys.executable} -m tasks.run cartpole backend=rllib "
                f"ray.num_env_runners=2 train.total_steps=2048 train.checkpoint_every=0 "
                f"eval.episodes=2 runs_dir={runs_dir} seed={index}",
                runtime_env=job_env(),
            )
            status = wait_finished(client, job, 3600)
            if status == JobStatus.SUCCEEDED:
                outcomes.append("succeeded")
            else:
                errors = [ln for ln in client.get_job_logs(job).splitlines() if "Error" in ln]
                outcomes.append(f"{status}: {errors[-1] if errors else '?'}")
            print(f"job {index + 1}: {outcomes[-1]}", file=sys.stderr, flush=True)
    finally:
        if worker is not None:
            worker.stop()
        head.stop()
    ok = outcomes.count("succeeded")
    setup = "one shared temp dir" if args.shared_temp_dir else "a temp dir per node"
    lines = [
        f"`python benchmarks/ray_job_repeat.py --jobs {args.jobs}"
        + (" --shared-temp-dir" if args.shared_temp_dir else "")
        + f"`: head + worker node on this machine ({setup}), {args.jobs} submissions in a row "
        f"of cartpole under RLlib (2 env runners, 2,048 steps) with the checkout as working dir: "
        f"**{ok} of {args.jobs} succeeded** in {time.monotonic() - started:.0f} s.",
    ]
    lines += [f"- job {i + 1}: {o}" for i, o in enumerate(outcomes) if o != "succeeded"]
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    if args.write:
        name = "ray_job_repeat_shared" if args.shared_temp_dir else "ray_job_repeat"
        write_section(name, markdown)
    return 0 if ok == args.jobs else 1


if __name__ == "__main__":
    sys.exit(main())
