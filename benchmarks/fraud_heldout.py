"""fraud_detection on held-out worlds: the learner against the handbook's baselines, and speed.

The learner's settings (configs/fraud_detection.yaml) were tuned on worlds 0, 1 and 2. This
script runs ``python -m tasks.run fraud_detection seeds=100,101,102`` (each seed is its own
world: customers, terminals, frauds; and the learner's initialisation), then writes one table:
card precision@100 on the test week, mean over the worlds with a 95% bootstrap interval and
per world, ROC-AUC and average precision, for the learner and every baseline, beside the Fraud
Detection Handbook's published figures. It also times the world generator on the handbook's
183 days.

    python benchmarks/fraud_heldout.py                 # worlds 100, 101, 102
    python benchmarks/fraud_heldout.py --write         # also the BENCHMARKS.md section
    python benchmarks/fraud_heldout.py --seeds 100 --steps 50000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agents.baselines.fraud import BASELINES, HANDBOOK  # noqa: E402
from benchmarks.sections import write_section  # noqa: E402
from envs.paradigms.fraud import FraudWorld, WorldSize  # noqa: E402

SECTION = "fraud_detection"
HANDBOOK_NOTE = (
    "Against the handbook (chapter 3.5's table, one simulated world, its test week "
    "2018-08-08..14): the continuous scorers land within the spread between our worlds (logistic "
    "regression, random forest: card precision@100 0.29 in the handbook; ROC-AUC and average "
    "precision a little lower here). Why they differ: (1) each of our worlds is another draw of "
    "customers, terminals and frauds, and card precision@100 moves by about 0.02-0.04 from "
    "world to world, more than between these models; (2) our ROC-AUC and average precision are "
    "taken over the transactions of cards still open that day, so a card caught by an "
    "investigation leaves the later days, while the handbook's test set removes only the cards "
    "known through the delayed labels and keeps the easy later frauds of cards caught in the "
    "test week; (3) the two decision trees score about 0.04 higher here than there; we did "
    "not find why: not the order of tied cards (five random tie orders on world 100 moved "
    "them by under 0.01), perhaps the training week's draw, on which a depth-2 tree's two "
    "splits hang; "
    "(4) our boosting model is scikit-learn's histogram gradient boosting, not XGBoost. The "
    "simulator itself matches the handbook's counts: over 183 days worlds 0-2 hold 1.76-1.79 M "
    "transactions and 0.95-1.07k / 9.25-9.36k / 4.61-4.67k frauds of scenarios 1 / 2 / 3, "
    "against "
    "its 1.75 M and 978 / 9,099 / 4,604."
)
LEARNER_NOTE = (
    "Where the learner's edge comes from: what the stream gives and the handbook's static "
    "models do not use. Its own investigations answer the same day, so a fraud found on a card "
    "dates its terminal a week before the delayed labels do (on the tuning worlds 0-2 its two "
    "memory inputs were worth +0.007: 0.330 with them, 0.323 without), and online it keeps "
    "training on the test week's arrivals. Most of the frauds no model finds (on worlds 0-2, "
    "9-21 open compromised cards a test day) are at terminals compromised in the last 7 days, "
    "which nothing but an investigation can reveal."
)
CP = "card_precision_at_100"


def run_seeds(
    seeds: list[int], steps: int | None, runs_dir: Path, *overrides: str
) -> tuple[Path, float]:
    """Train and evaluate at each seed (one world each); the aggregate folder and wall s."""
    command = [sys.executable, "-m", "tasks.run", "fraud_detection",
               f"seeds={','.join(map(str, seeds))}", f"runs_dir={runs_dir}", *overrides]  # fmt: skip
    if steps:
        command.append(f"train.total_steps={steps}")
    print(" ".join(command[1:]), file=sys.stderr, flush=True)
    started = time.monotonic()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(command, cwd=REPO, check=True, env=env)
    wall = time.monotonic() - started
    (folder,) = (runs_dir / "fraud_detection").glob("*-seeds")
    return folder, wall


def generation_speed(days: int = 183, repeats: int = 3) -> tuple[float, float, int]:
    """Transactions a second on one core: generation alone, and with the 15 features."""
    best_gen, best_all, count = float("inf"), float("inf"), 0
    for seed in range(repeats):
        started = time.perf_counter()
        world = FraudWorld(seed, WorldSize(n_days=days))
        generated = time.perf_counter() - started
        world.compute_features()
        best_gen = min(best_gen, generated)
        best_all = min(best_all, time.perf_counter() - started)
        count = len(world.amount)
    return count / best_gen, count / best_all, count


def aggregate_metrics(folder: Path) -> dict[str, dict]:
    """Per metric: mean, ci95 and per-seed values, from a seeds folder."""
    return json.loads((folder / "results.json").read_text())["metrics"]


def table(
    metrics: dict[str, dict], seeds: list[int], wall: float, speed: tuple[float, float, int]
) -> str:
    """Markdown: the held-out table and the generator's speed. ``metrics`` holds the main
    run's aggregate, and the ablation's under ``no_memory/``."""

    def cell(name: str) -> tuple[float, str, str]:
        values = metrics[name]
        low, high = values["ci95"]
        per_seed = ", ".join(f"{v:.3f}" for v in values["per_seed"].values())
        return values["mean"], f"{low:.3f}-{high:.3f}", per_seed

    rows = [("fraud learner (online on the test week)", "")]
    rows += [("fraud learner, frozen after training", "frozen/")]
    if f"no_memory/{CP}" in metrics:
        rows += [("fraud learner without its memory inputs (online)", "no_memory/")]
    rows += [
        (name, f"baseline/{name}/") for name in BASELINES if f"baseline/{name}/{CP}" in metrics
    ]
    best_name, best = max(
        ((name, metrics[f"baseline/{name}/{CP}"]["mean"]) for name in BASELINES
         if f"baseline/{name}/{CP}" in metrics),
        key=lambda item: item[1],
    )  # fmt: skip
    agent = metrics[CP]["mean"]
    gen, with_features, count = speed
    lines = [
        f"`python benchmarks/fraud_heldout.py` (`python -m tasks.run fraud_detection "
        f"seeds={','.join(map(str, seeds))}`): worlds {', '.join(map(str, seeds))}, none seen "
        "by tuning (worlds 0-2). Each world: the handbook's 5,000 customers and 10,000 "
        "terminals; 40 days of history, then a training week, a delay week and the test week "
        "(about 9,800 transactions a day, 0.6% of the test week's open-card transactions "
        "fraudulent). Card precision@100 is the mean over the 7 test days; mean over worlds, "
        "95% bootstrap interval, per world. The baselines are fitted on the training week's "
        "labels as the stream delivered them (all arrived by the end of the delay week, as in "
        "the handbook); the learner trains on the stream itself (delayed labels and its own "
        f"investigations) and, online, keeps learning on the test week. Wall time of a whole "
        f"run (training, evaluation, all baselines) on 2 shared cores: {wall / len(seeds):.0f} s.",
        "",
        f"| model | {CP} mean | 95% CI | per world | roc_auc | average_precision | "
        "handbook CP@100 |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, prefix in rows:
        mean, interval, per_seed = cell(f"{prefix}{CP}")
        handbook = label if label in HANDBOOK else ""
        cp_handbook = f"{HANDBOOK[handbook][2]:.3f}" if handbook else "-"
        lines.append(
            f"| {label} | {mean:.3f} | {interval} | {per_seed} | "
            f"{metrics[f'{prefix}roc_auc']['mean']:.3f} | "
            f"{metrics[f'{prefix}average_precision']['mean']:.3f} | {cp_handbook} |"
        )
    verdict = "met" if agent > best else "not met"
    paired = [
        a - b
        for a, b in zip(
            metrics[CP]["per_seed"].values(),
            metrics[f"baseline/{best_name}/{CP}"]["per_seed"].values(),
            strict=True,
        )
    ]
    lines += [
        "",
        f"Goal (the learner beats the best baseline's card precision@100, mean over the "
        f"worlds): **{verdict}**: {agent:.3f} against {best_name} {best:.3f}; learner minus "
        f"{best_name} per world: {', '.join(f'{d:+.3f}' for d in paired)}.",
        "",
        f"Labels: the learner received {metrics['labels_used']['mean']:,.0f} distinct labels in "
        f"training on average ({metrics['investigations']['mean']:,.0f} from its own "
        "investigations over the training and delay weeks, the rest the training week's delayed "
        "labels), the supervised baselines the training week's "
        f"{metrics[f'baseline/{best_name}/labels_used']['mean']:,.0f}; online, the learner also "
        "learns from the test week's investigations and the delay week's late labels.",
        "",
        f"{LEARNER_NOTE} Frozen after training (no test-week learning) it scores "
        f"{metrics[f'frozen/{CP}']['mean']:.3f}; without its memory inputs (the ablation row) "
        f"{metrics[f'no_memory/{CP}']['mean']:.3f}.",
        "",
        HANDBOOK_NOTE,
        "",
        f"Generator speed (one core, the handbook's 183 days, {count:,} transactions, best of "
        f"3 worlds): {gen / 1e6:.2f} M transactions/s generated (profiles, transactions, the "
        f"three fraud scenarios); {with_features / 1e6:.2f} M/s with the 15 features.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="100,101,102", help="held-out worlds")
    parser.add_argument("--steps", type=int, default=None, help="train.total_steps override")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if set(seeds) & {0, 1, 2}:
        print("warning: worlds 0-2 are the tuning worlds", file=sys.stderr)
    speed = generation_speed()
    runs_dir = Path(tempfile.mkdtemp(prefix="fraud-"))
    folder, wall = run_seeds(seeds, args.steps, runs_dir / "main")
    metrics = aggregate_metrics(folder)
    # The ablation: the same learner with its two memory inputs zeroed, no baselines.
    ablation, _ = run_seeds(seeds, args.steps, runs_dir / "no_memory",
                            "learner.kwargs={recall_inputs: false}", "eval.baselines=[]")  # fmt: skip
    metrics.update({f"no_memory/{k}": v for k, v in aggregate_metrics(ablation).items()})
    markdown = table(metrics, seeds, wall, speed)
    print(markdown)
    if args.write:
        write_section(SECTION, "## fraud_detection: held-out worlds\n\n" + markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
