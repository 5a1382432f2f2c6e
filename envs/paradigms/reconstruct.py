"""``learnloop/Reconstruct-v0``: self-supervised reconstruction of corrupted samples."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs.paradigms._core import Feed, ParadigmEnv, ParadigmVectorEnv, check_choice, put_masked
from envs.paradigms.datasets import PARTS

CORRUPTIONS = ("noise", "poisson", "mask")
POISSON_HIGH = 4.0  # Poisson observations are clipped here (4x the brightest clean pixel)
UNCLIPPED = (-1.0, 2.0)  # the bounds of unclipped Gaussian noise on images (5 sigma at 0.2)


class ReconstructFeed(Feed):
    """Serve corrupted samples, take reconstructions, score them (see ReconstructEnv)."""

    paradigm = "self-supervised"
    label_keys = ("clean",)

    def __init__(
        self,
        corruption: str = "noise",
        noise_std: float = 0.3,
        mask_fraction: float = 0.3,
        dose: float = 100.0,
        clip: bool = True,
        action_bound: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.corruption = check_choice("corruption", corruption, CORRUPTIONS)
        if not noise_std >= 0:
            raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
        if not dose > 0:
            raise ValueError(f"dose must be > 0, got {dose!r}")
        if not 0.0 <= mask_fraction <= 1.0:
            raise ValueError(f"mask_fraction must be in [0, 1], got {mask_fraction!r}")
        self.noise_std = float(noise_std)
        self.mask_fraction = float(mask_fraction)
        self.dose = float(dose)
        self.clip = bool(clip)
        self.images = self.split.dataset.image_shape is not None
        if self.corruption == "poisson" and not self.images:
            raise ValueError("corruption='poisson' needs an image dataset (counts of intensity)")
        self.bound = 1.0 if self.images else float(action_bound)
        self.fixed: np.ndarray | None = None  # a scoring part's corrupted samples, drawn once

    def observation_space(self) -> spaces.Box:
        shape = self.sample_shape
        if self.corruption == "mask":  # values and a visibility mask, stacked
            shape = (2 * shape[0], *shape[1:])
        if not self.images:
            return spaces.Box(-np.inf, np.inf, shape, np.float32)
        if self.corruption == "poisson":
            return spaces.Box(0.0, POISSON_HIGH, shape, np.float32)
        if self.corruption == "noise" and not self.clip:
            return spaces.Box(*UNCLIPPED, shape, np.float32)
        return spaces.Box(0.0, 1.0, shape, np.float32)

    def action_space(self) -> spaces.Box:
        low = 0.0 if self.images else -self.bound
        return spaces.Box(low, self.bound, self.sample_shape, np.float32)

    def observe(self, positions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Fresh corruption of each training sample at every visit; on val and test each
        sample's corruption is drawn once (seeded by the split and the part), so every method
        scored there denoises the same observations."""
        if self.training:
            return self.corrupt(super().observe(positions, rng), rng)
        if self.fixed is None:
            seed = [self.split.seed, PARTS.index(self.part), 17]
            everything = np.arange(self.size)
            self.fixed = self.corrupt(super().observe(everything, rng), np.random.default_rng(seed))
        return self.fixed[positions]

    def corrupt(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``clean`` samples as the corruption leaves them."""
        if self.corruption == "noise":
            noisy = clean + rng.normal(0.0, self.noise_std, clean.shape).astype(np.float32)
            if not self.images:
                return noisy
            return np.clip(noisy, *((0.0, 1.0) if self.clip else UNCLIPPED))
        if self.corruption == "poisson":  # photon counts at dose photons per unit intensity
            counts = rng.poisson(clean.astype(np.float64) * self.dose)
            return np.minimum(counts / self.dose, POISSON_HIGH).astype(np.float32)
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
        scores = {"mse": float(errors.mean()), "samples": float(len(positions))}
        if self.images:  # peak signal-to-noise ratio per image (data range 1), averaged
            scores["psnr"] = float(np.mean(psnr(errors)))
        return scores


def psnr(mse: np.ndarray, data_range: float = 1.0) -> np.ndarray:
    """Peak signal-to-noise ratio in dB for mean squared errors (capped at 100 dB for 0)."""
    mse = np.maximum(np.asarray(mse, dtype=np.float64), data_range**2 * 1e-10)
    return 10.0 * np.log10(data_range**2 / mse)


class ReconstructEnv(ParadigmEnv):
    """Reconstruct a corrupted sample: self-supervised, the target is the data itself.

    ``gymnasium.make("learnloop/Reconstruct-v0", corruption="mask")``. No class label ever
    reaches the agent, on any part.

    ## Observation Space

    ``corruption="noise"``: the sample plus Gaussian noise (``noise_std``, in scaled units;
    images clipped to [0, 1], or with ``clip=False`` only to [-1, 2], as a scanner's noise is not
    clipped), shaped as the sample ((1, 8, 8) or (D,)).
    ``corruption="poisson"`` (images; low-dose imaging): photon counts drawn from
    Poisson(``dose`` x intensity), divided by ``dose`` (so the mean is the clean image; the noise
    grows as the dose falls), clipped to [0, 4]. On val and test each sample's corruption is drawn
    once per split, so every method is scored on the same observations. ``corruption="mask"``:
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
    "samples"}`` (and ``"psnr"``, dB, for images).

    ## Episode End, Arguments

    As ``learnloop/Classify-v0`` (``dataset="phantoms"``: generated 64x64 CT-like phantoms), plus
    ``corruption`` ("noise", "poisson" or "mask"), ``noise_std`` (0.3), ``dose`` (100.0, photons
    per unit intensity), ``clip`` (True), ``mask_fraction`` (0.3), ``action_bound`` (5.0, tabular only).

    ## Version History

    - v0: initial version; later: ``corruption="poisson"``, ``dose``, fixed corruption on the
      scoring parts, ``psnr`` in the summary.
    """

    feed_cls = ReconstructFeed


class ReconstructVectorEnv(ParadigmVectorEnv):
    """``num_envs`` Reconstruct-v0 slots stepped together; rules as in :class:`ReconstructEnv`."""

    feed_cls = ReconstructFeed
