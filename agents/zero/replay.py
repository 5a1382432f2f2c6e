"""The replay buffer of AlphaZero's learner: the most recent self-play positions and targets.

A ring of fixed capacity over numpy arrays: the planes (uint8: they are 0/1), the legal mask,
the policy target, the result ``z`` and, for games with territory, the final score margin and
ownership, all from the side of the player to move. It saves to and loads from one ``.npz``
file, so ``resume=latest`` continues with the same buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Samples:
    """A batch of training positions (numpy arrays with the same first axis)."""

    planes: np.ndarray  # (K, C, H, W) uint8
    masks: np.ndarray  # (K, A) bool
    policy: np.ndarray  # (K, A) float32, sums to 1
    value: np.ndarray  # (K,) float32: the result for the player to move
    score: np.ndarray  # (K,) float32: the final margin for the player to move / points
    ownership: np.ndarray  # (K, H, W) int8: +1 the player to move's, -1 the opponent's

    def __len__(self) -> int:
        return len(self.value)

    @staticmethod
    def concatenate(parts: list[Samples]) -> Samples:
        """One batch of all ``parts`` in order."""
        return Samples(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))


_FIELDS = ("planes", "masks", "policy", "value", "score", "ownership")


class ReplayBuffer:
    """The last ``capacity`` positions added; ``sample`` draws uniformly among them."""

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], num_actions: int) -> None:
        if capacity < 1:
            raise ValueError(f"replay capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        height, width = obs_shape[1:]
        self.data = Samples(
            planes=np.zeros((capacity, *obs_shape), dtype=np.uint8),
            masks=np.zeros((capacity, num_actions), dtype=np.bool_),
            policy=np.zeros((capacity, num_actions), dtype=np.float32),
            value=np.zeros(capacity, dtype=np.float32),
            score=np.zeros(capacity, dtype=np.float32),
            ownership=np.zeros((capacity, height, width), dtype=np.int8),
        )
        self.size = 0
        self.added = 0  # the ring's next write position is added % capacity

    def add(self, samples: Samples) -> None:
        """Append ``samples``, overwriting the oldest once full."""
        count = len(samples)
        if count == 0:
            return
        if count > self.capacity:
            samples = Samples(*(getattr(samples, f)[-self.capacity :] for f in _FIELDS))
            self.added += count - self.capacity
            count = self.capacity
        index = (self.added + np.arange(count)) % self.capacity
        for name in _FIELDS:
            getattr(self.data, name)[index] = getattr(samples, name)
        self.added += count
        self.size = min(self.capacity, self.size + count)

    def sample(self, count: int, rng: np.random.Generator) -> Samples:
        """``count`` positions drawn uniformly with replacement."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        index = rng.integers(self.size, size=count)
        return Samples(*(getattr(self.data, name)[index] for name in _FIELDS))

    def save(self, path: Path) -> None:
        """Write the stored positions, oldest first, to ``path`` (.npz)."""
        order = (self.added - self.size + np.arange(self.size)) % self.capacity
        arrays = {name: getattr(self.data, name)[order] for name in _FIELDS}
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)

    def load(self, path: Path) -> None:
        """Replace the contents by those saved at ``path``; ValueError if it is unreadable or
        its shapes do not fit this buffer."""
        try:
            with np.load(path) as archive:
                parts = {name: archive[name] for name in _FIELDS}
        except (OSError, KeyError, ValueError) as error:
            raise ValueError(f"replay buffer {path} is unreadable: {error}") from None
        for name in _FIELDS:
            if parts[name].shape[1:] != getattr(self.data, name).shape[1:]:
                raise ValueError(
                    f"replay buffer {path}: {name} has shape {parts[name].shape[1:]}, "
                    f"this game needs {getattr(self.data, name).shape[1:]}"
                )
        self.size, self.added = 0, 0
        self.add(Samples(**parts))
