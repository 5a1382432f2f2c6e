"""The paradigm tasks without class labels in training: self-supervised, clustering, anomalies."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.base import Agent
from envs.paradigms.anomaly import FLAG
from tasks.config import TrainConfig, describe, section
from tasks.paradigms.labelled import (
    DataEnvConfig,
    LearnerConfig,
    ParadigmConfig,
    ParadigmTask,
    served_labels,
    train_budget,
)

if TYPE_CHECKING:
    from agents.learners.base import Learner

# -- self-supervised ------------------------------------------------------------------------------


@dataclass
class ReconstructEnvConfig(DataEnvConfig):
    """The reconstruction env."""

    corruption: str = describe(
        "How observations are corrupted.", "noise", choices=("noise", "mask")
    )
    noise_std: float = describe("Gaussian noise (corruption=noise), in scaled units.", 0.3, min=0.0)
    mask_fraction: float = describe(
        "Share of pixels hidden (corruption=mask).", 0.3, min=0.0, max=1.0
    )


@dataclass
class ProbeConfig:
    """The linear probe that measures the encoder: a linear classifier on frozen features."""

    label_fraction: float = describe(
        "Share of training labels the probe may use.", 0.1, min=0.0, max=1.0
    )
    l2_strengths: list[float] = describe(
        "L2 strengths (1 / C) to try; the validation part picks one (the first, on ties).",
        factory=lambda: [100.0, 10.0, 1.0],
    )
    pool: int = describe(
        "Max-pool a CNN's feature maps over pool x pool windows at stride 2 before the probe "
        "reads them, so a feature tolerates a one-pixel shift (0: read every position).",
        3,
        min=0,
    )


@dataclass
class DigitsSelfSupConfig(ParadigmConfig):
    """Config of digits_selfsup."""

    env: ReconstructEnvConfig = section(ReconstructEnvConfig, "The env.")
    learner: LearnerConfig = section(
        lambda: LearnerConfig(name="autoencoder"), "learnloop's learner."
    )
    probe: ProbeConfig = section(ProbeConfig, "Linear probe on the learned features.")


class DigitsSelfSupTask(ParadigmTask):
    """Self-supervised: reconstruct corrupted digits, then probe the features with few labels."""

    name = "digits_selfsup"
    env_id = "learnloop/Reconstruct-v0"
    config_cls = DigitsSelfSupConfig
    monitor = "mse"  # reconstruction error: no labels
    monitor_mode = "min"
    monitor_needs_labels = False
    headline = "eval_periodic/val_mse"

    def continuous_actions(self, cfg: Any) -> str | None:
        return "Reconstruct-v0 acts with a whole image"

    def labels_used(self, cfg: Any) -> int:
        """The probe's labels: its training share, and the same share of the val part when
        it picks among several L2 strengths there."""
        fraction = cfg.probe.label_fraction
        used = served_labels(cfg.env, "train", fraction)
        if len(cfg.probe.l2_strengths) > 1:
            used += served_labels(cfg.env, "val", fraction)
        return used

    def test_metrics(self, cfg: Any, agent: Any, summary: dict[str, float]) -> dict[str, float]:
        metrics = {"mse": summary["mse"]}
        learner = as_learner(agent)
        if learner is not None and learner.clean_encoder() is not None:
            metrics["test_accuracy"] = self.probe(cfg, learner)
            # The same probe on the same network untrained: what the training added.
            metrics["untrained_encoder_test_accuracy"] = self.probe(cfg, learner.untrained())
        return metrics

    def probe(self, cfg: Any, autoencoder: Any) -> float:
        """Test accuracy of a linear probe on the frozen encoder's feature maps.

        The probe meets the data as any agent would: it reads the labels that a Classify-v0
        pass at ``probe.label_fraction`` hands out, fits a standardised L2 logistic regression
        on the encoder's features of those samples (the convolutions' maps, max-pooled over
        ``probe.pool`` windows; the L2 strength chosen on the validation part), and is scored
        by a pass over the test part.
        """
        from tasks.paradigms.labelled import DigitsSupervisedTask

        probe_cfg = DigitsSupervisedTask.config_cls()
        probe_cfg.seed, probe_cfg.eval = cfg.seed, cfg.eval
        base = {f.name: getattr(cfg.env, f.name) for f in dataclasses.fields(DataEnvConfig)}
        probe_cfg.env = DataEnvConfig(
            **{**base, "feedback": "label", "label_fraction": cfg.probe.label_fraction}
        )
        task = DigitsSupervisedTask()
        env = task.make_vector_env(probe_cfg, "train", 256)
        unlabelled, features, labels = labelled_features(env, autoencoder, cfg.probe.pool)
        best: tuple[float, Any] = (-1.0, None)
        for strength in cfg.probe.l2_strengths:
            agent = ProbeAgent(autoencoder, unlabelled, features, labels, strength, cfg.probe.pool)
            accuracy = task.score(probe_cfg, agent, "val")["accuracy"]
            if accuracy > best[0]:
                best = (accuracy, agent)
        return task.score(probe_cfg, best[1], "test")["accuracy"]

    def baselines(self, cfg: Any) -> list[dict[str, Any]]:
        from tasks.paradigms.baselines import probe_baselines

        return probe_baselines(cfg, cfg.probe.label_fraction)


def as_learner(agent: Agent) -> Learner | None:
    """The agent as one of learnloop's learners, which answer an evaluation's questions
    (:class:`agents.learners.base.Learner`: encoder, anomaly scores, labels received), or None
    for an RL backend's agent."""
    from agents.learners.base import Learner

    return agent if isinstance(agent, Learner) else None


