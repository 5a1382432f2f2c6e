"""digits_gan on held-out data: the semi-supervised GAN beside digits_semi and LabelSpreading.

digits_gan was tuned on split seed 0 with training seeds 0, 1 and 2. This script runs it at
5% and 10% of the labels on another split (by default split seed 1, training seeds 100-102),
with ``python -m tasks.run digits_gan seeds=... env.split_seed=... env.label_fraction=...``,
and digits_semi the same way; LabelSpreading comes from digits_gan's baselines table (fitted
on the same split and labelled pool). It writes one table: each method's mean test accuracy
over the seeds with a 95% bootstrap interval and the per-seed values, beside the goal.

    python benchmarks/gan_heldout.py                    # split 1, seeds 100,101,102
    python benchmarks/gan_heldout.py --write            # also BENCHMARKS.md
    python benchmarks/gan_heldout.py --steps-scale 0.1 --seeds 100 --fractions 0.05   # a look
    python benchmarks/gan_heldout.py --reuse /tmp/gan-heldout-xyz --rerun digits_semi --write

``--reuse`` takes the seeds folders of an earlier run of this script and trains only the jobs
it lacks (or those ``--rerun`` names, after a change to that method's config).
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.sections import default_steps, write_section  # noqa: E402
from tasks.runner.seeds import bootstrap_interval  # noqa: E402

SECTION = "digits_gan"
GOALS = {0.05: 0.965, 0.1: 0.98}  # digits_gan's test accuracy, from issue 20
METHODS = ("digits_gan", "digits_semi")


def run_task(
    task: str, fraction: float, seeds: list[int], split_seed: int, scale: float, runs_dir: Path
) -> tuple[Path, float]:
    """Train and evaluate ``task`` at each seed; its seeds folder and the wall time."""
    folder = runs_dir / f"{task}-{fraction:g}"
    command = [sys.executable, "-m", "tasks.run", task, f"seeds={','.join(map(str, seeds))}",
               f"env.split_seed={split_seed}", f"env.label_fraction={fraction}",
               f"runs_dir={folder}", f"eval.baselines={str(task == 'digits_gan').lower()}"]  # fmt: skip
    if scale != 1:
        command.append(f"train.total_steps={int(default_steps(task) * scale)}")
    print(" ".join(command[1:]), file=sys.stderr, flush=True)
    started = time.monotonic()
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    (seeds_folder,) = (folder / task).glob("*-seeds")
    return seeds_folder, time.monotonic() - started


def reused(folder: Path, task: str) -> tuple[Path, float] | None:
    """An earlier job's seeds folder and wall time, if ``folder`` holds a finished one; the
    wall time runs from its first run folder's start to its seeds folder's (their names are
    start times)."""
    seeds_folders = list((folder / task).glob("*-seeds"))
    if len(seeds_folders) != 1:
        return None
    (seeds_folder,) = seeds_folders

    def start(path: Path) -> datetime.datetime:
        return datetime.datetime.strptime(path.name[:15], "%Y%m%d-%H%M%S")

    first = min(start(run) for run in (folder / task).iterdir() if run != seeds_folder)
    return seeds_folder, (start(seeds_folder) - first).total_seconds()


def per_seed(folder: Path) -> tuple[dict[str, float], dict[str, float], float]:
    """From a seeds folder: test accuracy per seed, LabelSpreading's per seed (if in the
    baselines tables), and the labels used."""
    summary = json.loads((folder / "results.json").read_text())
    accuracy = summary["metrics"]["test_accuracy"]["per_seed"]
    labels = next(iter(summary["metrics"]["labels_used"]["per_seed"].values()))
    spreading = {}
    for run in summary["runs"]:
        run_folder = folder.parent / Path(run).name
        seed = run_folder.name.rsplit("-s", 1)[-1]
        baselines = run_folder / "eval" / "baselines.json"
        if baselines.is_file():
            for row in json.loads(baselines.read_text()):
                if row["model"].startswith("LabelSpreading"):
                    spreading[seed] = row["test_accuracy"]
    return accuracy, spreading, labels


def row(method: str, fraction: float, labels: float, values: dict[str, float], wall: str) -> str:
    """One table row: mean, interval, per seed, the goal where there is one."""
    numbers = list(values.values())
    mean = sum(numbers) / len(numbers)
    low, high = bootstrap_interval(numbers)
    goal = GOALS.get(fraction) if method == "digits_gan" else None
    goal_text = f">= {goal:g}" if goal is not None else "-"
    met = "-" if goal is None else ("yes" if mean >= goal else "no")
    seeds = ", ".join(f"{v:.3f}" for v in numbers)
    return (
        f"| {fraction:.0%} | {method} | {labels:.0f} | {mean:.3f} | {low:.3f}-{high:.3f} | "
        f"{seeds} | {goal_text} | {met} | {wall} |"
    )


def table(
    folders: dict[tuple[str, float], tuple[Path, float]],
    seeds: list[int],
    split_seed: int,
    scale: float,
) -> str:
    """Markdown: the held-out table from the seeds folders."""
    lines = [
        "`python benchmarks/gan_heldout.py`"
        + (f" `--steps-scale {scale:g}`" if scale != 1 else "")
        + f": `python -m tasks.run digits_gan seeds={','.join(map(str, seeds))} "
        f"env.split_seed={split_seed} env.label_fraction=F` and digits_semi the same way, on "
        f"split seed {split_seed} and training seeds {', '.join(map(str, seeds))}, none seen by "
        "tuning (split seed 0, seeds 0-2; digits_semi's budget also split seeds 2-3, seeds "
        "0-1). LabelSpreading (kNN, scikit-learn) is fitted on the "
        "same split and labelled pool (digits_gan's baselines table; it has no training seed). "
        "Labels used count the training pool and the val labels model selection reads "
        "(LabelSpreading: the pool only). Test accuracy: mean over seeds, 95% bootstrap "
        "interval, per seed; wall s is the mean wall time of a seed on 2 shared cores.",
        "",
        "| labels | method | labels used | mean | 95% CI | per seed | goal | met | wall s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    fractions = sorted({fraction for _, fraction in folders})
    for fraction in fractions:
        spreading_row = ""
        for method in METHODS:
            if (method, fraction) not in folders:
                continue
            folder, wall = folders[(method, fraction)]
            accuracy, spreading, labels = per_seed(folder)
            lines.append(row(method, fraction, labels, accuracy, f"{wall / len(seeds):.0f}"))
            if spreading:
                pool = labels - validation_labels(split_seed, fraction)
                spreading_row = row("LabelSpreading", fraction, pool, spreading, "-")
        if spreading_row:
            lines.append(spreading_row)
    return "\n".join(lines) + "\n"


def validation_labels(split_seed: int, fraction: float) -> int:
    """Val labels a learner at ``fraction`` reads for model selection."""
    from envs.paradigms.datasets import get_split

    return int(get_split("digits", split_seed).labelled_mask(fraction, "val").sum())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="100,101,102", help="training seeds, comma-separated")
    parser.add_argument("--split-seed", type=int, default=1)
    parser.add_argument("--fractions", default="0.05,0.1", help="label fractions, comma-separated")
    parser.add_argument("--steps-scale", type=float, default=1.0, help="share of each budget")
    parser.add_argument("--jobs", type=int, default=2, help="runs side by side (one per core)")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--reuse", type=Path, help="an earlier run's folder: keep its jobs")
    parser.add_argument("--rerun", default="", help="methods to train again under --reuse")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    fractions = [float(f) for f in args.fractions.split(",")]
    if args.split_seed == 0:
        print("warning: split seed 0 is the tuning split", file=sys.stderr)
    runs_dir = args.reuse or Path(tempfile.mkdtemp(prefix="gan-heldout-"))
    rerun = set(filter(None, args.rerun.split(",")))
    if rerun - set(METHODS):
        parser.error(f"--rerun: unknown method {sorted(rerun - set(METHODS))[0]!r}")
    jobs = [(method, fraction) for fraction in fractions for method in METHODS]
    folders = {}
    for method, fraction in jobs:
        folder = runs_dir / f"{method}-{fraction:g}"
        if method in rerun and folder.exists():
            shutil.rmtree(folder)
        earlier = reused(folder, method) if args.reuse else None
        if earlier:
            print(f"reusing {earlier[0]}", file=sys.stderr)
            folders[(method, fraction)] = earlier
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {
            job: pool.submit(run_task, *job, seeds, args.split_seed, args.steps_scale, runs_dir)
            for job in jobs
            if job not in folders
        }
        folders.update({job: future.result() for job, future in futures.items()})
    markdown = table(folders, seeds, args.split_seed, args.steps_scale)
    print(markdown)
    if args.write:
        write_section(SECTION, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
