"""Baselines for ``learnloop/Fraud-v0``: the Fraud Detection Handbook's reference detectors.

Every baseline meets the stream as an agent would. Its training labels are the ones the
training part delivered (``info["days"]``): by the end of the delay period every label of the
training days has arrived, which is what the handbook's training set holds (chapter 3.5: one
week of training, one week of delay, one week of test). The supervised ones are the handbook's
classifiers on its 15 features (scaled for logistic regression, as the handbook does):
logistic regression, a decision tree of depth 2, an unlimited decision tree, a random forest
and gradient-boosted trees (scikit-learn's histogram boosting stands in for XGBoost, which
this project does not install). The rule ranks amounts above 220 first, then terminals by
their known fraud share. IsolationForest and an autoencoder read the features only, never a
label. Each is then scored on the test part by the env itself (card precision@k, ROC-AUC,
average precision). scikit-learn and torch are imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from envs.paradigms.fraud import DAY_INDEX, FEATURES, FraudVectorEnv

Scorer = Callable[[np.ndarray], np.ndarray]  # observations (B, 19) -> fraud scores (B,)
AMOUNT, RISK_7, RISK_30 = 0, FEATURES.index("TERMINAL_ID_RISK_7DAY_WINDOW"), 14
SUPERVISED = (
    "logistic_regression", "decision_tree_depth_2", "decision_tree", "random_forest",
    "gradient_boosting",
)  # fmt: skip
BASELINES = ("rule", *SUPERVISED, "isolation_forest", "autoencoder")


def stream_pass(env: FraudVectorEnv, scorer: Scorer) -> tuple[dict[str, float], list[dict]]:
    """One pass over ``env``'s part, scoring with ``scorer``; its summary and day reports."""
    obs, _ = env.reset(seed=0)
    days: list[dict] = []
    while True:
        obs, _, terminated, _, info = env.step(scorer(obs))
        days.extend(info.get("days", []))
        if terminated[0]:
            return info["summary"], days


def training_labels(days: list[dict], end_day: int) -> tuple[np.ndarray, np.ndarray]:
    """Observations and labels revealed in ``days`` for transactions before ``end_day``."""
    obs = np.concatenate([d["revealed_obs"] for d in days])
    fraud = np.concatenate([d["revealed_fraud"] for d in days])
    keep = obs[:, DAY_INDEX] < end_day
    return obs[keep], fraud[keep]


def rule_scores(obs: np.ndarray) -> np.ndarray:
    """The handbook's scenario knowledge as a rule: amounts above 220 first, then the
    terminal's known 7-day fraud share, then its 30-day share."""
    big = obs[:, AMOUNT] > 220
    return (0.5 * big + 0.3 * obs[:, RISK_7] + 0.2 * obs[:, RISK_30]).astype(np.float32)


def fit_baseline(name: str, x: np.ndarray, y: np.ndarray, seed: int) -> Scorer:
    """A scorer of observations, fitted on the training part's features ``x`` (N, 19) and
    labels ``y`` (only the supervised baselines read ``y``)."""
    if name == "rule":
        return rule_scores
    features = x[:, : len(FEATURES)]
    if name == "autoencoder":
        return _autoencoder(features, seed)
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        IsolationForest,
        RandomForestClassifier,
    )
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    models: dict[str, Any] = {
        "logistic_regression": make_pipeline(
            StandardScaler(), LogisticRegression(random_state=seed, max_iter=1000)
        ),
        "decision_tree_depth_2": DecisionTreeClassifier(max_depth=2, random_state=seed),
        "decision_tree": DecisionTreeClassifier(random_state=seed),
        "random_forest": RandomForestClassifier(random_state=seed, n_jobs=1),
        "gradient_boosting": HistGradientBoostingClassifier(random_state=seed),
    }
    if name == "isolation_forest":
        forest = IsolationForest(random_state=seed).fit(features)
        return lambda obs: -forest.score_samples(obs[:, : len(FEATURES)])
    if name not in models:
        raise ValueError(f"unknown fraud baseline {name!r}; known: {', '.join(BASELINES)}")
    model = models[name].fit(features, y)
    return lambda obs: model.predict_proba(obs[:, : len(FEATURES)])[:, 1]


def _autoencoder(features: np.ndarray, seed: int, epochs: int = 20) -> Scorer:
    """A 15-8-15 MLP autoencoder of the standardised features; the score is its error."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    mean, std = features.mean(0), features.std(0) + 1e-6
    x = torch.as_tensor((features - mean) / std, dtype=torch.float32)
    model = nn.Sequential(nn.Linear(x.shape[1], 8), nn.ReLU(), nn.Linear(8, x.shape[1]))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(256):
            loss = ((model(x[batch]) - x[batch]) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()

    def score(obs: np.ndarray) -> np.ndarray:
        z = torch.as_tensor((obs[:, : len(FEATURES)] - mean) / std, dtype=torch.float32)
        with torch.no_grad():
            return ((model(z) - z) ** 2).mean(1).numpy()

    return score


# The handbook's published test figures on its simulated data (chapter 3.5, "Baseline fraud
# detection system": trained on 2018-07-25..31, tested on 2018-08-08..14): (ROC-AUC, average
# precision, card precision@100). Its boosting model is XGBoost; ours is scikit-learn's.
HANDBOOK = {
    "logistic_regression": (0.871, 0.606, 0.291),
    "decision_tree_depth_2": (0.763, 0.496, 0.241),
    "decision_tree": (0.788, 0.309, 0.243),
    "random_forest": (0.867, 0.658, 0.287),
    "gradient_boosting": (0.862, 0.639, 0.273),
}
