"""Anomaly detection: reconstruction error, recalibrated by what investigations revealed."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.learners.base import Learner, masked
from agents.learners.nets import Decoder, Encoder
from agents.learners.supervised import ReplayBuffer

FLAG = 1


class AnomalyLearner(Learner):
    """Flags what an autoencoder of the stream reconstructs badly, and learns from the outcomes.

    The autoencoder learns to reproduce the stream's observations (anomalies are rare, so it
    learns the normal data); items an investigation confirmed anomalous are left out of it.
    The score is a logit ``a * z + b + g(features)``, where ``z`` is the reconstruction error
    standardised over recent items and ``g`` a small head on the (frozen) encoder features; it
    is fitted by logistic regression to the investigation outcomes (``info["anomaly"]``) kept in
    memory. The learner flags when the score's probability exceeds ``c / (1 + c)``, the point
    where investigating pays off for a false-alarm cost ``c`` that it reads off the rewards of
    false alarms; during training it also flags a random ``explore`` share of items, so the
    outcomes cover low scores too.

    Hyperparameters: ``arch``, ``width`` (64), ``learning_rate`` (1e-3), ``explore`` (0.05),
    ``memory`` (investigated items kept, 4096), ``head_lr`` (1e-2).
    """

    paradigm = "anomaly detection"
    uses = "investigations"
    DEFAULTS: dict[str, Any] = {
        "arch": "auto", "width": 64, "learning_rate": 1e-3, "explore": 0.05, "memory": 4096,
        "head_lr": 1e-2,
    }  # fmt: skip

    def build(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        h = self.hyper
        shape = tuple(observation_space.shape)
        self.encoder = Encoder(shape, h["arch"], h["width"]).to(self.device)
        bounded = bool(
            np.all(observation_space.low == 0.0) and np.all(observation_space.high == 1.0)
        )
        self.decoder = Decoder(self.encoder.features, shape, bounded).to(self.device)
        self.head = nn.Linear(self.encoder.features + 1, 1).to(self.device)
        with torch.no_grad():  # start as "probability rises with the standardised error"
            self.head.weight.zero_()
            self.head.weight[0, -1] = 1.0
            self.head.bias.fill_(-3.0)
        params = [*self.encoder.parameters(), *self.decoder.parameters()]
        self.opt = torch.optim.Adam(params, lr=h["learning_rate"])
        self.head_opt = torch.optim.Adam(self.head.parameters(), lr=h["head_lr"])
        self.outcomes = ReplayBuffer(h["memory"])
        self.error_mean, self.error_var = torch.zeros(()), torch.ones(())
        self.cost_sum, self.cost_count = 0.0, 0
        self.investigated = 0  # outcomes received: the labels this learner was given

    def modules(self) -> dict[str, nn.Module]:
        return {"encoder": self.encoder, "decoder": self.decoder, "head": self.head}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.opt, "head": self.head_opt}

    def extra_state(self) -> dict[str, Any]:
        return {
            "outcomes": self.outcomes.state(),
            "error_stats": (self.error_mean.clone(), self.error_var.clone()),
            "cost": (self.cost_sum, self.cost_count),
            "investigated": self.investigated,
        }

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.outcomes.load(state["outcomes"])
        self.error_mean, self.error_var = state["error_stats"]
        self.cost_sum, self.cost_count = state["cost"]
        self.investigated = state["investigated"]

    def errors(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-item reconstruction error and encoder features."""
        features = self.encoder(x)
        error = ((self.decoder(features) - x) ** 2).flatten(1).mean(dim=1)
        return error, features

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The anomaly score (a logit of the probability that an item is anomalous)."""
        with torch.no_grad():
            error, features = self.errors(x)
            z = (error - self.error_mean) / self.error_var.sqrt().clamp(min=1e-8)
        return self.head(torch.cat([features, z[:, None]], dim=1)).squeeze(1)

    def anomaly_scores(self, obs: Any) -> np.ndarray:
        """The logits of :meth:`logits` (higher: more anomalous), for ROC curves."""
        with torch.no_grad():
            return self.logits(self.tensor(obs)).cpu().numpy()

    def labels_received(self) -> int:
        """Investigation outcomes received in training: labels, in effect."""
        return self.investigated

    def threshold(self) -> float:
        """Flag when P(anomaly) exceeds this: c / (1 + c) for the observed false-alarm cost."""
        cost = self.cost_sum / self.cost_count if self.cost_count else 0.2
        return cost / (1.0 + cost)

    def act_batch(
        self, obs: Any, action_masks: np.ndarray | None = None, deterministic: bool = True
    ) -> np.ndarray:
        probs = torch.sigmoid(torch.as_tensor(self.anomaly_scores(obs)))
        flags = (probs > self.threshold()).long()
        if not deterministic:
            explore = torch.rand(len(flags), generator=self.generator) < self.hyper["explore"]
            flags = torch.where(explore, torch.ones_like(flags), flags)
        return flags.numpy()

    def observe(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, info: dict[str, Any]
    ) -> dict[str, float]:
        x = self.tensor(obs)
        told = masked(info, "anomaly", len(obs))
        anomalous = np.zeros(len(obs), dtype=bool)
        if told.any():
            anomalous[told] = np.asarray(info["anomaly"], dtype=bool)[told]
            self.investigated += int(told.sum())
        false_alarm = told & ~anomalous
        if false_alarm.any():
            self.cost_sum += float(-np.asarray(rewards)[false_alarm].sum())
            self.cost_count += int(false_alarm.sum())
        metrics = {}
        if (~anomalous).sum() > 1:
            metrics["losses/reconstruction"] = self._fit_autoencoder(x[torch.as_tensor(~anomalous)])
        if told.any():
            self.outcomes.add(
                obs=x[torch.as_tensor(told)].cpu(), anomaly=torch.as_tensor(anomalous[told]).float()
            )
        if self.outcomes.size:
            metrics["losses/outcome"] = self._fit_head()
        self.updates += 1
        return metrics

    def _fit_autoencoder(self, x: torch.Tensor) -> float:
        error, _ = self.errors(x)
        loss = error.mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        with torch.no_grad():  # running statistics of the error on normal-looking items
            self.error_mean.lerp_(error.mean(), 0.05)
            self.error_var.lerp_(error.var(), 0.05)
        return loss.item()

    def _fit_head(self) -> float:
        batch = self.outcomes.sample(128, self.generator)
        logits = self.logits(batch["obs"].to(self.device))
        loss = nn.functional.binary_cross_entropy_with_logits(
            logits, batch["anomaly"].to(self.device)
        )
        self.head_opt.zero_grad()
        loss.backward()
        self.head_opt.step()
        return loss.item()
