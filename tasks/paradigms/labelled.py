"""The paradigm tasks: one dataset split, envs that differ in feedback, learners that use it.

``digits_supervised``, ``digits_bandit`` (reward only), ``digits_semi``, ``digits_selfsup``,
``digits_cluster``, ``digits_anomaly`` and ``diabetes_regression``. Each trains either one of
learnloop's torch learners (``backend=learnloop``, the default, whose algorithms are the
learners: ``learner.name`` on the batched env, model selection as ``ParadigmTask.selects``) or an RL
algorithm on the single env (``backend=sb3 algo.name=ppo``), and evaluates on the test part,
which training never sees. ``tasks.paradigms.suite`` runs them all and compares.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from agents.backends import BACKENDS
from agents.learners import LEARNERS
from tasks.config import ConfigError, EvalConfig, TaskConfig, TrainConfig, describe, section
from tasks.runner.base import EvalResult, Task

# Learners that learn from info labels or targets: they need env.feedback=label.
NEEDS_LABELS = ("supervised", "semi", "autoencoder")


@dataclass
class DataEnvConfig:
    """The data and the feedback the env gives (see envs/paradigms)."""

    dataset: str = describe(
        "Dataset.",
        "digits",
        choices=("digits", "iris", "wine", "breast_cancer", "diabetes", "mnist", "fashion_mnist"),
    )
    data_dir: str = describe(
        "Folder with MNIST / Fashion-MNIST IDX files (other datasets ship with scikit-learn).", ""
    )
    split_seed: int = describe("Seed of the train/val/test split and the labelled pool.", 0, min=0)
    label_fraction: float = describe(
        "Share of training samples whose feedback reaches the agent.", 1.0, min=0.0, max=1.0
    )
    feedback: str = describe(
        "What labelled samples give: the label (and reward), the reward only, or nothing.",
        "label",
        choices=("label", "reward", "none"),
    )
    obs_format: str = describe(
        "'image' (C, H, W), 'flat' (D,) or 'auto' (image for image datasets).",
        "auto",
        choices=("auto", "image", "flat"),
    )
    num_envs: int = describe(
        "Samples per step of the batched env (backend=learnloop).", 64, min=1, max=65536
    )
    episode_length: int = describe("Steps per training episode.", 100, min=1)


@dataclass
class LearnerConfig:
    """learnloop's own learner (backend=learnloop)."""

    name: str = describe("Learner.", "supervised", choices=tuple(LEARNERS))
    arch: str = describe(
        "Network: 'cnn' for images, 'mlp', 'linear' (no hidden layer), 'auto', or 'unet' "
        "(learner.name=autoencoder on images: an image-to-image denoiser).",
        "auto",
        choices=("auto", "cnn", "mlp", "linear", "unet"),
    )
    width: int = describe("Feature width of the encoder.", 128, min=1)
    learning_rate: float = describe("Adam step size (0: the learner's default).", 0.0, min=0.0)
    kwargs: dict[str, Any] = describe(
        "Other learner hyperparameters, passed as they are.", factory=dict
    )


@dataclass
class ParadigmEvalConfig(EvalConfig):
    """Evaluation on the test part, and validation (early stopping) during training."""

    every: int = describe(
        "Validate every this many env steps (0: off; backend=learnloop keeps the best weights).",
        2_000,
        min=0,
    )
    patience: int = describe(
        "Stop after this many validations without improvement (0: never).", 0, min=0
    )
    baselines: bool = describe("Also fit scikit-learn reference models on the same split.", True)
    num_envs: int = describe("Samples per step when scoring a part.", 256, min=1)


def train_budget(total_steps: int) -> TrainConfig:
    """A training section with the given budget (tasks differ in how long they need)."""
    return TrainConfig(total_steps=total_steps, checkpoint_every=10_000)


