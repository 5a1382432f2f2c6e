"""Classical image denoisers as references for the denoising tasks, tuned fairly.

Each reference is scikit-image's (total variation, wavelet shrinkage, non-local means) or the
``bm3d`` package's BM3D, with its strength chosen on the val part's noisy images (the same
observations the learner validates on, their clean images from the data, no labels) and scored
on the test part's. Poisson (low-dose) observations are first taken through Anscombe's
variance-stabilising transform, where the noise is close to Gaussian with a known standard
deviation, denoised there and mapped back, as is standard practice for these methods.
scikit-image and bm3d are imported here only.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from envs.paradigms.reconstruct import psnr

Denoise = Callable[[np.ndarray, float], np.ndarray]  # (image, strength) -> denoised image


@dataclass(frozen=True)
class Reference:
    """A classical denoiser and the strengths to try on the val part (multiples of the
    noise's standard deviation, so one grid serves every noise level)."""

    name: str
    denoise: Denoise
    strengths: tuple[float, ...]
    tune_images: int = 200  # val images the grid is tried on (BM3D is slow)


def _tv(image: np.ndarray, strength: float) -> np.ndarray:
    from skimage.restoration import denoise_tv_chambolle

    return denoise_tv_chambolle(image, weight=strength)


def _wavelet(image: np.ndarray, strength: float) -> np.ndarray:
    from skimage.restoration import denoise_wavelet

    return denoise_wavelet(image, sigma=strength, method="BayesShrink", mode="soft", wavelet="db2")


def _nl_means(image: np.ndarray, strength: float) -> np.ndarray:
    from skimage.restoration import denoise_nl_means

    return denoise_nl_means(image, h=strength, patch_size=5, patch_distance=6, fast_mode=True)


def _bm3d(image: np.ndarray, strength: float) -> np.ndarray:
    import bm3d

    return np.asarray(bm3d.bm3d(image, sigma_psd=strength), dtype=np.float32)


REFERENCES = (
    Reference("total_variation", _tv, (0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0)),
    Reference("wavelet", _wavelet, (0.6, 0.8, 1.0, 1.2, 1.5)),
    Reference("non_local_means", _nl_means, (0.5, 0.7, 0.9, 1.1, 1.4)),
    Reference("bm3d", _bm3d, (0.8, 1.0, 1.25), tune_images=40),
)


def available(reference: Reference) -> bool:
    """Whether the package behind ``reference`` is installed."""
    import importlib.util

    module = "bm3d" if reference.name == "bm3d" else "skimage"
    return importlib.util.find_spec(module) is not None


class Corruption:
    """How to bring a corruption's observations to Gaussian noise of known size, and back."""

    def __init__(self, kind: str, noise_std: float, dose: float) -> None:
        if kind not in ("noise", "poisson"):
            raise ValueError(f"classical denoisers handle noise or poisson, got {kind!r}")
        self.kind, self.noise_std, self.dose = kind, noise_std, dose

    @property
    def sigma(self) -> float:
        """The noise's standard deviation where the denoisers work (Anscombe's domain scaled
        by the dose's, for Poisson)."""
        if self.kind == "noise":
            return self.noise_std
        return 1.0 / (2.0 * math.sqrt(self.dose + 0.375))

    def forward(self, observed: np.ndarray) -> np.ndarray:
        if self.kind == "noise":
            return observed
        counts = observed * self.dose
        return np.sqrt(counts + 0.375) / math.sqrt(self.dose + 0.375)

    def inverse(self, stabilised: np.ndarray) -> np.ndarray:
        if self.kind == "noise":
            return stabilised
        # Anscombe's asymptotically unbiased inverse, (y / 2)^2 - 1/8, in count units.
        y = np.maximum(stabilised, 0.0) * 2.0 * math.sqrt(self.dose + 0.375)
        return np.clip(((y / 2.0) ** 2 - 0.125) / self.dose, 0.0, 1.0)

    def run(self, reference: Reference, images: np.ndarray, factor: float) -> np.ndarray:
        """``images`` (N, H, W) observed, denoised by ``reference`` at ``factor`` x sigma (in
        chunks over every core: they are independent)."""
        from joblib import Parallel, delayed

        chunks = np.array_split(images, min(len(images), os.cpu_count() or 1))
        if len(chunks) == 1:
            return self.run_chunk(reference, images, factor)
        done = Parallel(n_jobs=len(chunks))(
            delayed(self.run_chunk)(reference, chunk, factor) for chunk in chunks
        )
        return np.concatenate(done)

    def run_chunk(self, reference: Reference, images: np.ndarray, factor: float) -> np.ndarray:
        """``run`` in this process."""
        strength = factor * self.sigma
        denoised = [
            self.inverse(reference.denoise(self.forward(image), strength)) for image in images
        ]
        return np.clip(np.stack(denoised), 0.0, 1.0).astype(np.float32)


def mean_psnr(clean: np.ndarray, estimate: np.ndarray) -> float:
    """Mean over images of the PSNR (data range 1)."""
    errors = ((clean - estimate) ** 2).reshape(len(clean), -1).mean(axis=1)
    return float(np.mean(psnr(errors)))


def mean_ssim(clean: np.ndarray, estimate: np.ndarray) -> float:
    """Mean over images of scikit-image's structural similarity (data range 1)."""
    from skimage.metrics import structural_similarity

    return float(
        np.mean(
            [
                structural_similarity(c, e, data_range=1.0)
                for c, e in zip(clean, estimate, strict=True)
            ]
        )
    )


def denoise_references(
    corruption: Corruption,
    names: list[str],
    val: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    progress: Callable[[str], Any] = lambda _: None,
) -> list[dict[str, Any]]:
    """Rows (model, strength (x sigma), val_psnr, psnr, ssim) for the noisy input itself and
    each reference in ``names`` (ValueError for one whose package is missing); ``val`` and
    ``test`` are (observed, clean) image stacks (N, H, W)."""
    (val_obs, val_clean), (test_obs, test_clean) = val, test
    identity = np.clip(test_obs, 0.0, 1.0)
    rows = [
        {
            "model": "noisy input",
            "strength (x sigma)": "",
            "val_psnr": mean_psnr(val_clean, np.clip(val_obs, 0.0, 1.0)),
            "psnr": mean_psnr(test_clean, identity),
            "ssim": mean_ssim(test_clean, identity),
        }
    ]
    for reference in REFERENCES:
        if reference.name not in names:
            continue
        if not available(reference):
            raise ValueError(
                f"reference {reference.name} needs a package that is not installed "
                f"(pip install {'bm3d' if reference.name == 'bm3d' else 'scikit-image'})"
            )
        progress(reference.name)
        tune_obs, tune_clean = val_obs[: reference.tune_images], val_clean[: reference.tune_images]
        scores = {
            factor: mean_psnr(tune_clean, corruption.run(reference, tune_obs, factor))
            for factor in reference.strengths
        }
        factor = max(scores, key=lambda f: (scores[f], -f))
        denoised = corruption.run(reference, test_obs, factor)
        rows.append(
            {
                "model": reference.name,
                "strength (x sigma)": factor,
                "val_psnr": scores[factor],
                "psnr": mean_psnr(test_clean, denoised),
                "ssim": mean_ssim(test_clean, denoised),
            }
        )
    return rows
