"""The envs' numpy scores agree with scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest

from envs.paradigms.metrics import adjusted_rand_index, normalized_mutual_info, r2_score, roc_auc
from tests.optional import require


def test_scores_match_scikit_learn():
    metrics = require("sklearn.metrics")
    rng = np.random.default_rng(0)
    truth, guess = rng.integers(0, 5, 300), rng.integers(0, 7, 300)
    guess[:200] = truth[:200]  # partly right, so the scores are not near 0
    assert adjusted_rand_index(truth, guess) == pytest.approx(
        metrics.adjusted_rand_score(truth, guess)
    )
    assert normalized_mutual_info(truth, guess) == pytest.approx(
        metrics.normalized_mutual_info_score(truth, guess)
    )
    positive, scores = rng.random(300) < 0.2, np.round(rng.random(300), 1)  # with ties
    assert roc_auc(positive, scores) == pytest.approx(metrics.roc_auc_score(positive, scores))
    target, prediction = rng.normal(size=50), rng.normal(size=50)
    assert r2_score(target, prediction) == pytest.approx(metrics.r2_score(target, prediction))


def test_cluster_scores_ignore_cluster_names():
    truth = np.array([0, 0, 1, 1, 2, 2])
    assert adjusted_rand_index(truth, (truth + 1) % 3) == pytest.approx(1.0)
    assert normalized_mutual_info(truth, (truth + 1) % 3) == pytest.approx(1.0)


def test_roc_auc_needs_both_kinds():
    with pytest.raises(ValueError, match="positive and one negative"):
        roc_auc(np.ones(3, bool), np.arange(3))