@dataclass
class ParadigmConfig(TaskConfig):
    """Config shared by the paradigm tasks."""

    backend: str = describe(
        "'learnloop' (its torch learners: learner.name) or an RL backend (sb3: algo.name).",
        "learnloop",
        choices=tuple(BACKENDS),
    )
    env: DataEnvConfig = section(DataEnvConfig, "The env.")
    learner: LearnerConfig = section(LearnerConfig, "learnloop's learner (backend=learnloop).")
    eval: ParadigmEvalConfig = section(ParadigmEvalConfig, "Evaluation and validation.")
    train: TrainConfig = section(lambda: train_budget(30_000), "Training budget and checkpoints.")

    def trains_learner(self) -> bool:
        """Whether the backend's algorithms (in the registry) include ``learner.name``: then the
        learner trains, else the RL algorithm ``algo.name``."""
        return self.learner.name in BACKENDS[self.backend].algorithms

    def algorithm(self) -> str:
        """The algorithm this config trains, as the backend registry names it."""
        return self.learner.name if self.trains_learner() else self.algo.name


class ParadigmTask(Task):
    """A paradigm env + a learner; subclasses name the env, the learner and the metrics."""

    env_id = ""
    config_cls = ParadigmConfig
    monitor = "accuracy"  # the validation metric early stopping follows
    monitor_mode = "max"
    monitor_needs_labels = True  # whether ``monitor`` reads the val part's labels
    headline = "eval_periodic/val_accuracy"
    curves = ("charts/reward",)

    # -- envs -----------------------------------------------------------------------------------

    def env_kwargs(self, cfg: Any, part: str) -> dict[str, Any]:
        """Arguments of the env on ``part`` ('train', 'val' or 'test')."""
        kwargs = dataclasses.asdict(cfg.env)
        kwargs.pop("num_envs")
        kwargs["data_dir"] = kwargs["data_dir"] or None
        kwargs["part"] = part
        if part != "train":
            kwargs.pop("episode_length")  # scoring parts: one episode is one pass
        return kwargs

    def make_env(self, cfg: Any, index: int) -> Any:
        import gymnasium

        import envs  # noqa: F401  (registers the ids)

        return gymnasium.make(self.env_id, **self.env_kwargs(cfg, "train"))

    def make_vector_env(self, cfg: Any, part: str, num_envs: int) -> Any:
        """The batched env on ``part``."""
        import gymnasium

        import envs  # noqa: F401

        return gymnasium.make_vec(
            self.env_id,
            num_envs=num_envs,
            vectorization_mode="vector_entry_point",
            **self.env_kwargs(cfg, part),
        )

    # -- training -------------------------------------------------------------------------------

    def continuous_actions(self, cfg: Any) -> str | None:
        """Why the env's actions are continuous, in words (None: they are discrete)."""
        return None

    def validate(self, cfg: Any) -> None:
        why = self.continuous_actions(cfg)
        if cfg.algorithm() in ("dqn", "qrdqn") and why:  # whatever the backend
            raise ConfigError(f"algo.name={cfg.algorithm()} needs discrete actions; {why}")

    def algorithm_settings(self, cfg: Any) -> Any:
        """What learnloop's backend needs when the learner trains (None for an RL algorithm):
        the learner, the batched env on the training part, early stopping on the validation
        part."""
        if not cfg.trains_learner():
            return None
        from agents.learners.backend import EarlyStopping, LearnerSettings

        stopping = None
        if self.early_stops(cfg):
            stopping = EarlyStopping(
                lambda learner: self.score(cfg, learner, "val"),
                self.monitor, cfg.eval.every, cfg.eval.patience, self.monitor_mode,
            )  # fmt: skip
        return LearnerSettings(
            functools.partial(self.make_learner, cfg),
            lambda seed: self.make_vector_env(cfg, "train", cfg.env.num_envs),
            stopping,
        )

    def learner_hyper(self, cfg: Any) -> dict[str, Any]:
        """Hyperparameters for the learner from the config."""
        hyper = {"arch": cfg.learner.arch, "width": cfg.learner.width, **cfg.learner.kwargs}
        if cfg.learner.learning_rate:
            hyper["learning_rate"] = cfg.learner.learning_rate
        return hyper

    def make_learner(
        self, cfg: Any, obs_space: Any, action_space: Any, seed: int, device: str
    ) -> Any:
        """The configured learner, after checking that the env feeds what it needs."""
        from agents.learners import learner_class

        name = cfg.learner.name
        if name in NEEDS_LABELS and cfg.env.feedback != "label":
            raise ConfigError(
                f"learner.name={name} learns from labels, but env.feedback={cfg.env.feedback}"
            )
        if name == "reward" and cfg.env.feedback == "none":
            raise ConfigError("learner.name=reward needs rewards, but env.feedback=none")
        try:
            return learner_class(name)(
                obs_space, action_space, seed, device, **self.learner_hyper(cfg)
            )
        except (TypeError, ValueError) as error:
            raise ConfigError(f"learner: {error}") from None

    def selects(self, cfg: Any) -> bool:
        """Whether a learner picks its weights on the validation part (early stopping on
        ``monitor``): only when the criterion needs no labels or the member has labels to hold
        out. Otherwise (reward only, no feedback) it keeps the weights of its whole budget and
        the validation curves are for the reader only."""
        return not self.monitor_needs_labels or cfg.env.feedback == "label"

    def early_stops(self, cfg: Any) -> bool:
        """Whether this config's learner validates and keeps its best weights on the val part."""
        return bool(cfg.eval.every) and cfg.trains_learner() and self.selects(cfg)

    def selection(self, cfg: Any) -> str:
        """How the evaluated weights were chosen, in words (for the report)."""
        if not self.early_stops(cfg):
            return "whole budget"
        if not self.monitor_needs_labels:
            return f"best val {self.monitor} (no labels)"
        return f"best val {self.monitor} ({self.validation_labels(cfg)} labels)"

    def validation_labels(self, cfg: Any) -> int:
        """Labels of the val part a learner's model selection reads (the env serves a learner
        with ``label_fraction`` < 1 that share of the val part)."""
        if not self.early_stops(cfg) or not self.monitor_needs_labels:
            return 0
        return served_labels(cfg.env, "val", cfg.env.label_fraction)

    def periodic(self, cfg: Any, run: Any) -> list[Any]:
        """Validation curves for an RL algorithm, or for a learner that does not select on them
        (a learner that selects validates itself: its early stopping logs the same curves and
        keeps the best weights)."""
        if not cfg.eval.every or self.early_stops(cfg):
            return []
        from agents.base import Periodic

        def validate(step: int, agent: Any) -> dict[str, float]:
            return {f"eval_periodic/val_{k}": v for k, v in self.score(cfg, agent, "val").items()}

        return [Periodic(cfg.eval.every, validate)]

    # -- evaluation -----------------------------------------------------------------------------

    def score(self, cfg: Any, agent: Any, part: str) -> dict[str, float]:
        """One pass over ``part`` with greedy actions; the env's summary of it."""
        env = self.make_vector_env(cfg, part, cfg.eval.num_envs)
        obs, _ = env.reset(seed=cfg.seed)
        while True:
            obs, _, terminated, _, info = env.step(agent.act_batch(obs, None, True))
            if terminated[0]:
                env.close()
                return dict(info["summary"])

    def labels_used(self, cfg: Any) -> int:
        """Distinct samples whose label can reach the agent: its training labels and the
        validation labels its model selection reads."""
        if cfg.env.feedback != "label":
            return 0
        return served_labels(cfg.env, "train", cfg.env.label_fraction) + self.validation_labels(cfg)

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:
        summary = self.score(cfg, agent, "test")
        metrics = self.test_metrics(cfg, agent, summary)
        metrics["labels_used"] = float(self.labels_used(cfg))
        notes = [
            f"env {self.env_id}, feedback {cfg.env.feedback!r}, label_fraction {cfg.env.label_fraction:g}, "
            f"learner {self.algorithm(cfg)} ({cfg.backend})",
            f"test part: {int(summary['samples'])} samples never served in training",
        ]
        tables = {}
        if cfg.eval.baselines:
            tables["baselines"] = self.baselines(cfg)
        return EvalResult(metrics=metrics, tables=tables, notes=notes)

    def test_metrics(self, cfg: Any, agent: Any, summary: dict[str, float]) -> dict[str, float]:
        """results.json metrics from the test pass."""
        return {"test_accuracy": summary["accuracy"]}

    def baselines(self, cfg: Any) -> list[dict[str, Any]]:
        """Reference scikit-learn models fitted on the same split (rows of a table)."""
        return []


