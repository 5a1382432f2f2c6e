"""The paradigms table on held-out data: the whole suite over several seeds on a split no tuning saw.

Every paradigm config was tuned on split seed 0 with training seeds 0, 1 and 2
(``benchmarks/paradigms_quality.py``, whose goals table reads that split's test part);
digits_semi's budget and digits_cluster's restarts were tuned later on split seeds 0, 2 and 3
with training seeds 0 and 1 (their configs list the runs). This
script runs ``python -m tasks.run paradigms seeds=... split_seed=...`` on another split (by
default split seed 1, training seeds 100-102): other samples in train, val and test. It writes
one table, each member's mean over the seeds with a 95% bootstrap interval and the per-seed
values, beside the goal the issue set for it.

    python benchmarks/paradigms_heldout.py                  # split 1, seeds 100,101,102
    python benchmarks/paradigms_heldout.py --write          # also README.md and BENCHMARKS.md
    python benchmarks/paradigms_heldout.py --steps-scale 0.05 --seeds 100   # a quick look
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.sections import write_section  # noqa: E402

SECTION = "paradigms_heldout"
# member: (goal on the headline metric, its meaning) from the paradigms issue.
GOALS = {
    "supervised": (0.97, "CNN 0.979"),
    "semi_10pct": (0.96, "LabelSpreading 0.952"),
    "semi_5pct": (0.95, "LabelSpreading 0.943"),
    "gan_10pct": (0.98, "as full supervision; digits_semi 0.950"),
    "gan_5pct": (0.965, "digits_semi 0.956"),
    "selfsup_probe_10pct": (0.95, "denoising AE probe 0.931"),
    "reward_only": (0.97, "REINFORCE 0.986 at 100k steps"),
    "clustering": (0.80, "k-means 0.668"),
    "anomaly": (0.95, "AE 0.924"),
}


def run_suite(seeds: list[int], split_seed: int, steps_scale: float, runs_dir: Path) -> Path:
    """Train and evaluate the suite at each seed; the seeds folder it wrote."""
    command = [sys.executable, "-m", "tasks.run", "paradigms",
               f"seeds={','.join(map(str, seeds))}", f"split_seed={split_seed}",
               f"steps_scale={steps_scale}", f"runs_dir={runs_dir}"]  # fmt: skip
    print(" ".join(command[1:]), file=sys.stderr, flush=True)
    subprocess.run(command, cwd=REPO, check=True)
    (folder,) = (runs_dir / "paradigms").glob("*-seeds")
    return folder


def table(folder: Path, seeds: list[int], split_seed: int, steps_scale: float) -> str:
    """Markdown: the held-out table from a seeds folder and its per-seed runs."""
    summary = json.loads((folder / "results.json").read_text())
    metrics, runs = summary["metrics"], summary["runs"]
    rows = json.loads((folder.parent / Path(runs[0]).name / "eval" / "paradigms.json").read_text())
    walls: dict[str, list[float]] = {}
    for run in runs:
        for row in json.loads(
            (folder.parent / Path(run).name / "eval" / "paradigms.json").read_text()
        ):
            walls.setdefault(row["member"], []).append(row["wall s"])
    lines = [
        f"`python benchmarks/paradigms_heldout.py` (`python -m tasks.run paradigms "
        f"seeds={','.join(map(str, seeds))} split_seed={split_seed}`"
        + (f" steps_scale={steps_scale:g}" if steps_scale != 1 else "")
        + f"): split seed {split_seed} and training seeds {', '.join(map(str, seeds))}, none of "
        "them seen by tuning (split seed 0, seeds 0-2; split seeds 2 and 3, seeds 0-1 for "
        "semi_* and clustering). Labels used count every label a member "
        "reads, its model selection's included; a learner with a share of the labels validates "
        "on the same share of the val part. Mean over seeds, 95% bootstrap interval, per seed; "
        "wall s is the mean training time of a seed on 2 cores.",
        "",
        "| member | paradigm | feedback used | labels used | weights chosen by | test metric "
        "| mean | 95% CI | per seed | goal | met | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        name, metric = row["member"], row["test metric"]
        values = metrics[f"{name}/{metric}"]
        low, high = values["ci95"]
        per_seed = ", ".join(f"{v:.3f}" for v in values["per_seed"].values())
        goal, _ = GOALS.get(name, (None, ""))
        goal_text = f">= {goal:g}" if goal is not None else "-"
        met = "-" if goal is None else ("yes" if values["mean"] >= goal else "no")
        wall = sum(walls[name]) / len(walls[name])
        lines.append(
            f"| {name} | {row['paradigm']} | {row['feedback used']} | {row['labels used']} | "
            f"{row['weights chosen by']} | {metric} | {values['mean']:.3f} | {low:.3f}-{high:.3f} | "
            f"{per_seed} | {goal_text} | {met} | {wall:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="100,101,102", help="training seeds, comma-separated")
    parser.add_argument("--split-seed", type=int, default=1)
    parser.add_argument("--steps-scale", type=float, default=1.0)
    parser.add_argument("--from-folder", type=Path, help="a seeds folder already written")
    parser.add_argument("--write", action="store_true", help="update README.md and BENCHMARKS.md")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.split_seed in (0, 2, 3) and {0, 1} & set(seeds):
        print(
            f"warning: split seed {args.split_seed} with seeds 0-1 is tuning data", file=sys.stderr
        )
    folder = args.from_folder or run_suite(
        seeds, args.split_seed, args.steps_scale, Path(tempfile.mkdtemp(prefix="paradigms-"))
    )
    markdown = table(folder, seeds, args.split_seed, args.steps_scale)
    print(markdown)
    if args.write:
        write_section(SECTION, markdown)
        write_section(SECTION, markdown, REPO / "README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
