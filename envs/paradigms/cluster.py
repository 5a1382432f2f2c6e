"""``learnloop/Cluster-v0``: unsupervised clustering scored by an objective, never by labels."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs.paradigms._core import Feed, ParadigmEnv, ParadigmVectorEnv, check_choice
from envs.paradigms.metrics import adjusted_rand_index, normalized_mutual_info


class ClusterFeed(Feed):
    """Serve samples, take cluster ids, score them with running centroids (see ClusterEnv)."""

    paradigm = "unsupervised"

    def __init__(
        self,
        n_clusters: int | None = None,
        balance: float = 1.0,
        window: int = 1000,
        feedback: str = "reward",
        **kwargs: Any,
    ) -> None:
        check_choice("feedback", feedback, ("reward", "none"))
        super().__init__(feedback=feedback, **kwargs)
        n_clusters = n_clusters or max(2, self.split.dataset.n_classes)
        if not isinstance(n_clusters, int) or n_clusters < 2:
            raise ValueError(f"n_clusters must be an integer >= 2, got {n_clusters!r}")
        if balance < 0 or window < 1:
            raise ValueError(f"need balance >= 0 and window >= 1, got {balance!r}, {window!r}")
        self.n_clusters, self.balance, self.window = n_clusters, float(balance), int(window)
        self.flat = self.x.reshape(len(self.x), -1).astype(np.float64)
        # Squared distances are divided by the data's spread, so a reward near -1 means "as far
        # as from the overall mean" whatever the dataset's scale.
        self.spread = float(((self.flat - self.flat.mean(axis=0)) ** 2).sum(axis=1).mean()) or 1.0
        self.centroids = np.zeros((n_clusters, self.flat.shape[1]))
        self.counts = np.ones(n_clusters)
        self.share = np.full(n_clusters, 1.0 / n_clusters)

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self.centroids = self.flat[rng.choice(len(self.flat), self.n_clusters, replace=False)]
        self.counts = np.ones(self.n_clusters)
        self.share = np.full(self.n_clusters, 1.0 / self.n_clusters)

    def action_space(self) -> spaces.Discrete:
        return spaces.Discrete(self.n_clusters)

    def respond(
        self, positions: np.ndarray, actions: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        points = self.flat[positions]
        distance = ((points - self.centroids[actions]) ** 2).sum(axis=1) / self.spread
        crowding = self.n_clusters * self.share[actions] - 1.0  # 0 when clusters are even
        objective = -distance - self.balance * crowding
        self._update(points, actions)
        feedback = self.gives_feedback[positions]
        rewards = np.where(feedback, objective, 0.0).astype(np.float32)
        return rewards, {"feedback": feedback}

    def _update(self, points: np.ndarray, actions: np.ndarray) -> None:
        """Move each chosen centroid towards its new points (a running mean over ``window``)."""
        batch_counts = np.bincount(actions, minlength=self.n_clusters).astype(np.float64)
        sums = np.zeros_like(self.centroids)
        np.add.at(sums, actions, points)
        chosen = batch_counts > 0
        self.counts += batch_counts
        rate = batch_counts[chosen] / np.minimum(self.counts[chosen], self.window)
        means = sums[chosen] / batch_counts[chosen, None]
        self.centroids[chosen] += rate[:, None] * (means - self.centroids[chosen])
        step = min(1.0, len(actions) / self.window)
        self.share = (1 - step) * self.share + step * batch_counts / len(actions)

    def summary(self, positions: np.ndarray, actions: np.ndarray) -> dict[str, float]:
        labels = self.y[positions]
        return {
            "ari": float(adjusted_rand_index(labels, actions)),
            "nmi": float(normalized_mutual_info(labels, actions)),
            "inertia": self.inertia(positions, actions),
            "clusters_used": float(len(np.unique(actions))),
            "samples": float(len(positions)),
        }

    def inertia(self, positions: np.ndarray, actions: np.ndarray) -> float:
        """Mean squared distance of each point to the mean of its assigned cluster, divided by
        ``spread`` (k-means' criterion; 1 when everything is one cluster): needs no labels."""
        points = self.flat[positions]
        actions = np.asarray(actions, dtype=np.int64).reshape(-1)
        counts = np.bincount(actions, minlength=self.n_clusters).astype(np.float64)
        sums = np.zeros((self.n_clusters, points.shape[1]))
        np.add.at(sums, actions, points)
        means = sums / np.maximum(counts, 1.0)[:, None]
        return float(((points - means[actions]) ** 2).sum(axis=1).mean() / self.spread)


class ClusterEnv(ParadigmEnv):
    """Assign samples to clusters: unsupervised, the env scores a clustering objective.

    ``gymnasium.make("learnloop/Cluster-v0", dataset="digits", n_clusters=10)``.

    ## Observation Space

    One sample, as in ``learnloop/Classify-v0``; never a label.

    ## Action Space

    ``Discrete(n_clusters)`` (default: the dataset's number of classes).

    ## Rewards and info

    The env keeps ``n_clusters`` running centroids (started at random samples on a seeded
    reset, then a running mean over the last ``window`` points each cluster received) and the
    recent share of assignments per cluster. Assigning x to cluster k gives
    ``-|x - c_k|^2 / spread - balance * (n_clusters * share_k - 1)``, where ``spread`` is the
    mean squared distance of the data to its mean: closeness to the chosen centroid, minus a
    penalty for crowding one cluster (0 when all are used evenly). Then c_k moves towards x.
    Labels are never used in the reward and never in ``info`` during training;
    ``feedback="none"`` makes every reward 0. ``info["feedback"]`` as in Classify-v0. On
    val/test the pass ends with ``info["summary"] = {"ari", "nmi", "inertia",
    "clusters_used", "samples"}``: ARI and NMI against the hidden classes, for evaluation only;
    ``inertia`` (k-means' criterion over the pass, divided by ``spread``) needs no labels, so
    a learner may select its model on it.

    ## Episode End, Arguments

    As ``learnloop/Classify-v0`` (``feedback`` "reward" or "none"), plus ``n_clusters``,
    ``balance`` (1.0) and ``window`` (1000). The centroids persist across episodes; a seeded
    reset restarts them.

    ## Version History

    - v0: initial version.
    """

    feed_cls = ClusterFeed


class ClusterVectorEnv(ParadigmVectorEnv):
    """``num_envs`` Cluster-v0 slots sharing one objective; rules as in :class:`ClusterEnv`."""

    feed_cls = ClusterFeed