def served_labels(env: Any, part: str, label_fraction: float) -> int:
    """Labelled samples of ``part`` at ``label_fraction`` (the whole val part at 0 or 1,
    as the env serves it)."""
    from envs.paradigms.datasets import get_split

    split = get_split(env.dataset, env.split_seed, data_dir=env.data_dir or None)
    if part == "val" and not 0.0 < label_fraction < 1.0:
        return len(split.part_indices("val"))
    return int(split.labelled_mask(label_fraction, part).sum())


def _env(**values: Any) -> Any:
    return lambda: DataEnvConfig(**values)


# -- classification on digits -------------------------------------------------------------------


class ClassifyTask(ParadigmTask):
    """A task on ``learnloop/Classify-v0``, with scikit-learn classifiers as references."""

    env_id = "learnloop/Classify-v0"

    def baselines(self, cfg: Any) -> list[dict[str, Any]]:
        from tasks.paradigms.baselines import classification_baselines

        return classification_baselines(cfg)


@dataclass
class DigitsSupervisedConfig(ParadigmConfig):
    """Config of digits_supervised."""

    train: TrainConfig = section(lambda: train_budget(20_000), "Training budget and checkpoints.")


class DigitsSupervisedTask(ClassifyTask):
    """Supervised: every training sample comes with its label in ``info``."""

    name = "digits_supervised"
    config_cls = DigitsSupervisedConfig


