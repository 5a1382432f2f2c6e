"""AlphaZero's loop in one process: self-play feeds the replay buffer, the learner trains on it.

The schedule keeps a fixed replay ratio: after each self-play move of all games, the learner
takes gradient steps until it has drawn ``train_ratio`` positions per position recorded so far
(once ``min_replay`` positions are in), and every ``refresh_every`` steps self-play switches to
the newest weights. The global step is self-play moves (the board games' env steps).
Self-play in Ray actors (agents/zero/workers.py) replaces :meth:`ZeroLoop.play` and feeds the
same buffer.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from agents.zero.game import Positions
from agents.zero.learner import Learner
from agents.zero.network import ZeroNet, make_evaluate
from agents.zero.replay import ReplayBuffer, Samples
from agents.zero.selfplay import SelfPlay, SelfPlayStats


class ZeroLoop:
    """Self-play, replay and learning for one network (see the module docstring)."""

    def __init__(
        self, positions: Positions, net: ZeroNet, config: Any, seed: int, device: str
    ) -> None:
        self.positions, self.config, self.device = positions, config, device
        self.learner = Learner(net, positions, config, device, seed)
        self.dtype = self.learner.dtype  # zero.precision here: self-play's network calls too
        self.buffer = ReplayBuffer(config.replay_size, positions.obs_shape, positions.num_actions)
        self.rng = np.random.default_rng(seed + 29)
        self.selfplay = SelfPlay(
            positions, self._evaluate(), config.search_settings(), config.games,
            config.simulations, config.fast_simulations, config.full_share, seed=seed,
            forbid=None if config.first_pass else positions.first_pass_forbidden,
            value_q=config.value_q, opening_moves=config.opening_moves,
        )  # fmt: skip
        self.step = 0  # self-play moves
        self.recorded = 0  # positions recorded into the buffer
        self.trained = 0  # positions drawn for training
        self.games = 0
        self.stats = SelfPlayStats()
        self._losses: dict[str, list[float]] = {}
        self._clock = _Clock()

    @property
    def net(self) -> ZeroNet:
        """The network being trained."""
        return self.learner.net

    def add(self, samples: list[Samples], stats: SelfPlayStats, moves: int) -> None:
        """Finished games' positions into the buffer (from this process or from workers)."""
        for part in samples:
            self.buffer.add(part)
            self.recorded += len(part)
        self.games += stats.games
        self.step += moves
        self.stats.games += stats.games
        self.stats.moves += stats.moves
        self.stats.first_player_score += stats.first_player_score
        self._clock.add(moves, sum(len(p) for p in samples), stats.games)

    def play(self) -> None:
        """One move of every local self-play game."""
        moves, finished = self.selfplay.step()
        stats, self.selfplay.stats = self.selfplay.stats, SelfPlayStats()
        self.add(finished, stats, moves)

    def train(self, fraction_done: float) -> int:
        """Gradient steps until the replay ratio is met; returns how many were taken."""
        config, steps = self.config, 0
        if self.buffer.size < config.min_replay:
            return 0
        self._losses.setdefault("learning_rate", []).append(
            self.learner.set_learning_rate(fraction_done)
        )
        while self.trained + config.batch_size <= config.train_ratio * self.recorded:
            metrics = self.learner.train_step(self.buffer.sample(config.batch_size, self.rng))
            for name, value in metrics.items():
                self._losses.setdefault(name, []).append(value)
            self.trained += config.batch_size
            steps += 1
            if self.learner.steps % config.refresh_every == 0:
                self.refresh()
        return steps

    def refresh(self) -> None:
        """Local self-play searches with the newest weights."""
        self.selfplay.set_evaluate(self._evaluate())

    def _evaluate(self) -> Any:
        """Self-play's network calls on the newest weights: compiled, in ``self.dtype``."""
        return make_evaluate(self.net, self.device, compiled=True, dtype=self.dtype)

    def metrics(self) -> dict[str, float]:
        """Losses and speeds since the last call (learnloop's metric names)."""
        out = {}
        for name, values in self._losses.items():
            prefix = "charts/" if name == "learning_rate" else "losses/"
            out[prefix + name] = float(np.mean(values))
        self._losses = {}
        stats, self.stats = self.stats, SelfPlayStats()
        if stats.games:
            out["charts/episode_length"] = stats.moves / stats.games
            out["charts/first_player_score"] = stats.first_player_score / stats.games
        out.update(self._clock.rates())
        out["charts/replay_size"] = float(self.buffer.size)
        out["charts/learner_steps"] = float(self.learner.steps)
        return out


class _Clock:
    """Rates since the last reading: moves (time/fps), positions and games per second."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.moves = self.positions = self.games = 0

    def add(self, moves: int, positions: int, games: int) -> None:
        self.moves += moves
        self.positions += positions
        self.games += games

    def rates(self) -> dict[str, float]:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rates = {
            "time/fps": self.moves / elapsed,
            "charts/positions_per_s": self.positions / elapsed,
            "charts/selfplay_games_per_s": self.games / elapsed,
        }
        self.__init__()
        return rates
