"""The agent interface, and what a training backend receives and returns.

An :class:`Agent` maps an observation (and an action mask, where the env has one) to an action.
A :class:`Backend` trains an agent from a :class:`TrainContext`: everything task-specific
(which env, how to evaluate, where checkpoints go, where metrics go) arrives as plain callables,
so a backend knows spaces and observations but never which task it serves.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from agents.backends.ray_cluster import RayConfig


class Player:
    """Something that plays a two-player game: ``player(planes, mask) -> action``.

    Players that keep their own copy of the game (a search, an outside engine, minimax)
    override :meth:`reset` and :meth:`observe`; the match loop calls them on every player.
    """

    def __call__(self, obs: Any, mask: np.ndarray) -> int:
        raise NotImplementedError

    def reset(self) -> None:
        """A new game starts."""

    def observe(self, action: int) -> None:
        """A move was played, by either side (its own included)."""

    def seed(self, seed: int) -> None:
        """Restart any random stream (games replay exactly under a seed)."""

    def close(self) -> None:
        """Release outside resources (an engine's process)."""


class PlayerUnavailable(RuntimeError):
    """A player cannot be built here (an outside engine is not installed); the message says
    why and how to fix it. Evaluations skip such an opponent with a note; any other failure
    during a match is an error."""


class GreedyPlayer(Player):
    """The most probable legal move (or one sampled) of a batched policy function."""

    def __init__(
        self,
        probabilities: Callable[[np.ndarray, np.ndarray], np.ndarray],
        deterministic: bool = True,
        seed: int = 0,
    ) -> None:
        self.probabilities, self.deterministic = probabilities, deterministic
        self.rng = np.random.default_rng(seed)

    def seed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def __call__(self, obs: Any, mask: np.ndarray) -> int:
        legal = np.asarray(mask, dtype=bool)
        probs = np.asarray(self.probabilities(np.asarray(obs)[None], legal[None])[0], np.float64)
        probs = np.where(legal, probs, 0.0)
        if self.deterministic or probs.sum() <= 0:
            return int(np.argmax(np.where(legal, probs, -1.0)))
        return int(self.rng.choice(len(probs), p=probs / probs.sum()))


class Agent(abc.ABC):
    """Something that acts: ``act(obs, action_mask, deterministic) -> action``.

    Agents of two-player board games also give :meth:`player`, :meth:`policy_value` and
    :meth:`snapshot`; every backend that trains board games implements all three.
    """

    @abc.abstractmethod
    def act(
        self, obs: Any, action_mask: np.ndarray | None = None, deterministic: bool = True
    ) -> Any:
        """The action for one observation; illegal actions (mask False) are never chosen."""

    def act_batch(
        self, obs: Any, action_masks: np.ndarray | None = None, deterministic: bool = True
    ) -> np.ndarray:
        """Actions for a batch of observations; the default loops over :meth:`act`."""
        count = len(obs) if not isinstance(obs, dict) else len(next(iter(obs.values())))
        actions = []
        for i in range(count):
            single = {k: v[i] for k, v in obs.items()} if isinstance(obs, dict) else obs[i]
            mask = None if action_masks is None else action_masks[i]
            actions.append(self.act(single, mask, deterministic))
        return np.asarray(actions)

    def action_probabilities(
        self, obs: np.ndarray, action_masks: np.ndarray | None = None
    ) -> np.ndarray:
        """(batch, actions) probabilities of a discrete policy (masked actions get 0)."""
        raise NotImplementedError(f"{type(self).__name__} does not give action probabilities")

    def q_values(self, obs: Any) -> np.ndarray:
        """(batch, actions) action values of a Q-learning agent (DQN, QR-DQN: the mean of its
        quantiles), greedy actions their argmax."""
        raise NotImplementedError(f"{type(self).__name__} does not give Q-values")

    def action_values(self, obs: Any, actions: np.ndarray) -> np.ndarray:
        """(batch,) values of the continuous ``actions`` (in the env's action space, one row
        per observation) by an actor-critic's critic (SAC: the smaller of its twin Q-heads)."""
        raise NotImplementedError(f"{type(self).__name__} does not value actions")

    def save(self, path: Path) -> None:
        """Write the agent into the folder ``path`` (which exists)."""
        raise NotImplementedError(f"{type(self).__name__} cannot be saved")

    def policy_value(
        self, observations: np.ndarray, masks: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Board games: (probabilities over the legal moves (B, A), values (B,) in [-1, 1] for
        the player to move), batched: what a tree search needs."""
        raise NotImplementedError(f"{type(self).__name__} has no policy-value view")

    def player(self, deterministic: bool = True, seed: int = 0) -> Player:
        """Board games: the network alone as a player (its most probable move, or sampled)."""
        return GreedyPlayer(lambda o, m: self.policy_value(o, m)[0], deterministic, seed)

    def snapshot(self) -> Player:
        """Board games: a sampling player on a frozen copy of the current weights, which later
        training does not change (an opponent for the self-play pool)."""
        raise NotImplementedError(f"{type(self).__name__} cannot be snapshotted")


class MetricSink(Protocol):
    """Where metrics go: TensorBoard, metrics.jsonl and the progress display."""

    def log(self, step: int, metrics: dict[str, float]) -> None:
        """Record metrics at a global step (environment steps)."""

    def progress(self, step: int) -> None:
        """Report how far training has got."""


# An env that reports how an episode went puts ``{name: float}`` under this key of the ``info``
# of the episode's last step (drive_highway: ``crash_rate`` 0 or 1, ``mean_speed``). Every
# backend logs the means of what finished since its last log as ``charts/<name>``, from envs in
# subprocesses and remote Ray env runners alike.
EPISODE_METRICS = "episode_metrics"


def episode_metrics(info: Any) -> dict[str, float]:
    """The per-episode metrics in one step's ``info`` ({} on other steps)."""
    metrics = info.get(EPISODE_METRICS) if isinstance(info, dict) else None
    return {str(k): float(v) for k, v in metrics.items()} if metrics else {}


# ``save_checkpoint(step, write)`` calls ``write(folder)`` to fill a fresh folder, then commits
# it atomically and returns its final path.
SaveCheckpoint = Callable[[int, Callable[[Path], None]], Path]
# ``hook(step, agent)`` runs every ``every`` steps during training; it may return metrics.
PeriodicHook = Callable[[int, Agent], "dict[str, float] | None"]


@dataclass
class Periodic:
    """A hook the backend calls every ``every`` environment steps (and once at the end)."""

    every: int
    hook: PeriodicHook
    at_end: bool = True


@dataclass
class TwoPlayerGame:
    """A two-player board game for self-play backends: the PettingZoo AEC game, the network's
    view of its observations, (for compiled search) its positions as int64 rows, and the
    opponent pool of learners that play one seat (PPO): fixed players by name plus snapshots
    of the learner taken every ``snapshot_every`` steps, the newest ``max_snapshots`` kept,
    fixed players drawn in a share ``fixed_share`` of games."""

    make_game: Callable[[], Any]
    obs_transform: Callable[[Any], np.ndarray]
    positions: Callable[[], Any] | None = None  # -> agents.zero.game.Positions
    opponents: dict[str, Callable[[int], Player]] = field(default_factory=dict)  # seed -> player
    fixed_share: float = 0.3
    max_snapshots: int = 8
    snapshot_every: int = 20_000


@dataclass
class ParallelAgents:
    """A cooperative multi-agent problem, in the two forms backends adapt.

    ``make_env(index)`` is a PettingZoo ParallelEnv (RLlib wraps it as a multi-agent env);
    ``make_batched_env(copies)`` steps that many copies of the same env in one call, arrays
    (copies, agents, ...) (SB3 trains one shared policy on its agent slots). Both carry every
    option of the config, so each backend trains the same problem.
    """

    make_env: Callable[[int], Any]
    make_batched_env: Callable[[int], Any]


@dataclass
class TrainContext:
    """Everything a backend needs to train one agent."""

    make_env: Callable[[int], Any]  # index -> a seeded Gymnasium env
    total_steps: int
    seed: int
    device: str
    algo: Any  # tasks.config.AlgoConfig (duck-typed: agents never import tasks)
    logger: MetricSink
    save_checkpoint: SaveCheckpoint
    checkpoint_every: int
    resume_from: Path | None = None
    periodic: list[Periodic] = field(default_factory=list)
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    game: TwoPlayerGame | None = None  # two-player board games
    parallel: ParallelAgents | None = None  # cooperative multi-agent envs (warehouse robots)
    settings: Any = None  # the algorithm's own typed section (alphazero: ZeroConfig)
    network: Any = None  # the task's network section (channels, blocks, value_hidden)
    ray: RayConfig = field(default_factory=RayConfig)  # where and how wide under Ray
    rllib: dict[str, Any] = field(default_factory=dict)  # AlgorithmConfig settings, applied last


class Backend(abc.ABC):
    """Trains agents and loads them back from checkpoints."""

    name: str

    @abc.abstractmethod
    def train(self, ctx: TrainContext) -> Agent:
        """Train (or continue from ``ctx.resume_from``) for ``ctx.total_steps`` env steps."""

    @abc.abstractmethod
    def load(self, path: Path, ctx: TrainContext | None = None) -> Agent:
        """The agent stored in the checkpoint folder ``path``."""

    def check_network(self, algorithm: str, policy_kwargs: dict[str, Any]) -> None:
        """ValueError, in one line, when this backend would not train the network that
        ``policy_kwargs`` describe (a task's features extractor, say) for ``algorithm``;
        called before a run folder is made. Every network is trained as given by default."""
        return None

    def check_algo(self, algo: Any) -> None:
        """ValueError, in one line, for a setting of the ``algo`` section this backend would not
        train as configured; called before a run folder is made. Every one is by default."""
        return None


def resolve_device(device: str) -> str:
    """'auto' becomes 'cuda' when a GPU is visible, else 'cpu'; CPU runs use one torch thread."""
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} asked for CUDA but no GPU is visible")
    if device == "cpu":
        # Two torch threads per process on a 2-core machine run SB3 several times slower.
        torch.set_num_threads(1)
    return device
