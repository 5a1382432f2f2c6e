"""What the two driving benchmarks (``drive_highway.py``, ``drive_steer.py``) share: one default
run per training seed, reading a run's training time and held-out seeds, and the command line
that trains (or reuses) runs and writes their BENCHMARKS section."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sections import write_section  # noqa: E402
from tasks.driving import VALIDATION_OFFSET, ensemble_rule, eval_seed  # noqa: E402


def train(task: str, seeds: list[int], steps: int | None) -> list[Path]:
    """One default run of ``task`` per seed (``steps`` overrides the budget); their folders."""
    runs_dir = Path(tempfile.mkdtemp(prefix=f"{task.replace('_', '-')}-"))
    budget = [] if steps is None else [f"train.total_steps={steps}"]
    for seed in seeds:
        command = [sys.executable, "-m", "tasks.run", task, f"seed={seed}"]
        subprocess.run([*command, f"runs_dir={runs_dir}", *budget], cwd=ROOT, check=True)
    return sorted((runs_dir / task).iterdir())


def training_minutes(run: Path) -> float:
    """Wall minutes from the first to the last training log line (evaluation excluded)."""
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    times = [
        r["time"] for r in records if "time" in r and not any(k.startswith("eval/") for k in r)
    ]
    return (max(times) - min(times)) / 60


def eval_seeds(config: dict, episodes: int) -> str:
    """The held-out env seeds a run of ``config`` was evaluated on, as ``first-last``."""
    first = eval_seed(config["seed"])
    return f"{first}-{first + episodes - 1}"


def selection_text(results: list[dict], config: dict) -> str:
    """Which weights the trained rows played (``results``: the runs' eval/results.json, ``config``
    one run's config.yaml): the last, those that validated best, or a checkpoint ensemble."""
    sizes = {result["metrics"].get("ensemble_size") for result in results}
    if sizes != {None}:
        firsts = [result["metrics"].get("ensemble_first_step") for result in results]
        counts = ", ".join(str(int(size)) for size in sorted(s for s in sizes if s is not None))
        return (
            f"The trained rows play {ensemble_rule(config['algo']['name'])} of each run's last "
            f"{counts} checkpoints (eval.ensemble; the first from steps "
            f"{', '.join(f'{int(step):,}' if step is not None else '-' for step in firsts)} on)."
        )
    steps = [result["metrics"].get("selected_step") for result in results]
    if not any(step is not None for step in steps):
        return "The trained rows play the last weights."
    chosen = ", ".join(f"{int(step):,}" if step is not None else "last" for step in steps)
    return (
        f"The trained rows play the weights with the best mean return on "
        f"{config['eval']['validation_episodes']} validation episodes (env seeds "
        f"{VALIDATION_OFFSET} past the evaluation's first) among the validations every "
        f"{config['eval']['every']:,} steps: those of steps {chosen}."
    )


def main(
    task: str,
    doc: str,
    section: Callable[[list[Path]], str],
    argv: list[str] | None,
    seeds: list[int] | None = None,
) -> str:
    """Train ``task`` at ``--seeds`` (default ``seeds``, else 1-3; or reuse ``--runs``), write
    and print its section."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=seeds or [1, 2, 3])
    parser.add_argument("--steps", type=int, default=None, help="training steps per run")
    parser.add_argument("--runs", type=Path, nargs="*", default=[])
    args = parser.parse_args(argv)
    runs = args.runs or train(task, args.seeds, args.steps)
    markdown = section(runs)
    write_section(task, markdown)
    print(markdown)
    return markdown
