"""``learnloop/Reconstruct-v0``: self-supervised reconstruction of corrupted samples."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs.paradigms._core import Feed, ParadigmEnv, ParadigmVectorEnv, check_choice, put_masked

CORRUPTIONS = ("noise", "mask")


class ReconstructFeed(Feed):
    """Serve corrupted samples, take reconstructions, score them (see ReconstructEnv)."""

    paradigm = "self-supervised"
    label_keys = ("clean",)

    def __init__(
        self,
        corruption: str = "noise",
        noise_std: float = 0.3,
        mask_fraction: float = 0.3,
        action_bound: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.corruption = check_choice("corruption", corruption, CORRUPTIONS)
        if not noise_std >= 0:
            raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
        if not 0.0 <= mask_fraction <= 1.0:
            raise ValueError(f"mask_fraction must be in [0, 1], got {mask_fraction!r}")
        self.noise_std = float(noise_std)
        self.mask_fraction = float(mask_fraction)
        self.images = self.split.dataset.image_shape is not None
        self.bound = 1.0 if self.images else float(action_bound)

    def observation_space(self) -> spaces.Box:
        shape = self.sample_shape
        if self.corruption == "mask":  # values and a visibility mask, stacked
            shape = (2 * shape[0], *shape[1:])
        low = 0.0 if self.images else -np.inf
        return spaces.Box(low, 1.0 if self.images else np.inf, shape, np.float32)

    def action_space(self) -> spaces.Box:
        low = 0.0 if self.images else -self.bound
        return spaces.Box(low, self.bound, self.sample_shape, np.float32)

    def observe(self, positions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        clean = super().observe(positions, rng)
        if self.corruption == "noise":
            noisy = clean + rng.normal(0.0, self.noise_std, clean.shape).astype(np.float32)
            return np.clip(noisy, 0.0, 1.0) if self.images else noisy
        visible = (rng.random(clean.shape) >= self.mask_fraction).astype(np.float32)
        return np.concatenate([clean * visible, visible], axis=1)

    def respond(
        self, positions: np.ndarray, actions: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        clean = super().observe(positions, rng)
        errors = ((actions - clean) ** 2).reshape(len(positions), -1).mean(axis=1)
        feedback = self.gives_feedback[positions]
        rewards = np.where(feedback, -errors, 0.0)
        info = {"feedback": feedback}
        put_masked(info, "clean", clean, self.gives_label[positions], 0.0)
        return rewards.astype(np.float32), info

    def summary(self, positions: np.ndarray, actions: np.ndarray) -> dict[str, float]:
        clean = super().observe(positions, np.random.default_rng(0))
        errors = ((actions - clean) ** 2).reshape(len(positions), -1).mean(axis=1)
        return {"mse": float(errors.mean()), "samples": float(len(positions))}


class ReconstructEnv(ParadigmEnv):
    """Reconstruct a corrupted sample: self-supervised, the target is the data itself.

    ``gymnasium.make("learnloop/Reconstruct-v0", corruption="mask")``. No class label ever
    reaches the agent, on any part.

    ## Observation Space

    ``corruption="noise"``: the sample plus Gaussian noise (``noise_std``, in scaled units;
    images clipped to [0, 1]), shaped as the sample ((1, 8, 8) or (D,)). ``corruption="mask"``:
    each pixel or attribute hidden (set to 0) with probability ``mask_fraction``, stacked with
    the visibility mask (1 shown, 0 hidden): (2, 8, 8) or (2*D,). The mask mode is "predict
    the other attributes" for tabular data.

    ## Action Space

    ``Box`` of the clean sample's shape: [0, 1] for images, [-action_bound, action_bound]
    (standardised units) for tabular data.

    ## Rewards and info

    Reward ``-mean((action - clean)**2)`` over all entries, for samples in the labelled pool
    (every sample at the default ``label_fraction=1``) unless ``feedback="none"``.
    ``info["clean"]`` (the uncorrupted sample, derived from the data, not a human label) only
    when ``feedback="label"``. On val/test the pass ends with ``info["summary"] = {"mse",
    "samples"}``.

    ## Episode End, Arguments

    As ``learnloop/Classify-v0``, plus ``corruption`` ("noise"), ``noise_std`` (0.3),
    ``mask_fraction`` (0.3), ``action_bound`` (5.0, tabular only).

    ## Version History

    - v0: initial version.
    """

    feed_cls = ReconstructFeed


class ReconstructVectorEnv(ParadigmVectorEnv):
    """``num_envs`` Reconstruct-v0 slots stepped together; rules as in :class:`ReconstructEnv`."""

    feed_cls = ReconstructFeed
