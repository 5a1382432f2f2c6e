"""Unsupervised learning: features trained so that neighbours agree, assigned to prototypes."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.learners.base import Learner
from agents.learners.nets import AveragedCopy, Encoder, is_image, weak_augment
from agents.learners.supervised import ReplayBuffer


class PrototypeHead(nn.Module):
    """Cluster scores: cosine similarity of normalised features to K learned prototypes.

    Assigning each sample to its most similar prototype is k-means on the unit sphere; the
    prototypes move by gradient instead of by averaging.
    """

    def __init__(self, features: int, clusters: int, temperature: float) -> None:
        super().__init__()
        self.prototypes = nn.Parameter(torch.randn(clusters, features) * 0.1)
        self.temperature = temperature

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        features = nn.functional.normalize(features, dim=1)
        prototypes = nn.functional.normalize(self.prototypes, dim=1)
        return features @ prototypes.T / self.temperature


def spherical_kmeans(
    points: torch.Tensor, clusters: int, generator: torch.Generator, iterations: int = 20
) -> torch.Tensor:
    """Centroids (on the unit sphere) of ``points`` by k-means++ seeding and Lloyd steps."""
    points = nn.functional.normalize(points, dim=1)
    first = int(torch.randint(0, len(points), (1,), generator=generator))
    centroids = points[first : first + 1]
    while len(centroids) < clusters:  # k-means++: far points are likelier seeds
        distance = (1 - (points @ centroids.T).max(dim=1).values).clamp(min=1e-12)
        pick = torch.multinomial(distance, 1, generator=generator)
        centroids = torch.cat([centroids, points[pick]])
    for _ in range(iterations):
        assigned = (points @ centroids.T).argmax(dim=1)
        sums = torch.zeros_like(centroids).index_add_(0, assigned, points)
        used = torch.bincount(assigned, minlength=clusters) > 0
        centroids = torch.where(used[:, None], nn.functional.normalize(sums, dim=1), centroids)
    return centroids


def inertia(points: torch.Tensor, assigned: torch.Tensor, clusters: int) -> float:
    """k-means' criterion: mean squared distance of each point (flattened) to the mean of its
    cluster."""
    points = points.flatten(1)
    sums = torch.zeros(clusters, points.shape[1]).index_add_(0, assigned, points)
    counts = torch.bincount(assigned, minlength=clusters).clamp(min=1)
    means = sums / counts[:, None]
    return float(((points - means[assigned]) ** 2).sum(dim=1).mean())


class ClusterLearner(Learner):
    """Clusters the stream from the observations alone (it reads neither reward nor ``info``).

    The learner remembers the last ``memory`` observations. From ``warmup`` on, each env step
    pairs every observation with one of its ``neighbours`` nearest remembered samples (raw
    distance; exact copies skipped) and trains the encoder and prototypes so that the pair
    gets the same cluster (SCAN, Van Gansbeke et al. 2020: ``-log <p(x), p(n)>``), while
    ``entropy_coef`` times the entropy of the batch's mean assignment keeps every cluster in
    use. Nearest neighbours in pixel space mostly share a class, so the clusters follow the
    classes without ever seeing one. The prototypes start at spherical k-means centroids of the
    remembered samples' features. An averaged copy of the weights acts.

    A clustering can settle in a poor local optimum (two classes merged, another split in
    two). ``restarts`` networks therefore train side by side from their own initial weights,
    neighbour picks and augmentations, and the one whose clusters of the remembered samples
    have the lowest inertia in observation space acts (k-means' ``n_init``: restarts judged by
    its own criterion, which reads no label), chosen again every ``choose_every`` updates.

    Hyperparameters: ``arch``, ``width``, ``learning_rate`` (3e-3), ``memory`` (4096),
    ``warmup`` (1024), ``neighbours`` (5), ``entropy_coef`` (2.0), ``temperature`` (0.1),
    ``average`` (0.99), ``restarts`` (1), ``choose_every`` (50).
    """

    paradigm = "unsupervised"
    uses = "data"
    DEFAULTS: dict[str, Any] = {
        "arch": "auto", "width": 128, "learning_rate": 3e-3, "memory": 4096, "warmup": 1024,
        "neighbours": 5, "entropy_coef": 2.0, "temperature": 0.1, "average": 0.99,
        "restarts": 1, "choose_every": 50,
    }  # fmt: skip

    def build(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        h = self.hyper
        for key in ("restarts", "choose_every"):
            if int(h[key]) < 1:
                raise ValueError(f"{key} must be at least 1, got {h[key]!r}")

        def network() -> nn.Sequential:
            encoder = Encoder(tuple(observation_space.shape), h["arch"], h["width"])
            head = PrototypeHead(encoder.features, int(action_space.n), h["temperature"])
            return nn.Sequential(encoder, head)

        self.network = nn.ModuleList(network() for _ in range(int(h["restarts"]))).to(self.device)
        self.average = AveragedCopy(self.network, h["average"])
        self.opt = torch.optim.Adam(self.network.parameters(), lr=h["learning_rate"])
        self.memory = ReplayBuffer(h["memory"])
        self.image = is_image(tuple(observation_space.shape))
        self.chosen = 0  # the restart that acts

    def modules(self) -> dict[str, nn.Module]:
        return {"network": self.network, "average": self.average.module}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.opt}

    def extra_state(self) -> dict[str, Any]:
        return {"memory": self.memory.state(), "chosen": self.chosen}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.memory.load(state["memory"])
        self.chosen = int(state.get("chosen", 0))

    def act_batch(
        self, obs: Any, action_masks: np.ndarray | None = None, deterministic: bool = True
    ) -> np.ndarray:
        with torch.no_grad():
            network = self.average.module[self.chosen]
            return network(self.tensor(obs)).argmax(dim=1).cpu().numpy()

    def seed_prototypes(self) -> None:
        """Start each network's prototypes at k-means centroids of the remembered samples'
        features (else the clusters take tens of thousands of steps to break their initial
        symmetry)."""
        with torch.no_grad():
            memory = self.memory.items["obs"][: self.memory.size].to(self.device)
            for encoder, head in self.network:
                clusters = head.prototypes.shape[0]
                head.prototypes.copy_(spherical_kmeans(encoder(memory), clusters, self.generator))
        self.average = AveragedCopy(self.network, self.hyper["average"])

    def choose(self) -> list[float]:
        """Let the restart with the lowest inertia of the remembered samples act; the
        inertias."""
        memory = self.memory.items["obs"][: self.memory.size]
        on_device = memory.to(self.device)
        with torch.no_grad():
            inertias = [
                inertia(memory, network(on_device).argmax(dim=1).cpu(),
                        network[1].prototypes.shape[0])
                for network in self.average.module
            ]  # fmt: skip
        self.chosen = int(np.argmin(inertias))
        return inertias

    def neighbours_of(self, x: torch.Tensor) -> torch.Tensor:
        """One random pick among each sample's nearest remembered samples (copies skipped)."""
        memory = self.memory.items["obs"][: self.memory.size].to(self.device)
        distances = torch.cdist(x.flatten(1), memory.flatten(1))
        distances[distances < 1e-6] = float("inf")  # the sample itself, remembered earlier
        k = self.hyper["neighbours"]
        nearest = distances.topk(k, dim=1, largest=False).indices
        pick = torch.randint(0, k, (len(x), 1), generator=self.generator).to(self.device)
        return memory[nearest.gather(1, pick).squeeze(1)]

    def observe(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, info: dict[str, Any]
    ) -> dict[str, float]:
        x = self.tensor(obs)
        self.memory.add(obs=x.cpu())
        if self.memory.size < self.hyper["warmup"]:
            return {}
        if self.updates == 0:
            self.seed_prototypes()
        agreements, entropies = [], []
        for network in self.network:
            pairs = torch.cat(
                [weak_augment(x, self.image), weak_augment(self.neighbours_of(x), self.image)]
            )
            probs = torch.softmax(network(pairs), dim=1)
            anchor, neighbour = probs[: len(x)], probs[len(x) :]
            agreements.append(-torch.log((anchor * neighbour).sum(dim=1).clamp(min=1e-7)).mean())
            mean = anchor.mean(dim=0)
            entropies.append(-(mean * torch.log(mean.clamp(min=1e-8))).sum())
        agreement, entropy = torch.stack(agreements), torch.stack(entropies)
        loss = (agreement - self.hyper["entropy_coef"] * entropy).sum()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.average.update(self.network)
        self.updates += 1
        metrics = {}
        if len(self.network) > 1 and self.updates % self.hyper["choose_every"] == 0:
            inertias = self.choose()
            metrics = {"charts/chosen_restart": float(self.chosen),
                       "charts/chosen_inertia": inertias[self.chosen]}  # fmt: skip
        return {
            "losses/neighbour_agreement": agreement[self.chosen].item(),
            "losses/cluster_entropy": entropy[self.chosen].item(),
            **metrics,
        }
