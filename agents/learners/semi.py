"""Semi-supervised learning: a few labels plus the unlabelled stream (confident pseudo-labels)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.learners.nets import AveragedCopy, strong_view, weak_augment
from agents.learners.supervised import SupervisedLearner


class SemiSupervisedLearner(SupervisedLearner):
    """Labels where ``info`` has them, and every observation of the stream (FixMatch-style).

    Each env step makes one update: cross-entropy on a minibatch of remembered labelled items
    (lightly augmented), plus, on the step's observations, cross-entropy of a heavily
    augmented view against the pseudo-label the network gives a lightly augmented view, for the
    observations where that prediction is at least ``threshold`` confident. The network learns
    that a sample and its perturbations share a class, which spreads the few labels along the
    data. An averaged copy of the weights acts.

    Hyperparameters: those of :class:`SupervisedLearner` (``learning_rate`` 3e-3 here), plus
    ``threshold`` (0.9), ``unlabelled_coef`` (1.0) and ``average`` (0.99).
    """

    paradigm = "semi-supervised"
    uses = "label"
    DEFAULTS: dict[str, Any] = {
        "learning_rate": 3e-3,
        "threshold": 0.9,
        "unlabelled_coef": 1.0,
        "average": 0.99,
    }

    def build(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        super().build(observation_space, action_space)
        if not self.classify:
            raise ValueError("SemiSupervisedLearner needs a Discrete action space (classes)")
        self.network = nn.Sequential(self.encoder, self.head)
        self.average = AveragedCopy(self.network, self.hyper["average"])

    def modules(self) -> dict[str, nn.Module]:
        return {**super().modules(), "average": self.average.module}

    def act_batch(
        self, obs: Any, action_masks: np.ndarray | None = None, deterministic: bool = True
    ) -> np.ndarray:
        network = self.average.module if deterministic else self.network
        with torch.no_grad():
            return network(self.tensor(obs)).argmax(dim=1).cpu().numpy()

    def observe(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, info: dict[str, Any]
    ) -> dict[str, float]:
        self.current = self.tensor(obs)
        metrics = super().observe(obs, actions, rewards, info)
        self.average.update(self.network)
        return metrics

    def update(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        labelled = weak_augment(batch["obs"].to(self.device), self.image)
        unlabelled = self.current
        weak = weak_augment(unlabelled, self.image)
        strong = strong_view(unlabelled, self.image)
        logits = self.network(torch.cat([labelled, weak, strong]))
        count, stream = len(labelled), len(unlabelled)
        supervised = nn.functional.cross_entropy(logits[:count], batch["target"].to(self.device))
        confidence, pseudo = torch.softmax(logits[count : count + stream].detach(), 1).max(1)
        confident = (confidence >= self.hyper["threshold"]).float()
        consistency = nn.functional.cross_entropy(
            logits[count + stream :], pseudo, reduction="none"
        )
        consistency = (consistency * confident).mean()
        loss = supervised + self.hyper["unlabelled_coef"] * consistency
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.updates += 1
        return {
            "losses/cross_entropy": supervised.item(),
            "losses/consistency": consistency.item(),
            "charts/confident_fraction": confident.mean().item(),
        }
