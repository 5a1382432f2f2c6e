"""report.md: what was trained, the learning curves as a PNG, and the evaluation tables."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from tasks.runner.runs import Run, atomic_write_text, read_metrics

if TYPE_CHECKING:
    from tasks.runner.base import EvalResult, Task

CURVES_FILE = "curves.png"
STRENGTH_FILE = "strength.png"


def plot_curves(run: Run, names: list[str]) -> list[str]:
    """Draw each metric against environment steps into curves.png; returns the names drawn."""
    records = read_metrics(run.metrics_file)
    series = {}
    for name in names:
        points = [(r["step"], r[name]) for r in records if name in r]
        if points:
            series[name] = points
    if not series:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(3, len(series))
    rows = math.ceil(len(series) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 3.2 * rows), squeeze=False)
    for axis in axes.flat[len(series) :]:
        axis.set_visible(False)
    for axis, (name, points) in zip(axes.flat, series.items(), strict=False):
        steps, values = zip(*points, strict=True)
        axis.plot(steps, values, marker="." if len(points) < 30 else None)
        axis.set_title(name, fontsize=10)
        axis.set_xlabel("environment steps")
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(run.path / CURVES_FILE, dpi=90)
    plt.close(figure)
    return list(series)


def plot_strength(run: Run, prefix: str = "charts/win_rate/") -> str | None:
    """Scores against each fixed opponent at every periodic evaluation, against wall minutes
    since the run began, into ``strength.png``; returns its path in the run (None: no data)."""
    records = read_metrics(run.metrics_file)
    if not records:
        return None
    start = min(r["time"] for r in records if "time" in r)
    series: dict[str, list[tuple[float, float]]] = {}
    for record in records:
        for key, value in record.items():
            if key.startswith(prefix) and "time" in record:
                series.setdefault(key[len(prefix) :], []).append(
                    ((record["time"] - start) / 60, value)
                )
    if not series:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.6))
    for name, points in series.items():
        minutes, scores = zip(*points, strict=True)
        axis.plot(minutes, scores, marker="o", label=name)
    axis.set_xlabel("wall minutes since the run began")
    axis.set_ylabel("score (wins + draws / 2)")
    axis.set_ylim(-0.02, 1.02)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    axis.set_title("strength over training (network alone)", fontsize=10)
    figure.tight_layout()
    figure.savefig(run.path / STRENGTH_FILE, dpi=90)
    plt.close(figure)
    return STRENGTH_FILE


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Rows of dicts as a Markdown table (floats to 3 significant figures)."""
    if not rows:
        return "(empty)\n"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def write_report(run: Run, task: Task, cfg: Any, result: EvalResult, step: int) -> None:
    """Write report.md (and curves.png) for a run."""
    metric_names = list(dict.fromkeys([task.headline, *task.curves, *_eval_curve_names(run)]))
    drawn = plot_curves(run, metric_names)
    parts = [
        f"# {cfg.task}: {task.description}\n",
        f"Backend `{cfg.backend}`, algorithm `{task.algorithm(cfg)}`, seed {cfg.seed}, "
        f"trained for {step:,} environment steps. Resolved config: `config.yaml`; "
        f"curves in TensorBoard: `tensorboard --logdir {run.path / 'tb'}`.\n",
    ]
    if drawn:
        parts.append(f"## Learning curves\n\n![learning curves]({CURVES_FILE})\n")
    parts.append("## Evaluation\n")
    parts.append(markdown_table([{"metric": k, "value": v} for k, v in result.metrics.items()]))
    for name, rows in result.tables.items():
        parts.append(f"\n### {name}\n\n{markdown_table(rows)}")
    if result.images:
        parts.append("\n## Pictures\n")
        parts += [f"{caption}\n\n![{caption}]({path})\n" for caption, path in result.images]
    if result.notes:
        parts.append("\n" + "\n".join(f"- {note}" for note in result.notes) + "\n")
    atomic_write_text(run.report_file, "\n".join(parts))


def _eval_curve_names(run: Run) -> list[str]:
    names: dict[str, None] = {}
    for record in read_metrics(run.metrics_file):
        for key in record:
            if key.startswith("charts/win_rate/") or key.startswith("eval_periodic/"):
                names[key] = None
    return list(names)
