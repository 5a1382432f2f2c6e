"""``fraud_detection``: score a card-transaction stream; the bank investigates the top cards.

The env is ``learnloop/Fraud-v0`` (the Fraud Detection Handbook's simulator, its features, its
feedback delay and its card precision@100). learnloop's ``fraud`` learner trains on the
training part (the handbook's training week and the delay week after it) from the labels that
arrive, its own investigations at once and the rest a week late, then scores the test week,
where it keeps learning from what arrives (``eval.online``; the frozen learner is reported too).
The handbook's baselines are fitted on the training week's labels as the same stream delivered
them and scored on the same test week by the same env. The world is generated from
``env.world_seed`` (-1: the run's seed): tune on some seeds, report on others.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

from agents.baselines.fraud import BASELINES
from tasks.config import ConfigError, TaskConfig, TrainConfig, describe, section
from tasks.runner.base import EvalResult, Task

DAILY_PLOT = "daily_card_precision.png"
ENV_ID = "learnloop/Fraud-v0"


@dataclass
class FraudEnvConfig:
    """The simulated world and the bank (see envs/paradigms/fraud.py)."""

    world_seed: int = describe(
        "Seed of the world (customers, terminals, frauds); -1: the run's seed.", -1, min=-1
    )
    daily_budget: int = describe(
        "Cards investigated a day (the k of card precision@k).", 100, min=1
    )
    history_days: int = describe("Days simulated before the stream (feature windows).", 40, min=0)
    train_days: int = describe("Days whose labels train the baselines (the handbook: 7).", 7, min=1)
    delay_days: int = describe("Feedback delay in days (the handbook: 7).", 7, min=0)
    test_days: int = describe("Held-out days scored at the end (the handbook: 7).", 7, min=1)
    n_customers: int = describe("Customers (cards).", 5_000, min=1)
    n_terminals: int = describe("Terminals.", 10_000, min=1)
    num_envs: int = describe("Transactions per step of the batched env.", 1024, min=1, max=65536)


@dataclass
class FraudLearnerConfig:
    """learnloop's fraud learner (agents/learners/fraud.py)."""

    name: str = describe("Learner.", "fraud", choices=("fraud",))
    width: int = describe("Hidden width of the MLP.", 64, min=1)
    learning_rate: float = describe("Adam step size.", 1e-3, min=0.0)
    updates_per_step: int = describe("Gradient steps per env step (of num_envs).", 8, min=0)
    kwargs: dict[str, Any] = describe("Other learner hyperparameters, as they are.", factory=dict)


@dataclass
class FraudEvalConfig:
    """The test week: the learner, the baselines, the plot (no episodes or periodic
    evaluation: one pass over the test week is the evaluation)."""

    online: bool = describe(
        "The learner keeps learning on the test week from the labels that arrive.", True
    )
    baselines: list[str] = describe(
        "Baselines to fit and score (agents/baselines/fraud.py BASELINES); [] for none.",
        factory=lambda: list(BASELINES),
    )
    num_envs: int = describe("Transactions per step when scoring.", 4096, min=1)


@dataclass
class FraudDetectionConfig(TaskConfig):
    """Config of fraud_detection."""

    backend: str = describe("Training backend (learnloop's learners).", "learnloop",
                            choices=("learnloop",))  # fmt: skip
    env: FraudEnvConfig = section(FraudEnvConfig, "The env.")
    learner: FraudLearnerConfig = section(FraudLearnerConfig, "learnloop's learner.")
    eval: FraudEvalConfig = section(FraudEvalConfig, "Evaluation on the test week.")
    train: TrainConfig = section(
        lambda: TrainConfig(total_steps=420_000, checkpoint_every=200_000),
        "Training budget (env steps = transactions; ~137k a pass over the training part).",
    )

    def algorithm(self) -> str:
        return self.learner.name


