"""Supervised learning from ``info`` labels (classification) or targets (regression)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.learners.base import Learner, masked
from agents.learners.nets import Encoder, is_image, shift


class ReplayBuffer:
    """The most recent ``capacity`` items of a few aligned tensors, sampled uniformly."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.items: dict[str, torch.Tensor] = {}
        self.size = 0
        self.next = 0

    def add(self, **batch: torch.Tensor) -> None:
        """Append a batch (every tensor the same length), overwriting the oldest items."""
        count = len(next(iter(batch.values())))
        if count == 0:
            return
        if not self.items:
            self.items = {
                k: torch.zeros((self.capacity, *v.shape[1:]), dtype=v.dtype)
                for k, v in batch.items()
            }
        slots = (self.next + torch.arange(count)) % self.capacity
        for key, values in batch.items():
            self.items[key][slots] = values[-self.capacity :] if count > self.capacity else values
        self.next = int((self.next + count) % self.capacity)
        self.size = min(self.capacity, self.size + count)

    def sample(self, count: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """``count`` items drawn with replacement."""
        picks = torch.randint(0, self.size, (count,), generator=generator)
        return {k: v[picks] for k, v in self.items.items()}

    def state(self) -> dict[str, Any]:
        """The buffer's contents (saved with checkpoints)."""
        return {"items": self.items, "size": self.size, "next": self.next}

    def load(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state`."""
        self.items, self.size, self.next = state["items"], state["size"], state["next"]


class SupervisedLearner(Learner):
    """Cross-entropy on ``info["label"]`` (Discrete actions) or MSE on ``info["target"]`` (Box).

    Labelled items go into a replay buffer; every env step makes one update on a minibatch drawn
    from it, so a small labelled pool is revisited while the stream goes on. ``encoder`` (e.g.
    an autoencoder's) replaces the learner's own; ``freeze_encoder=True`` with ``head="linear"``
    is a linear probe.

    Hyperparameters: ``arch`` ("auto", "cnn", "mlp"), ``width`` (128), ``learning_rate``
    (1e-3), ``batch_size`` (64), ``memory`` (labelled items kept, 20000), ``augment`` (max
    pixel shift for images, 0), ``head`` ("linear" or "mlp"), ``freeze_encoder`` (False),
    ``weight_decay`` (0), ``standardize`` (False: True puts a parameter-free batch
    normalisation before the head, as a probe standardises features).
    """

    paradigm = "supervised"
    uses = "label"
    DEFAULTS: dict[str, Any] = {
        "arch": "auto", "width": 128, "learning_rate": 1e-3, "batch_size": 64,
        "memory": 20_000, "augment": 0, "head": "linear", "freeze_encoder": False,
        "weight_decay": 0.0, "standardize": False,
    }  # fmt: skip

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        seed: int = 0,
        device: str = "cpu",
        encoder: nn.Module | None = None,
        **hyper: Any,
    ) -> None:
        self.encoder = encoder  # build() makes one when none is given
        super().__init__(observation_space, action_space, seed, device, **hyper)

    def build(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        h = self.hyper
        self.classify = isinstance(action_space, spaces.Discrete)
        outputs = int(action_space.n) if self.classify else 1
        self.key = "label" if self.classify else "target"
        self.encoder = self.encoder or Encoder(observation_space.shape, h["arch"], h["width"])
        features = self.encoder.features
        layers: list[nn.Module] = (
            [nn.BatchNorm1d(features, affine=False)] if h["standardize"] else []
        )
        if h["head"] == "linear":
            layers.append(nn.Linear(features, outputs))
        else:
            layers += [nn.Linear(features, 128), nn.ReLU(), nn.Linear(128, outputs)]
        self.head = nn.Sequential(*layers)
        self.encoder.to(self.device)
        self.head.to(self.device)
        params = list(self.head.parameters())
        if not h["freeze_encoder"]:
            params += list(self.encoder.parameters())
        else:
            self.encoder.requires_grad_(False)
        self.opt = torch.optim.Adam(params, lr=h["learning_rate"], weight_decay=h["weight_decay"])
        self.buffer = ReplayBuffer(h["memory"])
        self.image = is_image(tuple(observation_space.shape))

    def modules(self) -> dict[str, nn.Module]:
        return {"encoder": self.encoder, "head": self.head}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.opt}

    def extra_state(self) -> dict[str, Any]:
        return {"buffer": self.buffer.state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.buffer.load(state["buffer"])

    def outputs(self, obs: torch.Tensor) -> torch.Tensor:
        """Logits (classification) or predictions (regression) for a batch of observations."""
        if self.hyper["freeze_encoder"]:
            with torch.no_grad():
                features = self.encoder(obs)
        else:
            features = self.encoder(obs)
        return self.head(features)

    def act_batch(
        self, obs: Any, action_masks: np.ndarray | None = None, deterministic: bool = True
    ) -> np.ndarray:
        with torch.no_grad():
            out = self.outputs(self.tensor(obs))
        if self.classify:
            return out.argmax(dim=1).cpu().numpy()
        low, high = self.action_space.low, self.action_space.high
        return np.clip(out.cpu().numpy(), low, high).astype(np.float32)

    def observe(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, info: dict[str, Any]
    ) -> dict[str, float]:
        present = masked(info, self.key, len(obs))
        if present.any():
            values = torch.as_tensor(np.asarray(info[self.key])[present])
            targets = values.long() if self.classify else values.float().view(-1, 1)
            self.buffer.add(obs=self.tensor(obs[present]).cpu(), target=targets)
        if self.buffer.size == 0:
            return {}
        return self.update(self.buffer.sample(self.hyper["batch_size"], self.generator))

    def update(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """One gradient step on a labelled minibatch."""
        obs = batch["obs"].to(self.device)
        if self.image and self.hyper["augment"]:
            obs = shift(obs, self.hyper["augment"])
        out = self.outputs(obs)
        target = batch["target"].to(self.device)
        if self.classify:
            loss = nn.functional.cross_entropy(out, target)
            name = "losses/cross_entropy"
        else:
            loss = nn.functional.mse_loss(out, target)
            name = "losses/mse"
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.updates += 1
        return {name: loss.item()}
