"""scikit-learn reference models on the paradigm tasks' split, for the report's context.

They see the same train part (and, where the task has one, the same labelled pool) and are
scored on the same test part as the learners. scikit-learn is imported here only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.paradigms.datasets import Split, get_split
from envs.paradigms.metrics import adjusted_rand_index, normalized_mutual_info, r2_score, roc_auc


def task_split(cfg: Any) -> Split:
    """The split the task's env uses."""
    return get_split(cfg.env.dataset, cfg.env.split_seed, data_dir=cfg.env.data_dir or None)


def _flat(split: Split, part: str) -> np.ndarray:
    return split.features(part).reshape(len(split.part_indices(part)), -1)


def classification_baselines(cfg: Any, label_fraction: float | None = None) -> list[dict[str, Any]]:
    """Logistic regression on the labelled pool and on all labels; LabelSpreading when the pool
    is a part of the training data."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.semi_supervised import LabelSpreading

    split = task_split(cfg)
    fraction = cfg.env.label_fraction if label_fraction is None else label_fraction
    x, y = _flat(split, "train"), split.targets("train")
    x_test, y_test = _flat(split, "test"), split.targets("test")
    pool = split.labelled_mask(fraction)
    rows = []

    def row(model: str, labels: int, predictions: np.ndarray) -> None:
        rows.append(
            {
                "model": model,
                "labels": labels,
                "test_accuracy": float(np.mean(predictions == y_test)),
            }
        )

    full = LogisticRegression(max_iter=2000).fit(x, y)
    row("logistic regression, all labels", len(y), full.predict(x_test))
    if 0 < fraction < 1:
        few = LogisticRegression(max_iter=2000).fit(x[pool], y[pool])
        row(f"logistic regression, {fraction:g} of labels", int(pool.sum()), few.predict(x_test))
        spreading = LabelSpreading(kernel="knn", n_neighbors=7, max_iter=100)
        spreading.fit(x, np.where(pool, y, -1))
        row(
            f"LabelSpreading (kNN), {fraction:g} of labels",
            int(pool.sum()),
            spreading.predict(x_test),
        )
    return rows


def regression_baselines(cfg: Any) -> list[dict[str, Any]]:
    """Ridge and ordinary least squares on all training targets."""
    from sklearn.linear_model import LinearRegression, Ridge

    split = task_split(cfg)
    x, y = _flat(split, "train"), split.targets("train")
    x_test, y_test = _flat(split, "test"), split.targets("test")
    rows = []
    for name, model in (
        ("Ridge (alpha=1)", Ridge(alpha=1.0)),
        ("least squares", LinearRegression()),
    ):
        predictions = model.fit(x, y).predict(x_test)
        mse = float(np.mean((predictions - y_test) ** 2)) * split.target_std**2
        rows.append({"model": name, "r2": r2_score(y_test, predictions), "mse": mse})
    return rows


def cluster_baselines(cfg: Any, n_clusters: int) -> list[dict[str, Any]]:
    """k-means on the raw (scaled) features."""
    from sklearn.cluster import KMeans

    split = task_split(cfg)
    x, x_test, y_test = _flat(split, "train"), _flat(split, "test"), split.targets("test")
    assigned = KMeans(n_clusters, n_init=10, random_state=cfg.seed).fit(x).predict(x_test)
    return [
        {
            "model": f"k-means (k={n_clusters}) on features",
            "ari": adjusted_rand_index(y_test, assigned),
            "nmi": normalized_mutual_info(y_test, assigned),
        }
    ]


def anomaly_baselines(cfg: Any, held_out: int) -> list[dict[str, Any]]:
    """IsolationForest and LocalOutlierFactor fitted on the training part (anomalies included,
    as the stream serves them) and scored on the test part."""
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor

    split = task_split(cfg)
    x, x_test = _flat(split, "train"), _flat(split, "test")
    truth = split.targets("test") == held_out
    forest = IsolationForest(random_state=cfg.seed).fit(x)
    outliers = LocalOutlierFactor(n_neighbors=20, novelty=True).fit(x)
    return [
        {"model": "IsolationForest", "roc_auc": roc_auc(truth, -forest.score_samples(x_test))},
        {"model": "LocalOutlierFactor", "roc_auc": roc_auc(truth, -outliers.score_samples(x_test))},
    ]


def probe_baselines(cfg: Any, label_fraction: float) -> list[dict[str, Any]]:
    """A linear probe on PCA features (up to 32 components, fitted on all training samples)."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression

    split = task_split(cfg)
    x, y = _flat(split, "train"), split.targets("train")
    pool = split.labelled_mask(label_fraction)
    components = min(32, x.shape[1])
    pca = PCA(components, random_state=cfg.seed).fit(x)
    probe = LogisticRegression(max_iter=2000).fit(pca.transform(x[pool]), y[pool])
    predictions = probe.predict(pca.transform(_flat(split, "test")))
    accuracy = float(np.mean(predictions == split.targets("test")))
    return [
        {
            "model": f"PCA({components}) + logistic regression, {label_fraction:g} of labels",
            "labels": int(pool.sum()),
            "test_accuracy": accuracy,
        }
    ]