class FraudDetectionTask(Task):
    """Card fraud as an agent-environment loop; card precision@k on held-out days."""

    name = "fraud_detection"
    config_cls = FraudDetectionConfig
    headline = "charts/reward"
    curves = ("charts/reward", "losses/classifier")

    def validate(self, cfg: Any) -> None:
        unknown = [name for name in cfg.eval.baselines if name not in BASELINES]
        if unknown:
            raise ConfigError(
                f"eval.baselines: unknown baseline {unknown[0]!r}; known: {', '.join(BASELINES)}"
            )

    def env_kwargs(self, cfg: Any, part: str) -> dict[str, Any]:
        """Arguments of Fraud-v0 on ``part`` ("train" or "test")."""
        kwargs = dataclasses.asdict(cfg.env)
        kwargs.pop("num_envs")
        if kwargs["world_seed"] < 0:
            kwargs["world_seed"] = cfg.seed
        return {**kwargs, "part": part}

    def make_env(self, cfg: Any, index: int) -> Any:
        import gymnasium

        import envs  # noqa: F401  (registers the ids)

        return gymnasium.make(ENV_ID, **self.env_kwargs(cfg, "train"))

    def make_vector_env(self, cfg: Any, part: str, num_envs: int) -> Any:
        """The batched env (``num_envs`` transactions a step) on ``part``."""
        from envs.paradigms.fraud import FraudVectorEnv

        try:
            return FraudVectorEnv(num_envs, **self.env_kwargs(cfg, part))
        except ValueError as error:
            raise ConfigError(f"env: {error}") from None

    def algorithm_settings(self, cfg: Any) -> Any:
        from agents.learners.backend import LearnerSettings

        return LearnerSettings(
            lambda obs_space, action_space, seed, device: self.make_learner(
                cfg, obs_space, action_space, seed, device
            ),
            lambda seed: self.make_vector_env(cfg, "train", cfg.env.num_envs),
        )

    def make_learner(
        self, cfg: Any, obs_space: Any, action_space: Any, seed: int, device: str
    ) -> Any:
        from agents.learners import learner_class

        hyper = {
            "width": cfg.learner.width, "learning_rate": cfg.learner.learning_rate,
            "updates_per_step": cfg.learner.updates_per_step, **cfg.learner.kwargs,
        }  # fmt: skip
        try:
            return learner_class(cfg.learner.name)(obs_space, action_space, seed, device, **hyper)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"learner: {error}") from None

    # -- evaluation -----------------------------------------------------------------------------

    def score(self, cfg: Any, agent: Any, learn: bool) -> tuple[dict[str, float], list[float]]:
        """One pass over the test week with ``agent``'s scores (learning from what arrives
        when ``learn``); the env's summary and the daily card precisions."""
        env = self.make_vector_env(cfg, "test", cfg.eval.num_envs)
        obs, _ = env.reset(seed=cfg.seed)
        daily: list[float] = []
        while True:
            actions = agent.act_batch(obs, None, True)
            next_obs, rewards, terminated, _, info = env.step(actions)
            if learn:
                agent.observe(obs, actions, rewards, info)
            daily += [day["card_precision"] for day in info.get("days", [])]
            obs = next_obs
            if terminated[0]:
                return info["summary"], daily

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:
        k = cfg.env.daily_budget
        # Counted before the test week, where an online learner receives more.
        labels_in_training, investigated = agent.labels_seen(), agent.labels_received()
        frozen, frozen_daily = self.score(cfg, copy.deepcopy(agent), learn=False)
        summary, daily = (
            self.score(cfg, agent, learn=cfg.eval.online)
            if cfg.eval.online
            else (frozen, frozen_daily)
        )
        metrics = named_metrics(summary, k)
        metrics.update({f"frozen/{m}": v for m, v in named_metrics(frozen, k).items()})
        metrics["investigations"] = float(investigated)
        metrics["labels_used"] = float(labels_in_training)
        curves = {"agent": daily}
        rows = []
        if cfg.eval.baselines:
            from tasks.paradigms.fraud_baselines import run_baselines

            rows, baseline_daily = run_baselines(self, cfg)
            curves.update(baseline_daily)
            for row in rows:
                for metric in (f"card_precision_at_{k}", "roc_auc", "average_precision"):
                    metrics[f"baseline/{row['model']}/{metric}"] = row[metric]
                metrics[f"baseline/{row['model']}/labels_used"] = float(row["training labels"])
        world = self.env_kwargs(cfg, "test")["world_seed"]
        notes = [
            f"env {ENV_ID}, world seed {world}: {int(summary['transactions'])} test-week "
            f"transactions of open cards ({summary['fraud_share']:.2%} fraudulent), never "
            "served in training",
            f"learner {cfg.learner.name}: {int(metrics['labels_used'])} distinct labels in "
            f"training, {int(metrics['investigations'])} of them from its own investigations"
            + (", and it kept learning on the test week" if cfg.eval.online else ""),
        ]
        from tasks.paradigms.fraud_baselines import handbook_rows, plot_daily

        plot_daily(run.eval_dir / DAILY_PLOT, curves, k)
        notes.append(f"![{DAILY_PLOT}](eval/{DAILY_PLOT})")
        tables = {"baselines": rows, "handbook": handbook_rows(rows, k)} if rows else {}
        return EvalResult(metrics=metrics, tables=tables, notes=notes)


def named_metrics(summary: dict[str, float], k: int) -> dict[str, float]:
    """results.json names of an env summary's scores."""
    return {
        f"card_precision_at_{k}": summary["card_precision"],
        "roc_auc": summary["roc_auc"],
        "average_precision": summary["average_precision"],
    }
