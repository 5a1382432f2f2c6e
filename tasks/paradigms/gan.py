"""``digits_gan``: a semi-supervised GAN as a two-player loop on a few labelled digits.

The training env (``envs.paradigms.adversarial``) serves the discriminator-classifier a
training digit (with its label if it is in the labelled pool) and the generator's sample from
the previous step, scores its class and its judgement of both, and takes the generator's next
samples. The learner (``agents.learners.gan``) holds both players; feature matching couples
them directly, since the generator learns through the discriminator's gradients. Evaluation
and validation are ``digits_semi``'s: the discriminator classifies ``learnloop/Classify-v0``'s
val and test parts, and the labels counted are the same (training pool plus validation share).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tasks.config import ConfigError, TrainConfig, describe, section
from tasks.paradigms.labelled import (
    ClassifyTask,
    DataEnvConfig,
    LearnerConfig,
    ParadigmConfig,
    ParadigmEvalConfig,
)
from tasks.runner.base import EvalResult

SAMPLES_DIR = "samples"  # in the run folder: one grid of generated digits per drawing
FINAL_GRID = "generated.png"  # in eval/: the evaluated generator's grid
IMAGE_DATASETS = ("digits", "mnist", "fashion_mnist")


@dataclass
class GanEvalConfig(ParadigmEvalConfig):
    """Evaluation, validation, and the grids of generated digits."""

    every: int = describe(
        "Validate every this many env steps (0: off; the best weights on val are kept).",
        16_000,
        min=0,
    )
    samples_every: int = describe(
        "Draw a grid of generated digits into samples/ and TensorBoard every this many env "
        "steps (0: only the evaluated generator's, in eval/).",
        64_000,
        min=0,
    )
    grid: int = describe("Digits per side of a grid.", 8, min=1, max=32)


@dataclass
class DigitsGanConfig(ParadigmConfig):
    """Config of digits_gan."""

    env: DataEnvConfig = section(lambda: DataEnvConfig(label_fraction=0.1), "The env.")
    learner: LearnerConfig = section(
        lambda: LearnerConfig(name="gan", width=256), "learnloop's learner."
    )
    eval: GanEvalConfig = section(GanEvalConfig, "Evaluation, validation and sample grids.")
    train: TrainConfig = section(
        lambda: TrainConfig(total_steps=512_000, checkpoint_every=64_000),
        "Training budget and checkpoints.",
    )


class DigitsGanTask(ClassifyTask):
    """Semi-supervised GAN: a generator and a discriminator-classifier on a few labels."""

    name = "digits_gan"
    config_cls = DigitsGanConfig
    curves = ("charts/reward", "charts/judged_right", "charts/fooled")

    def validate(self, cfg: Any) -> None:
        super().validate(cfg)
        if not cfg.trains_learner() or cfg.learner.name != "gan":
            raise ConfigError(
                "digits_gan trains the gan learner on learnloop's backend: "
                f"got backend={cfg.backend}, learner.name={cfg.learner.name} "
                "(for other learners on the same split see digits_semi)"
            )
        if cfg.env.feedback != "label":
            raise ConfigError(f"digits_gan learns from labels, but env.feedback={cfg.env.feedback}")
        if cfg.env.dataset not in IMAGE_DATASETS or cfg.env.obs_format == "flat":
            raise ConfigError(
                f"digits_gan generates images: env.dataset must be one of {IMAGE_DATASETS} and "
                f"env.obs_format not 'flat', got {cfg.env.dataset!r}, {cfg.env.obs_format!r}"
            )
        if not 0.0 < cfg.env.label_fraction < 1.0:
            raise ConfigError(
                "digits_gan is semi-supervised: env.label_fraction must be between 0 and 1 "
                f"(exclusive), got {cfg.env.label_fraction:g}"
            )

    def learner_hyper(self, cfg: Any) -> dict[str, Any]:
        hyper = super().learner_hyper(cfg)
        # Anneal the step sizes over the run's budget (one update per env step of num_envs).
        hyper.setdefault("decay_updates", cfg.train.total_steps // cfg.env.num_envs)
        return hyper

    # -- envs: the adversarial env trains, Classify-v0 scores ---------------------------------

    def make_env(self, cfg: Any, index: int) -> Any:
        from envs.paradigms.adversarial import AdversarialEnv

        return AdversarialEnv(**self.env_kwargs(cfg, "train"))

    def make_vector_env(self, cfg: Any, part: str, num_envs: int) -> Any:
        if part != "train":
            return super().make_vector_env(cfg, part, num_envs)
        from envs.paradigms.adversarial import AdversarialVectorEnv

        return AdversarialVectorEnv(num_envs=num_envs, **self.env_kwargs(cfg, "train"))

    # -- pictures of the generator ------------------------------------------------------------

    def periodic(self, cfg: Any, run: Any) -> list[Any]:
        hooks = super().periodic(cfg, run)
        if not cfg.eval.samples_every or run is None:  # no run folder (a paradigms member)
            return hooks
        from agents.base import Periodic

        def draw(step: int, agent: Any) -> dict[str, float]:
            path = run.path / SAMPLES_DIR / f"step_{step:08d}.png"
            save_grid(agent, cfg.eval.grid, path, run.tb_dir, step)
            return {}

        return [*hooks, Periodic(cfg.eval.samples_every, draw)]

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:
        result = super().evaluate(cfg, agent, run)
        path = run.eval_dir / FINAL_GRID
        save_grid(agent, cfg.eval.grid, path, run.tb_dir, int(getattr(agent, "updates", 0)))
        caption = f"Generated digits (the evaluated generator, {cfg.eval.grid**2} samples)"
        result.images.append((caption, f"eval/{FINAL_GRID}"))
        result.notes.append(
            "two players in one loop: the env serves the discriminator real and generated digits "
            "and takes the generator's samples as its action; feature matching trains the "
            "generator through the discriminator's gradients, so the learner couples the two "
            "networks directly there"
        )
        if cfg.eval.samples_every:
            result.notes.append(
                f"grids over training: {SAMPLES_DIR}/step_*.png (TensorBoard: samples/generated)"
            )
        return result


def digit_grid(samples: np.ndarray, side: int) -> np.ndarray:
    """``side`` x ``side`` images (N, 1, H, W) tiled into one (H', W') picture with 1-px gaps."""
    count, _, height, width = samples.shape
    if count < side * side:
        raise ValueError(f"a {side}x{side} grid needs {side * side} samples, got {count}")
    picture = np.ones((side * (height + 1) + 1, side * (width + 1) + 1), dtype=np.float32)
    for index in range(side * side):
        row, col = divmod(index, side)
        top, left = 1 + row * (height + 1), 1 + col * (width + 1)
        picture[top : top + height, left : left + width] = 1.0 - samples[index, 0]
    return picture  # dark ink on white, as the digits are drawn


def save_grid(agent: Any, side: int, path: Path, tb_dir: Path, step: int) -> None:
    """Write a grid of the agent's generated digits as a PNG and as a TensorBoard image."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from torch.utils.tensorboard import SummaryWriter

    picture = digit_grid(agent.generate(side * side).cpu().numpy(), side)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Nearest-neighbour upscaling so each 8x8 digit stays crisp in a report.
    plt.imsave(path, np.kron(picture, np.ones((8, 8))), cmap="gray", vmin=0.0, vmax=1.0)
    # The runner's logger holds scalars only; a second event file in the same folder adds the
    # image to the same TensorBoard run.
    with SummaryWriter(log_dir=str(tb_dir), filename_suffix=".samples") as writer:
        writer.add_image("samples/generated", picture[None], global_step=step, dataformats="CHW")
