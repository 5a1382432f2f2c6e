"""Several training seeds of one command: a run folder per seed, and their aggregate.

``python -m tasks.run TASK seeds=3`` trains seeds ``seed``, ``seed+1``, ``seed+2``
(``seeds=0,1,2`` names them), each in its own run folder as a single run would be, then writes
``<runs_dir>/<task>/<timestamp>-seeds/`` with ``results.json`` and ``report.md``: for every
evaluation metric the mean over seeds, a 95% percentile-bootstrap interval of that mean, the
interquartile mean (rliable's recommendation for few runs; the mean of the middle half) and
each seed's value. ``resume=latest`` with ``seeds`` resumes each seed's newest run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from tasks.config import ConfigError
from tasks.runner.report import markdown_table
from tasks.runner.runs import atomic_write_text, run_seed

BOOTSTRAP_RESAMPLES = 10_000


def parse_seeds(text: str, first: int) -> list[int]:
    """``'3'`` -> ``[first, first+1, first+2]``; ``'0,1,2'`` or ``'[0, 1, 2]'`` -> those."""
    body = text.strip().strip("[]").strip()
    try:
        values = [int(part) for part in body.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(
            f"seeds={text}: expected a count (seeds=3) or a list of seeds (seeds=0,1,2)"
        ) from None
    if not values or min(values) < 0:
        raise ConfigError(f"seeds={text}: expected a positive count or seeds >= 0")
    if len(values) == 1 and "," not in body:
        if values[0] < 1:
            raise ConfigError(f"seeds={text}: the count must be at least 1")
        return list(range(first, first + values[0]))
    if len(set(values)) != len(values):
        raise ConfigError(f"seeds={text}: a seed is listed twice")
    return values


def bootstrap_interval(values: list[float], seed: int = 0) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the mean of ``values``."""
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(len(data), size=(BOOTSTRAP_RESAMPLES, len(data)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def interquartile_mean(values: list[float]) -> float:
    """The mean of the middle half (a quarter trimmed from each end, rounded down)."""
    data = np.sort(np.asarray(values, dtype=float))
    cut = len(data) // 4
    return float(data[cut : len(data) - cut].mean())


def aggregate(results: dict[int, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per metric: mean, ci95, iqm and per-seed values, over the seeds that report it."""
    names = dict.fromkeys(n for r in results.values() for n in r.get("metrics", {}))
    summary = {}
    for name in names:
        per_seed = {s: r["metrics"][name] for s, r in results.items()
                    if isinstance(r["metrics"].get(name), int | float)}  # fmt: skip
        if not per_seed:
            continue
        values = list(per_seed.values())
        summary[name] = {
            "mean": float(np.mean(values)),
            "ci95": list(bootstrap_interval(values)),
            "iqm": interquartile_mean(values),
            "per_seed": {str(s): float(v) for s, v in per_seed.items()},
        }
    return summary


def write_aggregate(runs_dir: Path, task: str, runs: list[Path], argv: list[str]) -> Path:
    """``<timestamp>-seeds/`` with results.json and report.md over ``runs``' evaluations."""
    results = {}
    for run in runs:
        path = run / "eval" / "results.json"
        if not path.is_file():
            raise ConfigError(f"{run}: no eval/results.json to aggregate")
        results[run_seed(run)] = json.loads(path.read_text())
    summary = aggregate(results)
    folder = runs_dir / task / f"{time.strftime('%Y%m%d-%H%M%S')}-seeds"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = folder.with_name(f"{time.strftime('%Y%m%d-%H%M%S')}-seeds-{suffix}")
    folder.mkdir(parents=True)
    payload = {"task": task, "seeds": sorted(results), "runs": [str(r) for r in runs],
               "command": argv, "metrics": summary}  # fmt: skip
    atomic_write_text(folder / "results.json", json.dumps(payload, indent=2) + "\n")
    rows = [{"metric": name, "mean": s["mean"],
             "95% CI": f"{s['ci95'][0]:.3g} to {s['ci95'][1]:.3g}", "IQM": s["iqm"],
             **{f"seed {k}": v for k, v in s["per_seed"].items()}}
            for name, s in summary.items()]  # fmt: skip
    report = [
        f"# {task}: {len(runs)} seeds\n",
        f"Seeds {', '.join(map(str, sorted(results)))}; each seed's run: "
        + ", ".join(f"[{r.name}](../{r.name}/report.md)" for r in runs)
        + ".\n",
        "Mean over seeds, its 95% percentile-bootstrap interval "
        f"({BOOTSTRAP_RESAMPLES:,} resamples of the seeds), the interquartile mean and each "
        "seed's value. With few seeds the interval is narrow only when the seeds agree.\n",
        markdown_table(rows),
    ]
    atomic_write_text(folder / "report.md", "\n".join(report))
    return folder
