"""``learnloop/Regress-v0``: predict a real target, from the target or from a reward alone."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs.paradigms._core import Feed, ParadigmEnv, ParadigmVectorEnv, put_masked
from envs.paradigms.metrics import r2_score


class RegressFeed(Feed):
    """Serve samples, take a prediction, answer with what ``feedback`` allows (see RegressEnv)."""

    paradigm = "regression"
    label_keys = ("target",)

    def __init__(self, action_bound: float = 5.0, action_bins: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("dataset", "diabetes")
        super().__init__(**kwargs)
        if self.split.dataset.kind != "regression":
            raise ValueError(f"Regress needs a regression dataset, got {self.split.dataset.name!r}")
        if not action_bound > 0:
            raise ValueError(f"action_bound must be positive, got {action_bound!r}")
        if action_bins == 1 or action_bins < 0:
            raise ValueError(
                f"action_bins must be 0 (continuous) or at least 2, got {action_bins!r}"
            )
        self.action_bound = float(action_bound)
        self.bins = np.linspace(-action_bound, action_bound, action_bins) if action_bins else None

    def action_space(self) -> spaces.Space:
        if self.bins is not None:
            return spaces.Discrete(len(self.bins))
        return spaces.Box(-self.action_bound, self.action_bound, (1,), np.float32)

    def predictions(self, actions: np.ndarray) -> np.ndarray:
        """The predicted (standardised) targets that ``actions`` stand for."""
        if self.bins is not None:
            return self.bins[actions]
        return actions.reshape(-1).astype(np.float64)

    def respond(
        self, positions: np.ndarray, actions: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        targets = self.y[positions]
        feedback = self.gives_feedback[positions]
        rewards = np.where(feedback, -((self.predictions(actions) - targets) ** 2), 0.0)
        info = {"feedback": feedback}
        put_masked(info, "target", targets, self.gives_label[positions], 0.0)
        return rewards.astype(np.float32), info

    def summary(self, positions: np.ndarray, actions: np.ndarray) -> dict[str, float]:
        targets, predictions = self.y[positions], self.predictions(actions)
        mse = float(np.mean((predictions - targets) ** 2)) * self.split.target_std**2
        return {"mse": mse, "r2": r2_score(targets, predictions), "samples": float(len(positions))}


class RegressEnv(ParadigmEnv):
    """Predict a real target: regression from the target (supervised) or from reward alone.

    ``gymnasium.make("learnloop/Regress-v0", dataset="diabetes", feedback="reward")``.

    ## Observation Space

    ``Box(-inf, inf, (D,), float32)``: features standardised with train mean and std.

    ## Action Space

    ``Box(-action_bound, action_bound, (1,), float32)``: the prediction in standardised target
    units (target - train mean) / train std. With ``action_bins=n`` the action is instead
    ``Discrete(n)``, n evenly spaced predictions over the same range (for DQN).

    ## Rewards and info

    For a sample in the labelled pool: reward ``-(prediction - target)**2`` (standardised
    units) unless ``feedback="none"``; ``info["target"]`` (standardised float) only when
    ``feedback="label"``. ``info["feedback"]`` says whether the reward is a real signal. Other
    samples give reward 0 and nothing. On val/test, the last step of a pass adds
    ``info["summary"] = {"mse" (original units), "r2", "samples"}``.

    ## Episode End, Arguments

    As ``learnloop/Classify-v0`` (default ``dataset="diabetes"``), plus ``action_bound`` (5.0)
    and ``action_bins`` (0: continuous).

    ## Version History

    - v0: initial version.
    """

    feed_cls = RegressFeed


class RegressVectorEnv(ParadigmVectorEnv):
    """``num_envs`` Regress-v0 slots stepped together; rules as in :class:`RegressEnv`."""

    feed_cls = RegressFeed
