"""phantom_denoise: denoise CT-like head phantoms, the medical-imaging case of self-supervision.

The env is ``learnloop/Reconstruct-v0`` on generated phantoms (``dataset=phantoms``: 64x64
Shepp-Logan-style heads, :func:`envs.paradigms.datasets.make_phantoms`), each observation a
noisy scan: Poisson photon counts at a low ``dose`` (the default) or Gaussian noise. The agent's
action is the denoised image; the target is the clean phantom, which the data provides (no
human label anywhere). learnloop's autoencoder learner trains a small U-Net on random patches;
the weights kept are those with the lowest mean squared error on the val part (its noisy scans
and clean phantoms). The test part's phantoms are never served in training.

References, tuned on the same val part and scored on the same test scans: scikit-image's total
variation, wavelet and non-local-means denoisers, and BM3D (``tasks.paradigms.denoisers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.config import ConfigError, TrainConfig, describe, section
from tasks.paradigms.denoisers import (
    REFERENCES,
    Corruption,
    denoise_references,
    mean_psnr,
    mean_ssim,
)
from tasks.paradigms.labelled import (
    DataEnvConfig,
    LearnerConfig,
    ParadigmConfig,
    ParadigmEvalConfig,
    ParadigmTask,
    train_budget,
)
from tasks.runner.base import EvalResult

STRIP_FILE = "denoising_strip.png"
REFERENCE_NAMES = tuple(reference.name for reference in REFERENCES)


@dataclass
class PhantomEnvConfig(DataEnvConfig):
    """The reconstruction env on phantoms."""

    dataset: str = describe("Dataset (generated phantoms).", "phantoms", choices=("phantoms",))
    corruption: str = describe(
        "Noise of the scans: Poisson photon counts (low dose) or additive Gaussian.",
        "poisson",
        choices=("poisson", "noise"),
    )
    dose: float = describe(
        "Photons per unit intensity (corruption=poisson): the lower, the noisier.", 30.0, min=0.1
    )
    noise_std: float = describe("Gaussian noise (corruption=noise).", 0.1, min=0.0)
    clip: bool = describe(
        "Clip Gaussian noise to [0, 1] (False: to [-1, 2] only, as a scanner's noise).", False
    )
    num_envs: int = describe("Scans per training step (the batch).", 16, min=1, max=65536)


@dataclass
class PhantomEvalConfig(ParadigmEvalConfig):
    """Evaluation on the test phantoms, validation on the val ones."""

    every: int = describe(
        "Validate every this many env steps (0: off; the lowest val mse's weights are kept).",
        4_000,
        min=0,
    )
    num_envs: int = describe("Scans per step when scoring a part.", 64, min=1)
    baselines: bool = describe(
        "Also tune and score the classical denoisers (TV, wavelet, non-local means, BM3D).", True
    )
    references: list[str] = describe(
        "Classical references to tune and score (BM3D needs the bm3d package).",
        factory=lambda: list(REFERENCE_NAMES),
    )
    strip_images: int = describe("Test phantoms shown in the report's image strip.", 4, min=1)


@dataclass
class PhantomDenoiseConfig(ParadigmConfig):
    """Config of phantom_denoise."""

    env: PhantomEnvConfig = section(PhantomEnvConfig, "The env.")
    learner: LearnerConfig = section(
        lambda: LearnerConfig(
            name="autoencoder",
            arch="unet",
            width=32,
            kwargs={"augment": 0, "crop": 32, "dihedral": True},
        ),
        "learnloop's learner.",
    )
    eval: PhantomEvalConfig = section(PhantomEvalConfig, "Evaluation and validation.")
    train: TrainConfig = section(lambda: train_budget(20_000), "Training budget and checkpoints.")


class PhantomDenoiseTask(ParadigmTask):
    """Self-supervised denoising of CT-like phantoms; PSNR and SSIM against classical denoisers."""

    name = "phantom_denoise"
    env_id = "learnloop/Reconstruct-v0"
    config_cls = PhantomDenoiseConfig
    monitor = "mse"  # on the val part's scans and clean phantoms: no labels
    monitor_mode = "min"
    monitor_needs_labels = False
    headline = "eval_periodic/val_psnr"

    def continuous_actions(self, cfg: Any) -> str | None:
        return "Reconstruct-v0 acts with a whole image"

    def validate(self, cfg: Any) -> None:
        super().validate(cfg)
        unknown = sorted(set(cfg.eval.references) - set(REFERENCE_NAMES))
        if unknown:
            raise ConfigError(
                f"eval.references: unknown {', '.join(unknown)}; known: {', '.join(REFERENCE_NAMES)}"
            )

    def learner_hyper(self, cfg: Any) -> dict[str, Any]:
        hyper = super().learner_hyper(cfg)
        # A cosine decay of the step size over the run's updates, unless the config sets one.
        hyper.setdefault("decay_updates", cfg.train.total_steps // cfg.env.num_envs)
        return hyper

    def labels_used(self, cfg: Any) -> int:
        return 0  # the clean phantoms come from the data, not from annotators

    def scans(self, cfg: Any, part: str) -> tuple[np.ndarray, np.ndarray]:
        """The part's noisy scans (as the env serves them: drawn once per split) and clean
        phantoms, (N, H, W) each."""
        feed = self.make_vector_env(cfg, part, 1).feed
        everything = np.arange(feed.size)
        noisy = feed.observe(everything, np.random.default_rng(0))
        return noisy[:, 0], feed.x.reshape(noisy.shape)[:, 0]

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:
        noisy, clean = self.scans(cfg, "test")
        denoised = np.asarray(agent.act_batch(noisy[:, None], None, True))[:, 0]
        metrics = {
            "psnr": mean_psnr(clean, denoised),
            "ssim": mean_ssim(clean, denoised),
            "mse": float(np.mean((denoised - clean) ** 2)),
            "labels_used": float(self.labels_used(cfg)),
        }
        notes = [
            f"env {self.env_id}, dataset phantoms, {self.noise_words(cfg)}, learner "
            f"{self.algorithm(cfg)} ({cfg.learner.arch}, width {cfg.learner.width})",
            f"test part: {len(clean)} phantoms never served in training, each with one noisy "
            "scan drawn once for the split; every method denoises those same scans",
        ]
        tables: dict[str, list[dict[str, Any]]] = {}
        references: list[dict[str, Any]] = []
        classical: list[dict[str, Any]] = []
        if cfg.eval.baselines:
            references = self.references(cfg, (noisy, clean))
            tables["baselines"] = [
                {"model": "learnloop U-Net (this run)", "strength (x sigma)": "", "val_psnr": "",
                 "psnr": metrics["psnr"], "ssim": metrics["ssim"]},
                *references,
            ]  # fmt: skip
            for row in references:
                name = row["model"].replace(" ", "_")
                metrics[f"baseline/{name}/psnr"] = row["psnr"]
                metrics[f"baseline/{name}/ssim"] = row["ssim"]
            classical = [row for row in references if row["model"] != "noisy input"]
            if classical:
                best = max(classical, key=lambda row: row["psnr"])
                metrics["psnr_gain_over_best_reference"] = metrics["psnr"] - best["psnr"]
                notes.append(
                    f"best classical reference: {best['model']} at {best['psnr']:.2f} dB; "
                    f"the U-Net is {metrics['psnr_gain_over_best_reference']:+.2f} dB from it"
                )
        images = []
        if run is not None:
            count = min(cfg.eval.strip_images, len(clean))
            columns = [("noisy", np.clip(noisy[:count], 0.0, 1.0)), ("U-Net", denoised[:count])]
            if classical:
                columns.append((best["model"], self.reference_images(cfg, best, noisy[:count])))
            columns.append(("clean", clean[:count]))
            run.eval_dir.mkdir(parents=True, exist_ok=True)
            draw_strip(columns, clean[:count], run.eval_dir / STRIP_FILE)
            words = ", ".join(name for name, _ in columns)
            images.append((f"Test scans, left to right: {words}", f"eval/{STRIP_FILE}"))
        return EvalResult(metrics=metrics, tables=tables, notes=notes, images=images)

    def noise_words(self, cfg: Any) -> str:
        """The corruption, in words."""
        if cfg.env.corruption == "poisson":
            return f"Poisson noise at dose {cfg.env.dose:g}"
        return f"Gaussian noise sigma {cfg.env.noise_std:g}"

    def corruption(self, cfg: Any) -> Any:
        return Corruption(cfg.env.corruption, cfg.env.noise_std, cfg.env.dose)

    def reference_images(self, cfg: Any, row: dict[str, Any], noisy: np.ndarray) -> np.ndarray:
        """``noisy`` scans denoised by the reference of ``row``, at its tuned strength."""
        (reference,) = [r for r in REFERENCES if r.name == row["model"]]
        return self.corruption(cfg).run(reference, noisy, row["strength (x sigma)"])

    def references(
        self, cfg: Any, test: tuple[np.ndarray, np.ndarray] | None = None
    ) -> list[dict[str, Any]]:
        """The classical denoisers, tuned on the val scans, scored on the test scans (``test``:
        the test part's (noisy, clean) scans when the caller holds them already)."""
        return denoise_references(
            self.corruption(cfg),
            cfg.eval.references,
            self.scans(cfg, "val"),
            test or self.scans(cfg, "test"),
            progress=lambda name: print(f"reference: {name}", flush=True),
        )


def draw_strip(columns: list[tuple[str, np.ndarray]], clean: np.ndarray, path: Any) -> None:
    """One row per phantom, one column per named image stack (with each image's PSNR)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count, width = len(clean), len(columns)
    figure, axes = plt.subplots(count, width, figsize=(2.2 * width, 2.3 * count), squeeze=False)
    for row in range(count):
        for axis, (name, images) in zip(axes[row], columns, strict=True):
            score = mean_psnr(clean[row : row + 1], images[row : row + 1])
            axis.imshow(images[row], cmap="gray", vmin=0.0, vmax=1.0)
            axis.set_title(name if name == "clean" else f"{name} {score:.1f} dB", fontsize=8)
            axis.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
