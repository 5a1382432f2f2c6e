"""fraud_detection's references: the handbook's baselines on the same stream, its published
figures beside ours, and the daily card-precision plot."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from agents.baselines.fraud import HANDBOOK, fit_baseline, rule_scores, stream_pass, training_labels


def run_baselines(task: Any, cfg: Any) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
    """Fit each of ``cfg.eval.baselines`` on the training week's labels (as the training
    part's stream delivered them, the rule investigating) and score it on the test week;
    table rows and each one's daily card precision."""
    k = cfg.env.daily_budget
    train = task.make_vector_env(cfg, "train", cfg.eval.num_envs)
    _, days = stream_pass(train, rule_scores)
    x, y = training_labels(days, train.stream.first_day + cfg.env.train_days)
    test = task.make_vector_env(cfg, "test", cfg.eval.num_envs)
    rows, daily = [], {}
    for name in cfg.eval.baselines:
        started = time.monotonic()
        scorer = fit_baseline(name, x, y, cfg.seed)
        summary, reports = stream_pass(test, scorer)
        daily[name] = [report["card_precision"] for report in reports]
        rows.append(
            {
                "model": name,
                f"card_precision_at_{k}": summary["card_precision"],
                "roc_auc": summary["roc_auc"],
                "average_precision": summary["average_precision"],
                "training labels": 0 if name in ("rule", "isolation_forest", "autoencoder")
                else len(y),
                "wall s": round(time.monotonic() - started, 1),
            }
        )  # fmt: skip
    return rows, daily


def handbook_rows(rows: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """Ours beside the handbook's published test figures, for the models it reports."""
    out = []
    for row in rows:
        if row["model"] not in HANDBOOK:
            continue
        auc, ap, cp = HANDBOOK[row["model"]]
        out.append(
            {
                "model": row["model"],
                "card_precision_at_100 (handbook)": cp,
                f"card_precision_at_{k} (ours)": round(row[f"card_precision_at_{k}"], 3),
                "roc_auc (handbook)": auc,
                "roc_auc (ours)": round(row["roc_auc"], 3),
                "average_precision (handbook)": ap,
                "average_precision (ours)": round(row["average_precision"], 3),
            }
        )
    return out


def plot_daily(path: Path, curves: dict[str, list[float]], k: int) -> None:
    """Card precision@k on each test day, the agent against every baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    figure, axis = plt.subplots(figsize=(7, 4.2))
    for name, values in curves.items():
        style = {"linewidth": 2.5, "color": "black"} if name == "agent" else {"alpha": 0.7}
        axis.plot(range(1, len(values) + 1), values, marker=".", label=name, **style)
    axis.set(xlabel="test day", ylabel=f"card precision@{k}", ylim=(0, None))
    axis.set_title("Card precision on each held-out day", fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
