"""The learner interface: a torch agent that improves from one env step's feedback at a time.

A :class:`Learner` is an :class:`agents.base.Agent` (``act``, ``act_batch``, ``save``) that also
``observe``\\ s what a batched paradigm env answered (observations, its actions, rewards and the
``info`` arrays) and makes its updates from that alone. Which feedback a learner reads is part
of its contract (``uses``): a reward-only learner never looks at ``info["label"]``, and tests
check it.

Checkpoints: ``learner.pt`` holds the class path, the spaces, the constructor arguments and the
state (networks, optimisers, buffers), so :func:`load_learner` rebuilds the same learner.
"""

from __future__ import annotations

import copy
import importlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from agents.base import Agent

LEARNER_FILE = "learner.pt"


class Learner(Agent):
    """Base class: holds the networks, the optimiser and the hyperparameters it was built with.

    Subclasses set ``paradigm`` and ``uses`` (the feedback they read), make their modules in
    :meth:`build` and implement :meth:`act_batch` and :meth:`observe`. Evaluations ask every
    learner for :meth:`clean_encoder`, :meth:`anomaly_scores` and :meth:`labels_received`;
    the defaults say it has none of its own.
    """

    paradigm = ""
    uses = ""  # the feedback the learner reads: "label", "reward", "data", "investigations"
    DEFAULTS: dict[str, Any] = {}  # hyperparameters and their defaults (subclasses add theirs)

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        seed: int = 0,
        device: str = "cpu",
        **hyper: Any,
    ) -> None:
        self.observation_space = observation_space
        self.action_space = action_space
        self.seed = seed
        self.device = torch.device(device)
        defaults = self.default_hyper()
        unknown = sorted(set(hyper) - set(defaults))
        if unknown:
            raise ValueError(
                f"{type(self).__name__} has no hyperparameter {unknown[0]!r}; "
                f"known: {', '.join(sorted(defaults))}"
            )
        self.hyper = {**defaults, **hyper}
        self.generator = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        self.updates = 0
        self.build(observation_space, action_space)

    @classmethod
    def default_hyper(cls) -> dict[str, Any]:
        """Every hyperparameter with its default, base classes' first."""
        merged: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            merged.update(klass.__dict__.get("DEFAULTS", {}))
        return merged

    # -- what subclasses provide ---------------------------------------------------------------

    def build(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        """Make the networks, optimisers and buffers (called by ``__init__`` once the seed and
        ``self.hyper`` are set)."""
        raise NotImplementedError

    def modules(self) -> dict[str, torch.nn.Module]:
        """The networks whose weights make up the agent."""
        raise NotImplementedError

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Optimisers (saved with checkpoints so a resumed run continues smoothly)."""
        return {}

    def observe(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, info: dict[str, Any]
    ) -> dict[str, float]:
        """Learn from one batched env step; returns losses and the like to log."""
        raise NotImplementedError

    def extra_state(self) -> dict[str, Any]:
        """Buffers and counters beyond the networks (saved with checkpoints)."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`extra_state` returned."""

    # -- what evaluations ask of a learner (defaults for learners that lack one) ------------------

    def clean_encoder(self, trunk: bool = False, pool: int = 0) -> torch.nn.Module | None:
        """The encoder of clean observations that a linear probe (or another learner) reuses;
        None by default: only learners whose features are meant for reuse offer one
        (:class:`~agents.learners.autoencoder.AutoencoderLearner`)."""
        return None

    def anomaly_scores(self, obs: Any) -> np.ndarray:
        """Scores for ROC curves, higher for more anomalous items (binary flag envs). The
        default is the greedy flag itself: a learner without a score ranks only by decision."""
        return np.asarray(self.act_batch(obs, None, True), dtype=np.float64)

    def labels_received(self) -> int | None:
        """Labels that reached the learner in training, for learners whose feedback arrives as
        it acts (the anomaly learner's investigation outcomes); None where the task's labelled
        pool already says it."""
        return None

    def untrained(self) -> Learner:
        """A new learner with the same spaces, seed and hyperparameters, before any training
        (what training added is measured against it)."""
        return type(self)(
            self.observation_space, self.action_space, self.seed, str(self.device), **self.hyper
        )

    # -- acting ---------------------------------------------------------------------------------

    def tensor(self, obs: Any) -> torch.Tensor:
        """Observations as a float32 tensor on the learner's device."""
        return torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)

    def act(
        self, obs: Any, action_mask: np.ndarray | None = None, deterministic: bool = True
    ) -> Any:
        action = self.act_batch(np.asarray(obs)[None], None, deterministic)[0]
        return action.item() if np.ndim(action) == 0 else action

    # -- state ----------------------------------------------------------------------------------

    def weights(self) -> dict[str, Any]:
        """A deep copy of the networks' weights and extra state (for keeping the best so far)."""
        return copy.deepcopy(
            {
                "modules": {k: m.state_dict() for k, m in self.modules().items()},
                "extra": self.extra_state(),
            }
        )

    def load_weights(self, weights: dict[str, Any]) -> None:
        """Restore weights taken by :meth:`weights`."""
        for name, module in self.modules().items():
            module.load_state_dict(weights["modules"][name])
        self.load_extra_state(weights["extra"])

    def state(self) -> dict[str, Any]:
        """Everything needed to continue training: weights, optimisers, counters."""
        return {
            **self.weights(),
            "optimizers": {k: o.state_dict() for k, o in self.optimizers().items()},
            "updates": self.updates,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state`."""
        self.load_weights(state)
        for name, optimizer in self.optimizers().items():
            if name in state.get("optimizers", {}):
                optimizer.load_state_dict(state["optimizers"][name])
        self.updates = int(state.get("updates", 0))

    def save(self, path: Path) -> None:
        torch.save(
            {
                "class": f"{type(self).__module__}:{type(self).__qualname__}",
                "observation_space": self.observation_space,
                "action_space": self.action_space,
                "seed": self.seed,
                "hyper": self.hyper,
                "state": self.state(),
            },
            Path(path) / LEARNER_FILE,
        )

    def train_mode(self, training: bool) -> None:
        """Switch every module between training and evaluation behaviour."""
        for module in self.modules().values():
            module.train(training)


def load_learner(path: Path, device: str = "cpu") -> Learner:
    """The learner saved in the checkpoint folder ``path``; ValueError if there is none."""
    file = Path(path) / LEARNER_FILE
    if not file.is_file():
        raise ValueError(f"checkpoint {path} has no {LEARNER_FILE}")
    try:
        # Our own checkpoints hold gymnasium spaces, so they need full unpickling.
        payload = torch.load(file, map_location=device, weights_only=False)
        module_name, _, class_name = payload["class"].partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
    except Exception as error:  # a damaged file raises many kinds
        raise ValueError(f"checkpoint {file} could not be loaded: {error}") from None
    learner = cls(
        payload["observation_space"],
        payload["action_space"],
        seed=payload["seed"],
        device=device,
        **payload["hyper"],
    )
    try:
        learner.load_state(payload["state"])
    except (RuntimeError, KeyError) as error:  # weights of another shape, or missing parts
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise ValueError(
            f"checkpoint {file} does not fit {class_name} as built today (saved by an older "
            f"version?): {first}"
        ) from None
    return learner


def optimizer(params: Any, learning_rate: float) -> torch.optim.Optimizer:
    """The optimiser every learner uses (Adam)."""
    return torch.optim.Adam(params, lr=learning_rate)


def masked(info: dict[str, Any], key: str, count: int) -> np.ndarray:
    """Which of ``count`` slots carry ``info[key]`` (Gymnasium's ``_key`` convention)."""
    if key not in info:
        return np.zeros(count, dtype=bool)
    present = info.get(f"_{key}")
    return np.ones(count, dtype=bool) if present is None else np.asarray(present, dtype=bool)
