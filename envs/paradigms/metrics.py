"""Scores the paradigm envs report, in numpy (the envs import no learning library).

They agree with scikit-learn's ``adjusted_rand_score``, ``normalized_mutual_info_score``
(arithmetic normalisation), ``roc_auc_score`` and ``r2_score`` (tests check this).
"""

from __future__ import annotations

import numpy as np


def contingency(labels_true: np.ndarray, labels_pred: np.ndarray) -> np.ndarray:
    """Counts of each (true class, predicted cluster) pair."""
    _, true_ids = np.unique(labels_true, return_inverse=True)
    _, pred_ids = np.unique(labels_pred, return_inverse=True)
    table = np.zeros((true_ids.max() + 1, pred_ids.max() + 1), dtype=np.int64)
    np.add.at(table, (true_ids, pred_ids), 1)
    return table


def adjusted_rand_index(labels_true: np.ndarray, labels_pred: np.ndarray) -> float:
    """Adjusted Rand index: 1 for identical partitions, about 0 for random ones."""
    table = contingency(np.asarray(labels_true), np.asarray(labels_pred))
    n = table.sum()

    def pairs(counts: np.ndarray) -> float:
        return float((counts * (counts - 1) // 2).sum())

    index = pairs(table)
    rows, cols = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    total = n * (n - 1) / 2
    expected = rows * cols / total if total else 0.0
    maximum = (rows + cols) / 2
    if maximum == expected:  # both partitions trivial (one cluster, or all singletons)
        return 1.0
    return float((index - expected) / (maximum - expected))


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def normalized_mutual_info(labels_true: np.ndarray, labels_pred: np.ndarray) -> float:
    """Mutual information over the mean of the two entropies (0 independent, 1 identical)."""
    table = contingency(np.asarray(labels_true), np.asarray(labels_pred)).astype(np.float64)
    n = table.sum()
    h_true, h_pred = _entropy(table.sum(axis=1)), _entropy(table.sum(axis=0))
    if h_true == 0 and h_pred == 0:
        return 1.0
    nonzero = table > 0
    outer = np.outer(table.sum(axis=1), table.sum(axis=0))
    mutual = float((table[nonzero] / n * np.log(table[nonzero] * n / outer[nonzero])).sum())
    denominator = (h_true + h_pred) / 2
    return max(0.0, mutual / denominator) if denominator > 0 else 0.0


def roc_auc(is_positive: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative."""
    is_positive = np.asarray(is_positive, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    positives, negatives = int(is_positive.sum()), int((~is_positive).sum())
    if positives == 0 or negatives == 0:
        raise ValueError("roc_auc needs at least one positive and one negative sample")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    # Tied scores share their average rank.
    _, starts, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = starts + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return float(
        (ranks[is_positive].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    )


def r2_score(targets: np.ndarray, predictions: np.ndarray) -> float:
    """Coefficient of determination: 1 - residual sum of squares / total sum of squares."""
    targets = np.asarray(targets, dtype=np.float64)
    residual = float(((targets - np.asarray(predictions, dtype=np.float64)) ** 2).sum())
    total = float(((targets - targets.mean()) ** 2).sum())
    return 1.0 - residual / total if total > 0 else 0.0
