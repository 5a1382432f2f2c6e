"""``Adversarial``: a generator and a discriminator-classifier sharing one classification stream.

Vocabulary:

- **real sample**: a training sample of the split, served like ``Classify``'s (its label in
  ``info`` only if it is in the labelled pool).
- **generated sample**: what the generator made on the previous step (its action), served back
  to the discriminator beside the real one. Before the generator's first action the env fills
  the slot with uniform noise.
- **realness**: the discriminator's probability that a sample is real, one for each of the two
  samples of a slot.

One env step is a round of the game for both players at once: the discriminator answers the
real sample's class and judges both samples; the generator hands in its next samples. The env
scores the judgements and passes the generator's samples on, so neither player reaches into
the other. (A learner that trains the generator through the discriminator's gradients, as
feature matching does, couples the two networks itself.)
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from envs.paradigms._core import ParadigmVectorEnv, unbatch_info
from envs.paradigms.classify import ClassifyFeed

# Judged correct when the realness given to the real sample is above this and the generated
# one's below it.
DECISION = 0.5


class AdversarialFeed(ClassifyFeed):
    """Classify's stream and labels, plus the generator's samples served back (see
    :class:`AdversarialEnv`). Training part only: scoring a classifier is Classify's job."""

    paradigm = "semi-supervised (adversarial)"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not self.training:
            raise ValueError(
                f"Adversarial serves the training part only, got part={self.part!r}; "
                "score the classifier on learnloop/Classify-v0"
            )
        if not self.image:
            raise ValueError("Adversarial needs image observations (obs_format 'image' or 'auto')")
        self.generated: np.ndarray | None = None

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self.generated = None

    def observation_space(self) -> spaces.Dict:
        sample = super().observation_space()
        return spaces.Dict({"real": sample, "generated": sample})

    def action_space(self) -> spaces.Dict:
        return spaces.Dict(
            {
                "label": spaces.Discrete(self.split.dataset.n_classes),
                "realness": spaces.Box(0.0, 1.0, (2,), np.float32),
                "generated": super().observation_space(),
            }
        )

    def observe(self, positions: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        count = len(positions)
        if self.generated is None or len(self.generated) != count:
            self.generated = rng.random((count, *self.sample_shape), dtype=np.float32)
        return {"real": super().observe(positions, rng), "generated": self.generated.copy()}

    def check_actions(self, actions: Any, count: int) -> dict[str, np.ndarray]:
        """The three parts of every slot's action, checked and batched, or ValueError."""
        if not isinstance(actions, dict) or set(actions) != {"label", "realness", "generated"}:
            keys = sorted(actions) if isinstance(actions, dict) else type(actions).__name__
            raise ValueError(
                f"expected a dict with 'label', 'realness' and 'generated', got {keys}"
            )
        space = self.action_space()
        labels = np.asarray(actions["label"]).reshape(-1)
        if labels.shape != (count,) or not np.all(np.mod(labels, 1) == 0):
            raise ValueError(f"label must be {count} integer classes, got {actions['label']!r}")
        labels = labels.astype(np.int64)
        if np.any((labels < 0) | (labels >= space["label"].n)):
            raise ValueError(f"label must be in 0..{space['label'].n - 1}, got {labels!r}")
        checked = {"label": labels}
        for key in ("realness", "generated"):
            part = np.asarray(actions[key], dtype=np.float32)
            shape = (count, *space[key].shape)
            if part.size != np.prod(shape) or not np.all(np.isfinite(part)):
                raise ValueError(f"{key} must be {shape} finite numbers, got shape {part.shape}")
            checked[key] = np.clip(part.reshape(shape), 0.0, 1.0)
        return checked

    def respond(
        self, positions: np.ndarray, actions: Any, rng: np.random.Generator
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        rewards, info = super().respond(positions, actions["label"], rng)
        real, generated = actions["realness"][:, 0], actions["realness"][:, 1]
        info["judged_right"] = ((real > DECISION) & (generated <= DECISION)).astype(np.float32)
        info["fooled"] = generated  # the generator's score: how real its sample looked
        self.generated = actions["generated"]
        return rewards, info

    def summary(self, positions: np.ndarray, actions: Any) -> dict[str, float]:
        return {}


class AdversarialVectorEnv(ParadigmVectorEnv):
    """``num_envs`` slots of :class:`AdversarialEnv` stepped together in numpy."""

    feed_cls = AdversarialFeed


class AdversarialEnv(gymnasium.Env):
    """A discriminator-classifier and a generator on one stream of training samples.

    ``AdversarialEnv(dataset="digits", label_fraction=0.1)`` (training part only).

    ## Observation Space

    ``Dict(real=Box(0, 1, (1, 8, 8)), generated=Box(0, 1, (1, 8, 8)))`` for digits: a training
    sample and the generator's sample from the previous step (uniform noise before its first).

    ## Action Space

    ``Dict(label=Discrete(n_classes), realness=Box(0, 1, (2,)), generated=Box(0, 1, (1, 8, 8)))``:
    the discriminator's class for the real sample and its probabilities that the real and the
    generated sample are real; the generator's next sample.

    ## Rewards and info

    The reward is Classify's for ``label`` (1 if right for a sample of the labelled pool, else
    0), and ``info["label"]`` / ``info["feedback"]`` come as in Classify. ``info["judged_right"]``
    (1 when the real sample's realness is above 0.5 and the generated one's at most 0.5) scores
    the discriminator's judgement; ``info["fooled"]`` (the realness given to the generated
    sample) scores the generator.

    ## Episode End

    Terminated after ``episode_length`` steps (default 100); samples come in shuffled passes.

    ## Arguments

    As ``Classify-v0`` (``dataset``, ``label_fraction``, ``feedback``, ``split_seed``,
    ``data_dir``, ``episode_length``), with ``part="train"`` only.

    ## Version History

    - v0: initial version.
    """

    metadata = {"render_modes": []}

    def __init__(self, episode_length: int | None = None, **feed_kwargs: Any) -> None:
        # One slot of the vector env, so the single and the batched env share every rule.
        self.slots = AdversarialVectorEnv(1, episode_length, **feed_kwargs)
        self.observation_space = self.slots.single_observation_space
        self.action_space = self.slots.single_action_space

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Start an episode; the stream restarts only when seeded (or on the first reset)."""
        super().reset(seed=seed)
        obs, _ = self.slots.reset(seed=seed)
        return _first(obs), {}

    def step(self, action: Any) -> tuple[dict[str, np.ndarray], float, bool, bool, dict]:
        """Score the judgements, take the generator's sample, serve the next pair."""
        if not isinstance(action, dict):
            raise ValueError(f"expected a dict action, got {type(action).__name__}")
        batched = {key: np.asarray(value)[None] for key, value in action.items()}
        obs, rewards, terminated, truncated, info = self.slots.step(batched)
        single = unbatch_info({k: v for k, v in info.items() if k != "summary"})
        return _first(obs), float(rewards[0]), bool(terminated[0]), bool(truncated[0]), single


def _first(obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key: value[0] for key, value in obs.items()}