def encode(autoencoder: Any, obs: np.ndarray, pool: int = 0) -> np.ndarray:
    """The autoencoder's trunk features of clean observations (max-pooled when ``pool`` > 0)."""
    import torch

    encoder = autoencoder.clean_encoder(trunk=True, pool=pool)
    with torch.no_grad():
        return encoder(autoencoder.tensor(obs)).cpu().numpy()


def labelled_features(
    env: Any, autoencoder: Any, pool: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From one pass of ``env``: features of every distinct sample, then features and labels of
    those whose label it gave."""
    obs, _ = env.reset(seed=0)
    seen: dict[bytes, np.ndarray] = {}
    labelled: dict[bytes, tuple[np.ndarray, int]] = {}
    for _ in range(-(-env.feed.size // env.num_envs)):
        next_obs, _, _, _, info = env.step(np.zeros(env.num_envs, dtype=np.int64))
        for sample in obs:
            seen[sample.tobytes()] = sample
        for i in np.flatnonzero(info.get("_label", np.zeros(env.num_envs, bool))):
            labelled[obs[i].tobytes()] = (obs[i], int(info["label"][i]))
        obs = next_obs
    everything = encode(autoencoder, np.stack(list(seen.values())), pool)
    samples = np.stack([o for o, _ in labelled.values()])
    labels = np.array([y for _, y in labelled.values()])
    return everything, encode(autoencoder, samples, pool), labels


class ProbeAgent:
    """A standardised, L2-regularised logistic regression on frozen autoencoder features
    (standardised with every training sample's features, which needs no label)."""

    def __init__(
        self, autoencoder: Any, unlabelled: np.ndarray, features: np.ndarray, labels: np.ndarray,
        strength: float, pool: int = 0,
    ) -> None:  # fmt: skip
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        self.autoencoder, self.pool = autoencoder, pool
        self.scaler = StandardScaler().fit(unlabelled)
        self.model = LogisticRegression(C=1.0 / strength, max_iter=3000)
        self.model.fit(self.scaler.transform(features), labels)

    def act_batch(
        self, obs: np.ndarray, masks: Any = None, deterministic: bool = True
    ) -> np.ndarray:
        return self.model.predict(self.scaler.transform(encode(self.autoencoder, obs, self.pool)))


# -- clustering -----------------------------------------------------------------------------------


@dataclass
class ClusterEnvConfig(DataEnvConfig):
    """The clustering env."""

    feedback: str = describe(
        "The objective as reward, or nothing.", "reward", choices=("reward", "none")
    )
    n_clusters: int = describe("Clusters (0: the number of classes).", 0, min=0)
    balance: float = describe("Weight of the env's penalty for crowding one cluster.", 1.0, min=0.0)


@dataclass
class DigitsClusterConfig(ParadigmConfig):
    """Config of digits_cluster."""

    env: ClusterEnvConfig = section(ClusterEnvConfig, "The env.")
    learner: LearnerConfig = section(lambda: LearnerConfig(name="cluster"), "learnloop's learner.")
    train: TrainConfig = section(lambda: train_budget(60_000), "Training budget and checkpoints.")


class DigitsClusterTask(ParadigmTask):
    """Unsupervised: cluster digits; ARI and NMI against the hidden classes on the test part."""

    name = "digits_cluster"
    env_id = "learnloop/Cluster-v0"
    config_cls = DigitsClusterConfig
    monitor = "inertia"  # k-means' criterion on the val part: no labels
    monitor_mode = "min"
    monitor_needs_labels = False
    headline = "eval_periodic/val_nmi"

    def env_kwargs(self, cfg: Any, part: str) -> dict[str, Any]:
        kwargs = super().env_kwargs(cfg, part)
        kwargs["n_clusters"] = kwargs["n_clusters"] or None
        return kwargs

    def labels_used(self, cfg: Any) -> int:
        return 0

    def test_metrics(self, cfg: Any, agent: Any, summary: dict[str, float]) -> dict[str, float]:
        return {
            "ari": summary["ari"],
            "nmi": summary["nmi"],
            "clusters_used": summary["clusters_used"],
        }

    def baselines(self, cfg: Any) -> list[dict[str, Any]]:
        from tasks.paradigms.baselines import cluster_baselines

        env = self.make_vector_env(cfg, "test", 1)
        return cluster_baselines(cfg, int(env.single_action_space.n))


# -- anomaly detection ----------------------------------------------------------------------------


@dataclass
class AnomalyEnvConfig(DataEnvConfig):
    """The anomaly env."""

    held_out: int = describe("The class that plays the anomalies.", 9, min=0)
    anomaly_fraction: float = describe(
        "Anomaly share of the training stream (0: the class's natural share).",
        0.0,
        min=0.0,
        max=0.99,
    )
    false_alarm_cost: float = describe("Reward lost when a flagged item is normal.", 0.2, min=0.0)


@dataclass
class DigitsAnomalyConfig(ParadigmConfig):
    """Config of digits_anomaly."""

    env: AnomalyEnvConfig = section(AnomalyEnvConfig, "The env.")
    learner: LearnerConfig = section(
        lambda: LearnerConfig(name="anomaly", width=64), "learnloop's learner."
    )


class DigitsAnomalyTask(ParadigmTask):
    """Anomaly detection: flag the held-out class in a stream; investigations give feedback."""

    name = "digits_anomaly"
    env_id = "learnloop/Anomaly-v0"
    config_cls = DigitsAnomalyConfig
    monitor = "roc_auc"
    headline = "eval_periodic/val_roc_auc"

    def selects(self, cfg: Any) -> bool:
        """Never on the val part's anomaly labels: a detector keeps its whole budget's weights
        (what it learns from investigations is counted as ``investigations``)."""
        return False

    def env_kwargs(self, cfg: Any, part: str) -> dict[str, Any]:
        kwargs = super().env_kwargs(cfg, part)
        kwargs["anomaly_fraction"] = kwargs["anomaly_fraction"] or None
        return kwargs

    def labels_used(self, cfg: Any) -> int:
        return 0  # investigation outcomes are counted by the learner, not given up front

    def score(self, cfg: Any, agent: Any, part: str) -> dict[str, float]:
        summary = super().score(cfg, agent, part)
        feed = self.make_vector_env(cfg, part, 1).feed
        obs = feed.observe(np.arange(feed.size), np.random.default_rng(0))
        from envs.paradigms.metrics import roc_auc

        summary["roc_auc"] = roc_auc(feed.is_anomaly, agent_scores(agent, obs))
        return summary

    def test_metrics(self, cfg: Any, agent: Any, summary: dict[str, float]) -> dict[str, float]:
        keys = ("roc_auc", "precision", "recall", "flag_rate")
        metrics = {key: summary[key] for key in keys}
        learner = as_learner(agent)
        received = learner.labels_received() if learner is not None else None
        if received is not None:  # outcomes received in training: labels, in effect
            metrics["investigations"] = float(received)
        return metrics

    def baselines(self, cfg: Any) -> list[dict[str, Any]]:
        from tasks.paradigms.baselines import anomaly_baselines

        return anomaly_baselines(cfg, cfg.env.held_out)


def agent_scores(agent: Agent, obs: np.ndarray) -> np.ndarray:
    """Anomaly scores for ROC curves: a learner's own (``Learner.anomaly_scores``), else the
    agent's probability of flagging; the flags themselves for an agent without one."""
    learner = as_learner(agent)
    if learner is not None:
        return np.asarray(learner.anomaly_scores(obs))
    try:
        return np.asarray(agent.action_probabilities(obs)[:, FLAG])
    except (NotImplementedError, ValueError):  # no categorical policy (a Q-network under RLlib)
        return np.asarray(agent.act_batch(obs, None, True), dtype=np.float64)
