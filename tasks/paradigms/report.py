"""The paradigms comparison's evaluation: one table, the references, and two plots."""

from __future__ import annotations

import json
from typing import Any

from tasks.runner.base import EvalResult
from tasks.runner.runs import Run, atomic_write_text, read_metrics

STEPS_PLOT = "accuracy_vs_steps.png"
LABELS_PLOT = "accuracy_vs_labels.png"

# The headline test metric of each task, as results.json names it.
HEADLINE = {
    "digits_supervised": "test_accuracy", "digits_bandit": "test_accuracy",
    "digits_semi": "test_accuracy", "digits_selfsup": "test_accuracy", "digits_cluster": "ari",
    "digits_anomaly": "roc_auc", "diabetes_regression": "r2", "digits_gan": "test_accuracy",
}  # fmt: skip
# What each of learnloop's learners reads; any other algorithm learns from the env's reward.
FEEDBACK_USED = {
    "supervised": "labels", "reward": "reward only", "semi": "labels + unlabelled samples",
    "autoencoder": "clean samples (from the data)", "cluster": "observations only",
    "anomaly": "investigation outcomes",
    "gan": "labels + unlabelled samples + its generator's samples",
}  # fmt: skip


def feedback_used(member: Any) -> str:
    """What reached the member's agent, in words, from the algorithm that trained it."""
    cfg = member.cfg
    algorithm = member.task.algorithm(cfg)
    if algorithm not in FEEDBACK_USED:  # an RL algorithm
        return f"reward only ({cfg.backend} {algorithm})"
    text = FEEDBACK_USED[algorithm]
    if algorithm == "supervised" and cfg.task == "diabetes_regression":
        text = "targets"
    if cfg.task == "digits_selfsup":
        text += f"; probe: {cfg.probe.label_fraction:g} of labels"
    return text


def evaluate_members(cfg: Any, members: list[Any], run: Run) -> EvalResult:
    """Evaluate every member on the test part; rows, references, plots and notes."""
    rows, references, metrics, notes = [], [], {}, []
    for member in members:
        member_run = Run(run.path / "members" / member.name)
        member_run.eval_dir.mkdir(parents=True, exist_ok=True)
        result = member.task.evaluate(member.cfg, member.agent, member_run)
        payload = {"task": member.cfg.task, "metrics": result.metrics, "tables": result.tables}
        atomic_write_text(
            run.eval_dir / f"member_{member.name}.json", json.dumps(payload, indent=2)
        )
        headline = HEADLINE[member.cfg.task]
        for key, value in result.metrics.items():
            metrics[f"{member.name}/{key}"] = value
        rows.append(
            {
                "member": member.name,
                "paradigm": _paradigm(member),
                "feedback used": feedback_used(member),
                "labels used": int(result.metrics.get("labels_used", 0))
                or int(result.metrics.get("investigations", 0)),
                "weights chosen by": member.task.selection(member.cfg),
                "test metric": headline,
                "value": result.metrics[headline],
                "env steps": member.steps,
                "wall s": round(member.wall_s, 1),
            }
        )
        for reference in result.tables.get("baselines", []):
            row = _reference_row(member.cfg.task, reference)
            if all(_same_model(row, other) for other in references) or not references:
                references.append(row)
    notes.append(
        f"seed {cfg.seed}, split seed {cfg.split_seed}: every member trains on the same train part "
        "and is scored on the same test part, which no member ever saw in training"
    )
    for name in (_plot_steps(run, members), _plot_labels(run, rows)):
        if name:
            notes.append(f"![{name}](eval/{name})")
    tables = {"paradigms": rows}
    if references:
        tables["references"] = references
    return EvalResult(metrics=metrics, tables=tables, notes=notes)


def _reference_row(task: str, reference: dict[str, Any]) -> dict[str, Any]:
    """A reference model's row with uniform columns (each reference reports one metric or two)."""
    scores = {k: v for k, v in reference.items() if k not in ("model", "labels")}
    text = ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
    return {
        "task": task,
        "model": reference["model"],
        "labels": reference.get("labels", ""),
        "test scores": text,
    }


def _same_model(row: dict[str, Any], other: dict[str, Any]) -> bool:
    """False when two reference rows are the same model on the same data (shown once)."""
    keys = ("model", "labels", "test scores")
    return any(row[k] != other[k] for k in keys)


def _paradigm(member: Any) -> str:
    cfg = member.cfg
    names = {
        "digits_supervised": "supervised", "digits_bandit": "reward-only",
        "digits_semi": "semi-supervised", "digits_selfsup": "self-supervised",
        "digits_cluster": "unsupervised (clustering)", "digits_anomaly": "anomaly detection",
        "diabetes_regression": "regression", "digits_gan": "semi-supervised GAN",
    }  # fmt: skip
    name = names[cfg.task]
    if (
        cfg.task in ("digits_supervised", "digits_semi", "digits_gan")
        and cfg.env.label_fraction < 1
    ):
        name += f" ({cfg.env.label_fraction:.0%} labels)"
    if cfg.task == "diabetes_regression":
        name += " from reward" if cfg.env.feedback == "reward" else " (MSE)"
    return name


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_steps(run: Run, members: list[Any]) -> str | None:
    """Validation accuracy of the classifiers against each one's own env steps."""
    records = read_metrics(run.metrics_file)
    offset, series = 0, {}
    for member in members:
        key = f"{member.name}/eval_periodic/val_accuracy"
        points = [(r["step"] - offset, r[key]) for r in records if key in r]
        if points:
            series[member.name] = points
        offset += member.steps
    if not series:
        return None
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 4.2))
    for name, points in series.items():
        steps, values = zip(*points, strict=True)
        axis.plot(steps, values, marker=".", label=name)
    axis.set(xlabel="environment steps", ylabel="validation accuracy", ylim=(0, 1.0))
    axis.set_title("Accuracy against env steps", fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(run.eval_dir / STEPS_PLOT, dpi=90)
    plt.close(figure)
    return STEPS_PLOT


def _plot_labels(run: Run, rows: list[dict[str, Any]]) -> str | None:
    """Test accuracy of the digit classifiers against the labels they could use."""
    classifiers = [r for r in rows if r["test metric"] == "test_accuracy"]
    if not classifiers:
        return None
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 4.2))
    for row in classifiers:
        if row["labels used"] > 0:
            axis.scatter(row["labels used"], row["value"], s=30)
            axis.annotate(row["member"], (row["labels used"], row["value"]), fontsize=7,
                          xytext=(4, -3), textcoords="offset points")  # fmt: skip
        else:  # reward-only learners use no labels: a line across the plot
            axis.axhline(row["value"], linestyle="--", linewidth=1, alpha=0.6)
            axis.annotate(f"{row['member']} (0 labels)", (1, row["value"]), fontsize=7,
                          xycoords=("axes fraction", "data"), ha="right", va="bottom")  # fmt: skip
    axis.set_xscale("log")
    axis.set(xlabel="labels used (log scale)", ylabel="test accuracy")
    axis.set_title("Accuracy against labels used", fontsize=10)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(run.eval_dir / LABELS_PLOT, dpi=90)
    plt.close(figure)
    return LABELS_PLOT
