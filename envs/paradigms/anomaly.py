"""``learnloop/Anomaly-v0``: flag outliers in a stream; only investigations give feedback."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs.paradigms._core import Cycle, Feed, ParadigmEnv, ParadigmVectorEnv, put_masked

PASS, FLAG = 0, 1


class AnomalyFeed(Feed):
    """Mix normal samples with a held-out class, answer flags only (see AnomalyEnv)."""

    paradigm = "anomaly detection"
    label_keys = ("anomaly",)

    def __init__(
        self,
        held_out: int = 9,
        anomaly_fraction: float | None = None,
        false_alarm_cost: float = 0.2,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        classes = self.split.dataset.n_classes
        if self.split.dataset.kind != "classification":
            raise ValueError(
                f"Anomaly needs a classification dataset, got {self.split.dataset.name!r}"
            )
        if not isinstance(held_out, int) or not 0 <= held_out < classes:
            raise ValueError(f"held_out must be a class in 0..{classes - 1}, got {held_out!r}")
        if anomaly_fraction is not None and not 0.0 < anomaly_fraction < 1.0:
            raise ValueError(f"anomaly_fraction must be in (0, 1), got {anomaly_fraction!r}")
        if false_alarm_cost < 0:
            raise ValueError(f"false_alarm_cost must be >= 0, got {false_alarm_cost!r}")
        self.held_out = held_out
        self.is_anomaly = self.y == held_out
        natural = float(self.is_anomaly.mean())
        self.anomaly_fraction = natural if anomaly_fraction is None else float(anomaly_fraction)
        self.false_alarm_cost = float(false_alarm_cost)
        self._cycles = [
            Cycle(np.flatnonzero(~self.is_anomaly), shuffle=True),
            Cycle(np.flatnonzero(self.is_anomaly), shuffle=True),
        ]

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        for cycle in self._cycles:
            cycle.restart()

    def draw(self, count: int, rng: np.random.Generator) -> np.ndarray:
        if not self.training:
            return super().draw(count, rng)
        # Training: each item is an anomaly with probability anomaly_fraction; each kind comes
        # from its own shuffled passes.
        anomalous = rng.random(count) < self.anomaly_fraction
        out = np.empty(count, dtype=np.int64)
        out[~anomalous] = self._cycles[0].take(int((~anomalous).sum()), rng)
        out[anomalous] = self._cycles[1].take(int(anomalous.sum()), rng)
        return out

    def action_space(self) -> spaces.Discrete:
        return spaces.Discrete(2)

    def respond(
        self, positions: np.ndarray, actions: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        anomalous = self.is_anomaly[positions]
        investigated = (actions == FLAG) & self.gives_feedback[positions]
        outcome = np.where(anomalous, 1.0, -self.false_alarm_cost)
        rewards = np.where(investigated, outcome, 0.0).astype(np.float32)
        info = {"feedback": investigated, "investigated": investigated}
        told = investigated & self.gives_label[positions]
        put_masked(info, "anomaly", anomalous, told, False)
        return rewards, info

    def summary(self, positions: np.ndarray, actions: np.ndarray) -> dict[str, float]:
        anomalous, flagged = self.is_anomaly[positions], actions == FLAG
        hits = float((anomalous & flagged).sum())
        return {
            "flag_rate": float(flagged.mean()),
            "precision": hits / float(flagged.sum()) if flagged.any() else 0.0,
            "recall": hits / float(anomalous.sum()) if anomalous.any() else 0.0,
            "anomaly_share": float(anomalous.mean()),
            "samples": float(len(positions)),
        }


class AnomalyEnv(ParadigmEnv):
    """Flag anomalies in a stream (fraud, outliers); feedback only for what you investigate.

    ``gymnasium.make("learnloop/Anomaly-v0", dataset="digits", held_out=9)``. The normal
    data are all classes but ``held_out``; the held-out class plays the anomalies.

    ## Observation Space

    One sample, as in ``learnloop/Classify-v0``; never its class or whether it is anomalous.

    ## Action Space

    ``Discrete(2)``: 0 pass, 1 flag.

    ## Rewards and info

    A flag is investigated: reward +1 for a true anomaly, ``-false_alarm_cost`` (0.2) for a
    normal sample, and, with ``feedback="label"``, ``info["anomaly"]`` (bool) says which it was.
    A pass gives reward 0 and no feedback at all, so missed anomalies stay unknown.
    ``info["investigated"]`` marks flagged steps. ``feedback="none"``: no reward and no outcome
    ever (pure unsupervised detection). On train each item is an anomaly with probability
    ``anomaly_fraction`` (default: the held-out class's natural share); on val/test the part's
    samples come in order, and the pass ends with ``info["summary"] = {"flag_rate",
    "precision", "recall", "anomaly_share", "samples"}``. ROC-AUC needs the agent's scores,
    so tasks compute it from them.

    ## Episode End, Arguments

    As ``learnloop/Classify-v0``, plus ``held_out`` (9), ``anomaly_fraction`` (None) and
    ``false_alarm_cost`` (0.2).

    ## Version History

    - v0: initial version.
    """

    feed_cls = AnomalyFeed


class AnomalyVectorEnv(ParadigmVectorEnv):
    """``num_envs`` Anomaly-v0 slots stepped together; rules as in :class:`AnomalyEnv`."""

    feed_cls = AnomalyFeed
