"""``learnloop/Classify-v0``: supervised, semi-supervised and reward-only classification."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from envs.paradigms._core import Feed, ParadigmEnv, ParadigmVectorEnv, put_masked


class ClassifyFeed(Feed):
    """Serve samples, take a class, answer with what ``feedback`` allows (see ClassifyEnv)."""

    paradigm = "classification"
    label_keys = ("label",)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        if self.split.dataset.kind != "classification":
            raise ValueError(
                f"Classify needs a classification dataset, got {self.split.dataset.name!r}"
            )

    def action_space(self) -> spaces.Discrete:
        return spaces.Discrete(self.split.dataset.n_classes)

    def respond(
        self, positions: np.ndarray, actions: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        correct = actions == self.y[positions]
        feedback = self.gives_feedback[positions]
        rewards = np.where(feedback, correct, 0).astype(np.float32)
        info = {"feedback": feedback}
        put_masked(info, "label", self.y[positions], self.gives_label[positions], -1)
        return rewards, info

    def summary(self, positions: np.ndarray, actions: np.ndarray) -> dict[str, float]:
        return {
            "accuracy": float(np.mean(actions == self.y[positions])),
            "samples": float(len(positions)),
        }


class ClassifyEnv(ParadigmEnv):
    """Classify samples; which feedback comes back decides the paradigm.

    ``gymnasium.make("learnloop/Classify-v0", dataset="digits", label_fraction=0.1)``.

    | paradigm         | label_fraction | feedback   | what reaches the agent on train  |
    |------------------|----------------|------------|----------------------------------|
    | supervised       | 1.0            | "label"    | the label of every sample         |
    | semi-supervised  | e.g. 0.1       | "label"    | labels of the pool, raw samples   |
    | reward-only      | 1.0            | "reward"   | 1 if right else 0, never a label  |
    | unsupervised     | any            | "none"     | samples only                      |

    ## Observation Space

    One sample: ``Box(0, 1, (1, 8, 8), float32)`` for digits as an image (pixels / 16), or
    ``Box(-inf, inf, (D,), float32)`` for tabular data standardised with train statistics
    (``obs_format="flat"`` flattens images too). Observations are the data alone: never a label.

    ## Action Space

    ``Discrete(n_classes)``: the predicted class.

    ## Rewards and info

    For a sample in the labelled pool: reward 1 if the action is its class else 0, unless
    ``feedback="none"`` (reward 0). ``info["label"]`` (int) only when ``feedback="label"`` and
    the sample is in the pool. ``info["feedback"]`` (bool) says whether this step's reward is a
    real signal (False: reward 0 means "no feedback", not "wrong"). Samples outside the pool
    give reward 0 and no label. On ``part="val"``/``"test"`` every sample is scored and
    labelled, and the last step of a pass adds ``info["summary"] = {"accuracy", "samples"}``.

    ## Episode End

    Terminated after ``episode_length`` steps (default 100 on train, one pass on val/test).
    Training samples come in shuffled passes that continue across episodes; ``reset(seed=...)``
    restarts the order.

    ## Arguments

    ``dataset`` ("digits"), ``part`` ("train"), ``label_fraction`` (1.0), ``feedback``
    ("label"), ``obs_format`` ("auto"), ``episode_length`` (None), ``split_seed`` (0),
    ``data_dir`` (None, for MNIST IDX files). See ``envs.paradigms._core.Feed``.

    ## Version History

    - v0: initial version.
    """

    feed_cls = ClassifyFeed


class ClassifyVectorEnv(ParadigmVectorEnv):
    """``num_envs`` Classify-v0 slots stepped together; rules as in :class:`ClassifyEnv`."""

    feed_cls = ClassifyFeed
