"""What every paradigm env shares: a sample stream, feedback rules, and the two env shells.

A **feed** decides, for a batch of B slots, which samples are served, what the agent observes
and what comes back for an action (reward and ``info``). One feed class per paradigm; the same
feed drives the single env (:class:`ParadigmEnv`, B = 1) and the batched one
(:class:`ParadigmVectorEnv`), so their rules cannot drift apart.

Episodes: every slot steps in lockstep, so all B slots end an episode on the same step, after
``episode_length`` steps. On the training part samples come in shuffled passes that continue
across episodes; on ``val`` and ``test`` they come in order and, by default, one episode is one
pass over the part, whose label-based scores (accuracy, ARI ...) arrive in ``info["summary"]``
on its last step. The training part never reports them.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs.paradigms.datasets import PARTS, Split, get_split

FEEDBACK = ("label", "reward", "none")
OBS_FORMATS = ("auto", "image", "flat")


def check_choice(name: str, value: Any, allowed: tuple[Any, ...]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise ValueError naming it."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


class Cycle:
    """Endless passes over ``pool``: a fresh random order each pass, or the pool's own order."""

    def __init__(self, pool: np.ndarray, shuffle: bool) -> None:
        self.pool = pool
        self.shuffle = shuffle
        self.order = pool
        self.cursor = len(pool)

    def restart(self) -> None:
        """Begin a new pass at the next ``take``."""
        self.cursor = len(self.pool)

    def take(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """The next ``count`` items, starting new passes as needed."""
        out = np.empty(count, dtype=np.int64)
        filled = 0
        while filled < count:
            if self.cursor >= len(self.pool):
                self.order = rng.permutation(self.pool) if self.shuffle else self.pool
                self.cursor = 0
            take = min(count - filled, len(self.pool) - self.cursor)
            out[filled : filled + take] = self.order[self.cursor : self.cursor + take]
            self.cursor += take
            filled += take
        return out


class Feed:
    """The sample stream of one split part plus one paradigm's feedback rules (subclassed).

    Args:
        dataset, split_seed, data_dir: which split (see ``envs.paradigms.datasets.get_split``).
        part: "train", "val" or "test". Only "train" is for learning; the others score.
        label_fraction: share of training samples in the labelled pool (see ``Split``).
        feedback: "label" (reward and the label / target in ``info``), "reward" (reward only)
            or "none" (reward 0, nothing in ``info``), for samples in the labelled pool. Other
            training samples always get reward 0 and nothing in ``info``. On "val" and "test"
            every sample is scored (reward and label), whatever ``feedback`` says; with
            ``feedback="label"`` and ``label_fraction`` below 1, "val" serves only that share of
            its samples (per class, at least one each): the labels such a learner could hold
            out for validation.
        obs_format: "image" (C, H, W) for image datasets, "flat" (D,), or "auto".
    """

    paradigm = ""
    label_keys: tuple[str, ...] = ()  # info keys that carry labels or targets

    def __init__(
        self,
        dataset: str = "digits",
        part: str = "train",
        label_fraction: float = 1.0,
        feedback: str = "label",
        obs_format: str = "auto",
        split_seed: int = 0,
        data_dir: str | None = None,
    ) -> None:
        check_choice("part", part, PARTS)
        check_choice("feedback", feedback, FEEDBACK)
        check_choice("obs_format", obs_format, OBS_FORMATS)
        if not isinstance(label_fraction, int | float) or not 0.0 <= label_fraction <= 1.0:
            raise ValueError(f"label_fraction must be in [0, 1], got {label_fraction!r}")
        self.split: Split = get_split(dataset, split_seed, data_dir=data_dir)
        self.part = part
        self.training = part == "train"
        self.feedback = feedback
        image_shape = self.split.dataset.image_shape
        if obs_format == "image" and image_shape is None:
            raise ValueError(f"obs_format='image' needs an image dataset; {dataset!r} is tabular")
        self.image = obs_format == "image" or (obs_format == "auto" and image_shape is not None)
        self.sample_shape = (
            tuple(image_shape) if self.image else (self.split.dataset.features.shape[1],)
        )
        self.x = self.split.features(part)
        self.y = self.split.targets(part)
        if part == "val" and feedback == "label" and 0.0 < label_fraction < 1.0:
            # A learner given that share of labels validates on the same share of "val".
            keep = self.split.labelled_mask(label_fraction, "val")
            self.x, self.y = self.x[keep], self.y[keep]
        if self.training:
            self.labelled = self.split.labelled_mask(label_fraction)
        else:
            self.labelled = np.ones(len(self.y), dtype=bool)  # scoring parts score everything
        # Whether a sample's feedback reaches the agent: only labelled samples, only if allowed.
        self.gives_feedback = self.labelled & (feedback != "none" or not self.training)
        self.gives_label = self.labelled & (feedback == "label" or not self.training)
        self.stream = Cycle(np.arange(len(self.y)), shuffle=self.training)

    # -- the stream ---------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Samples in this part (as served; a subclass may serve a subset)."""
        return len(self.y)

    def reset(self, rng: np.random.Generator) -> None:
        """Start afresh: a new pass order, and the paradigm's own state (centroids ...)."""
        self.stream.restart()

    def draw(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """The next ``count`` sample positions: shuffled passes on train, in order elsewhere."""
        return self.stream.take(count, rng)

    def default_episode_length(self, num_slots: int) -> int:
        """Steps per episode: 100 on train, one pass over the part elsewhere."""
        return 100 if self.training else math.ceil(self.size / num_slots)

    # -- what the agent sees ------------------------------------------------------------------

    def observation_space(self) -> spaces.Box:
        """The single-sample observation space."""
        low, high = (0.0, 1.0) if self.split.dataset.image_shape else (-np.inf, np.inf)
        return spaces.Box(low, high, self.sample_shape, np.float32)

    def action_space(self) -> spaces.Space:
        """The single-sample action space."""
        raise NotImplementedError

    def observe(self, positions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Observations of the samples at ``positions`` (B, *sample_shape)."""
        return self.x[positions].reshape((len(positions), *self.sample_shape))

    def check_actions(self, actions: Any, count: int) -> np.ndarray:
        """Actions as an array of the action space's batched shape, or ValueError."""
        space = self.action_space()
        actions = np.asarray(actions)
        if isinstance(space, spaces.Discrete):
            flat = actions.reshape(-1)
            if flat.shape != (count,) or not np.issubdtype(flat.dtype, np.integer):
                if flat.shape == (count,) and np.all(np.mod(flat, 1) == 0):
                    flat = flat.astype(np.int64)
                else:
                    raise ValueError(f"expected {count} integer actions, got {actions!r}")
            bad = (flat < 0) | (flat >= space.n)
            if bad.any():
                raise ValueError(f"action {flat[bad][0].item()!r} is outside 0..{space.n - 1}")
            return flat
        shaped = actions.astype(np.float32).reshape((count, *space.shape))
        if not np.all(np.isfinite(shaped)):
            raise ValueError(f"actions must be finite numbers, got {actions!r}")
        return np.clip(shaped, space.low, space.high)

    def respond(
        self, positions: np.ndarray, actions: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Rewards (B,) and info arrays for ``actions`` on the samples at ``positions``.

        Info uses Gymnasium's vector convention: ``info[key]`` (B, ...) with ``info["_" +
        key]`` marking the slots where ``key`` is present.
        """
        raise NotImplementedError

    def summary(self, positions: np.ndarray, actions: np.ndarray) -> dict[str, float]:
        """Label-based scores of one scoring pass (first visit of each sample only)."""
        return {}


def put_masked(
    info: dict[str, np.ndarray], key: str, values: np.ndarray, present: np.ndarray, fill: float
) -> None:
    """Add ``key`` to a vector info dict where ``present``; absent slots hold ``fill``, not the
    value, so a hidden label is never in the array; no slot present: no key at all."""
    if not present.any():
        return
    shape = (len(present),) + (1,) * (values.ndim - 1)
    info[key] = np.where(present.reshape(shape), values, np.asarray(fill, dtype=values.dtype))
    info[f"_{key}"] = present


def first_visits(positions: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first (position, action) of each distinct position, in visiting order."""
    _, first = np.unique(positions, return_index=True)
    first = np.sort(first)
    return positions[first], actions[first]


class _EpisodeClock:
    """Lockstep episodes and, on scoring parts, the record of what was served and answered."""

    def __init__(self, feed: Feed, num_slots: int, episode_length: int | None) -> None:
        if episode_length is not None and episode_length < 1:
            raise ValueError(f"episode_length must be at least 1, got {episode_length!r}")
        self.feed = feed
        self.length = episode_length or feed.default_episode_length(num_slots)
        self.t = 0
        self.served: list[np.ndarray] = []
        self.answered: list[np.ndarray] = []

    def restart(self) -> None:
        self.t = 0
        self.served, self.answered = [], []

    def tick(self, positions: np.ndarray, actions: np.ndarray) -> dict[str, float] | None:
        """Count one step; at an episode's end return its summary (scoring parts) or {}."""
        if not self.feed.training:
            self.served.append(positions)
            self.answered.append(actions)
        self.t += 1
        if self.t < self.length:
            return None
        summary = {}
        if not self.feed.training:
            summary = self.feed.summary(
                *first_visits(np.concatenate(self.served), np.concatenate(self.answered))
            )
        self.restart()
        return summary


class ParadigmEnv(gymnasium.Env):
    """A one-sample-per-step Gymnasium env around a :class:`Feed` (see the subclasses' docs)."""

    metadata = {"render_modes": []}
    feed_cls: type[Feed] = Feed

    def __init__(self, episode_length: int | None = None, **feed_kwargs: Any) -> None:
        self.feed = self.feed_cls(**feed_kwargs)
        self.observation_space = self.feed.observation_space()
        self.action_space = self.feed.action_space()
        self.clock = _EpisodeClock(self.feed, 1, episode_length)
        self._positions: np.ndarray | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; the stream (and any paradigm state) restarts only when seeded."""
        first = self._positions is None
        super().reset(seed=seed)
        if seed is not None or first:
            self.feed.reset(self.np_random)
        self.clock.restart()
        self._positions = self.feed.draw(1, self.np_random)
        return self.feed.observe(self._positions, self.np_random)[0], {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Answer ``action`` for the current sample and serve the next one."""
        if self._positions is None:
            raise RuntimeError("call reset() before step()")
        actions = self.feed.check_actions(action, 1)
        rewards, batch_info = self.feed.respond(self._positions, actions, self.np_random)
        info = unbatch_info(batch_info)
        summary = self.clock.tick(self._positions, actions)
        terminated = summary is not None
        if summary:
            info["summary"] = summary
        if not terminated:
            self._positions = self.feed.draw(1, self.np_random)
        obs = self.feed.observe(self._positions, self.np_random)[0]
        return obs, float(rewards[0]), terminated, False, info


def unbatch_info(batch_info: dict[str, np.ndarray]) -> dict[str, Any]:
    """Slot 0 of a vector-style info dict, keeping only the keys present there."""
    info: dict[str, Any] = {}
    for key, values in batch_info.items():
        if key.startswith("_"):
            continue
        present = batch_info.get(f"_{key}")
        if present is None or present[0]:
            value = values[0]
            info[key] = value.item() if np.ndim(value) == 0 else value
    return info


class ParadigmVectorEnv(VectorEnv):
    """``num_envs`` slots of a paradigm env stepped together in numpy (same rules as the single).

    Observations (B, *shape), actions (B,) or (B, *shape). Episodes end on the same step for
    every slot; that step already returns the next episode's first observations (autoreset
    mode ``same_step``), and on scoring parts ``infos["summary"]`` holds the pass's scores.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}
    feed_cls: type[Feed] = Feed

    def __init__(
        self, num_envs: int = 64, episode_length: int | None = None, **feed_kwargs: Any
    ) -> None:
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        self.num_envs = num_envs
        self.feed = self.feed_cls(**feed_kwargs)
        self.single_observation_space = self.feed.observation_space()
        self.single_action_space = self.feed.action_space()
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.clock = _EpisodeClock(self.feed, num_envs, episode_length)
        self._positions: np.ndarray | None = None
        self._rng = np.random.default_rng()
        self._no = np.zeros(num_envs, dtype=bool)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode in every slot; the stream restarts only when seeded."""
        first = self._positions is None
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        if seed is not None or first:
            self.feed.reset(self._rng)
        self.clock.restart()
        self._positions = self.feed.draw(self.num_envs, self._rng)
        return self.feed.observe(self._positions, self._rng), {}

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Answer every slot's action and serve the next samples."""
        if self._positions is None:
            raise RuntimeError("call reset() before step()")
        checked = self.feed.check_actions(actions, self.num_envs)
        rewards, info = self.feed.respond(self._positions, checked, self._rng)
        summary = self.clock.tick(self._positions, checked)
        if summary:
            info["summary"] = summary
        self._positions = self.feed.draw(self.num_envs, self._rng)
        obs = self.feed.observe(self._positions, self._rng)
        terminated = np.full(self.num_envs, summary is not None)
        return obs, rewards.astype(np.float32), terminated, self._no.copy(), info
