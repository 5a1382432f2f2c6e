"""Every task by name, with a one-line description, without importing any of them.

``--list`` reads this table only, so it answers before torch, SB3 or Ray are imported. Each
entry points at ``module:Class``; the module is imported when the task runs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tasks.runner.base import Task


@dataclass(frozen=True)
class TaskEntry:
    """Where a task lives and what it does."""

    target: str
    description: str


TASKS: dict[str, TaskEntry] = {
    "go_small": TaskEntry(
        "tasks.boardgames.go:GoSmallTask",
        "Self-play Go on 7x7 (komi 9), AlphaZero by default; against random, a heuristic, "
        "GNU Go and the RAVE search",
    ),
    "gym": TaskEntry(
        "tasks.gym_env:GymTask",
        "Any registered Gymnasium id (env.id=...), as RL Zoo's --env; against a random policy",
    ),
    "cartpole": TaskEntry(
        "tasks.cartpole:CartPoleTask",
        "PPO on CartPole-v1; the smallest loop, evaluated against a random policy",
    ),
    "tictactoe": TaskEntry(
        "tasks.boardgames.classic:TicTacToeTask",
        "Self-play on tic-tac-toe (MaskablePPO, or algo.name=alphazero), against random and "
        "perfect minimax",
    ),
    "connect_four": TaskEntry(
        "tasks.boardgames.classic:ConnectFourTask",
        "Self-play on connect four (MaskablePPO, or algo.name=alphazero), against random and "
        "minimax",
    ),
    "drive_highway": TaskEntry(
        "tasks.drive:DriveTask",
        "DQN (or PPO) on highway-env's highway-fast-v0, against random and keep-lane",
    ),
    "drive_steer": TaskEntry(
        "tasks.drive_steer:DriveSteerTask",
        "SAC (or PPO) steering round highway-env's racetrack-v0 with continuous actions, "
        "against a pure-pursuit controller and random steering",
    ),
    "warehouse_robots": TaskEntry(
        "tasks.warehouse.robots:WarehouseRobotsTask",
        "PPO shared by all robots of a warehouse (RWARE's task), against a greedy planner",
    ),
    "warehouse_inventory": TaskEntry(
        "tasks.warehouse.inventory:WarehouseInventoryTask",
        "PPO ordering stock along a supply chain, against tuned base-stock policies",
    ),
    "digits_supervised": TaskEntry(
        "tasks.paradigms.labelled:DigitsSupervisedTask",
        "Supervised CNN on digits: labels in info (Classify-v0, feedback=label)",
    ),
    "digits_bandit": TaskEntry(
        "tasks.paradigms.labelled:DigitsBanditTask",
        "Reward-only policy gradient on digits: 1 if right, never a label",
    ),
    "digits_semi": TaskEntry(
        "tasks.paradigms.labelled:DigitsSemiTask",
        "Semi-supervised on digits: 10% labelled, pseudo-labels on the rest",
    ),
    "digits_selfsup": TaskEntry(
        "tasks.paradigms.unlabelled:DigitsSelfSupTask",
        "Denoising autoencoder on digits (Reconstruct-v0), linear probe at 10% labels",
    ),
    "digits_cluster": TaskEntry(
        "tasks.paradigms.unlabelled:DigitsClusterTask",
        "Clustering digits without labels (Cluster-v0); ARI/NMI against hidden classes",
    ),
    "digits_anomaly": TaskEntry(
        "tasks.paradigms.unlabelled:DigitsAnomalyTask",
        "Flag a held-out digit class in a stream (Anomaly-v0); ROC-AUC of the scores",
    ),
    "digits_gan": TaskEntry(
        "tasks.paradigms.gan:DigitsGanTask",
        "Semi-supervised GAN on digits: a generator and a K+1-class discriminator, two agents "
        "of one loop (5% or 10% of labels)",
    ),
    "fraud_detection": TaskEntry(
        "tasks.paradigms.fraud:FraudDetectionTask",
        "Card-fraud transaction stream (Fraud-v0): score each transaction, the bank "
        "investigates the top cards each day; card precision@100",
    ),
    "phantom_denoise": TaskEntry(
        "tasks.paradigms.phantoms:PhantomDenoiseTask",
        "Denoise CT-like phantoms (Reconstruct-v0, Gaussian or Poisson noise) with a U-Net; "
        "against total variation, wavelet and non-local means",
    ),
    "diabetes_regression": TaskEntry(
        "tasks.paradigms.labelled:DiabetesRegressionTask",
        "Regression on diabetes from targets (MSE) or from reward -(a-y)^2 only",
    ),
    "paradigms": TaskEntry(
        "tasks.paradigms.suite:ParadigmsTask",
        "Every paradigm on one digits split: one table and plots (feedback, labels, score)",
    ),
}


def task_yaml(task: str) -> Path | None:
    """The packaged ``configs/<task>.yaml``, if there is one."""
    path = Path(str(resources.files("configs"))) / f"{task}.yaml"
    return path if path.is_file() else None


def load_task(name: str) -> Task:
    """An instance of the task registered as ``name``."""
    entry = TASKS[name]
    module_name, _, class_name = entry.target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)()