@dataclass
class DigitsBanditConfig(ParadigmConfig):
    """Config of digits_bandit."""

    env: DataEnvConfig = section(_env(feedback="reward"), "The env.")
    learner: LearnerConfig = section(lambda: LearnerConfig(name="reward"), "learnloop's learner.")


class DigitsBanditTask(ClassifyTask):
    """Reward only: 1 for the right class, 0 otherwise; never a label."""

    name = "digits_bandit"
    config_cls = DigitsBanditConfig

    def learner_hyper(self, cfg: Any) -> dict[str, Any]:
        hyper = super().learner_hyper(cfg)
        if cfg.learner.name == "reward":  # anneal the step size to 0 over the run's budget
            hyper.setdefault("decay_steps", cfg.train.total_steps)
        return hyper


@dataclass
class DigitsSemiConfig(ParadigmConfig):
    """Config of digits_semi."""

    env: DataEnvConfig = section(_env(label_fraction=0.1), "The env.")
    learner: LearnerConfig = section(lambda: LearnerConfig(name="semi"), "learnloop's learner.")


class DigitsSemiTask(ClassifyTask):
    """Semi-supervised: labels for 10% of the samples, the rest unlabelled."""

    name = "digits_semi"
    config_cls = DigitsSemiConfig


# -- regression -------------------------------------------------------------------------------


@dataclass
class RegressEnvConfig(DataEnvConfig):
    """The regression env."""

    dataset: str = describe("Dataset (a regression one).", "diabetes", choices=("diabetes",))
    action_bound: float = describe(
        "Largest prediction, in standardised target units.", 5.0, min=0.0
    )
    action_bins: int = describe(
        "0: continuous predictions; N >= 2: N evenly spaced ones (for DQN).", 0, min=0
    )


@dataclass
class DiabetesRegressionConfig(ParadigmConfig):
    """Config of diabetes_regression."""

    env: RegressEnvConfig = section(lambda: RegressEnvConfig(num_envs=16), "The env.")
    learner: LearnerConfig = section(lambda: LearnerConfig(arch="linear"), "learnloop's learner.")
    train: TrainConfig = section(lambda: train_budget(20_000), "Training budget and checkpoints.")


class DiabetesRegressionTask(ParadigmTask):
    """Regression on diabetes: from the target (MSE) or from the reward -(a - y)^2 alone."""

    name = "diabetes_regression"
    env_id = "learnloop/Regress-v0"
    config_cls = DiabetesRegressionConfig
    monitor = "r2"
    headline = "eval_periodic/val_r2"

    def continuous_actions(self, cfg: Any) -> str | None:
        if cfg.env.action_bins:
            return None
        return "predictions are continuous: set env.action_bins (e.g. 41)"

    def learner_hyper(self, cfg: Any) -> dict[str, Any]:
        hyper = super().learner_hyper(cfg)
        if cfg.learner.name == "reward":
            hyper.setdefault("decay_steps", cfg.train.total_steps)
        return hyper

    def test_metrics(self, cfg: Any, agent: Any, summary: dict[str, float]) -> dict[str, float]:
        return {"r2": summary["r2"], "mse": summary["mse"]}

    def baselines(self, cfg: Any) -> list[dict[str, Any]]:
        from tasks.paradigms.baselines import regression_baselines

        return regression_baselines(cfg)
