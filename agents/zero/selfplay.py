"""Self-play: many games at once, every move chosen by a search over the current network.

All games move in lock step: one :class:`~agents.zero.search.BatchedSearch` call searches every
game's position, each game plays the chosen move, and finished games restart at once. Playout
cap randomisation (KataGo, Wu 2019): a share ``full_share`` of moves gets a full search whose
policy becomes a training target; the other moves get a fast search and are not recorded, so
games (and value targets) come cheaper while policy targets stay good. The network sees each
position under a random symmetry of the board, so its own asymmetries do not steer the games.
With ``opening_moves`` > 0 each game begins with 0 to that many uniformly random legal moves
(not recorded), as evaluation games begin, so the network also learns positions its own play
avoids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agents.zero.game import Positions, move_actions, transform_planes
from agents.zero.replay import Samples
from agents.zero.search import BatchedSearch, Evaluate
from agents.zero.tree import SearchSettings


def symmetric(evaluate: Evaluate, positions: Positions, rng: np.random.Generator) -> Evaluate:
    """``evaluate`` seen through a random symmetry of the board, drawn per call."""
    codes = positions.symmetry_codes
    perms = {code: positions.action_permutation(code) for code in codes}

    def evaluate_any_way(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        code = codes[int(rng.integers(len(codes)))]
        if code == 0:
            return evaluate(planes, masks)
        perm = perms[code]
        logits, values = evaluate(transform_planes(planes, code), move_actions(masks, perm))
        return logits[:, perm], values

    return evaluate_any_way


@dataclass
class SelfPlayStats:
    """What the games finished so far looked like (reset by the reader)."""

    games: int = 0
    moves: int = 0
    first_player_score: float = 0.0  # wins + draws / 2 of the player who moves first


class SelfPlay:
    """``games`` self-play games in lock step; :meth:`step` plays one move in each."""

    def __init__(
        self,
        positions: Positions,
        evaluate: Evaluate,
        settings: SearchSettings,
        games: int,
        full_simulations: int,
        fast_simulations: int,
        full_share: float,
        seed: int = 0,
        forbid: Callable[[np.ndarray], np.ndarray | None] | None = None,
        value_q: float = 0.0,
        opening_moves: int = 0,
    ) -> None:
        """``forbid(row)``: moves kept out of the search at ``row`` (None: none), e.g. Go's
        ``first_pass_forbidden``. ``value_q``: share of the full search's root value in each
        recorded position's value target, the rest the game's result. ``opening_moves``: the
        most random moves a game begins with."""
        self.positions, self.forbid, self.value_q = positions, forbid, value_q
        self.opening_moves = opening_moves
        self.rng = np.random.default_rng(seed)
        self.search = BatchedSearch(positions, evaluate, settings, games, seed,
                                    max_simulations=full_simulations)  # fmt: skip
        self.set_evaluate(evaluate)
        self.games = games
        self.full, self.fast, self.full_share = full_simulations, fast_simulations, full_share
        self.records: list[list[tuple[np.ndarray, np.ndarray, np.ndarray, int, float]]] = [
            [] for _ in range(games)
        ]
        self.lengths = np.zeros(games, dtype=np.int64)
        self.stats = SelfPlayStats()
        self.evaluations = 0
        self._planes = np.zeros((games, *positions.obs_shape), dtype=np.float32)
        self._masks = np.zeros((games, positions.num_actions), dtype=np.bool_)
        for game in range(games):
            self._start(game)

    def _start(self, game: int) -> None:
        """Begin game ``game``: the initial position after 0 to ``opening_moves`` uniformly
        random legal moves (fewer where one would end the game)."""
        row = self.positions.initial()
        count = int(self.rng.integers(self.opening_moves + 1)) if self.opening_moves else 0
        for _ in range(count):
            legal = np.flatnonzero(self.positions.legal_mask(row))
            after = row.copy()
            self.positions.play(after, int(self.rng.choice(legal)))
            if not np.isnan(self.positions.terminal_value(after)):
                break
            row = after
        self.search.reset(game, row)

    def set_evaluate(self, evaluate: Evaluate) -> None:
        """Search with ``evaluate`` (newer weights) from now on."""
        self.search.evaluate = symmetric(evaluate, self.positions, self.rng)

    def step(self) -> tuple[int, list[Samples]]:
        """One move in every game; returns the moves played and the finished games' samples."""
        games = np.arange(self.games)
        full = self.full_share >= 1 or self.rng.random() < self.full_share
        result = self.search.run(games, self.full if full else self.fast, self_play=True,
                                 forbidden=self._forbidden())  # fmt: skip
        self.evaluations += result.evaluations
        if full:
            zeros = np.zeros(self.games, dtype=np.int64)
            self.positions.observe(self.search.trees.states, games, zeros, self._planes,
                                   self._masks)  # fmt: skip
            for game in range(self.games):
                player = self.positions.to_play(self.search.row(game))
                self.records[game].append((self._planes[game].astype(np.uint8),
                                           self._masks[game].copy(), result.policy[game],
                                           player, float(result.root_values[game])))  # fmt: skip
        self.search.advance(games, result.actions)
        self.lengths += 1
        finished = []
        for game in range(self.games):
            row = self.search.row(game)
            if not np.isnan(self.positions.terminal_value(row)):
                samples = self._finish(game, row)
                if samples is not None:
                    finished.append(samples)
                self._start(game)
        return self.games, finished

    def _forbidden(self) -> np.ndarray | None:
        """(games, A) moves kept out of each game's next search, or None."""
        if self.forbid is None:
            return None
        rules = [self.forbid(self.search.row(game)) for game in range(self.games)]
        if all(rule is None for rule in rules):
            return None
        forbidden = np.zeros((self.games, self.positions.num_actions), dtype=np.bool_)
        for game, rule in enumerate(rules):
            if rule is not None:
                forbidden[game] = rule
        return forbidden

    def _finish(self, game: int, row: np.ndarray) -> Samples | None:
        positions = self.positions
        result = positions.terminal_value(row)
        first = result if positions.to_play(row) == 0 else -result  # the first player's result
        margin, ownership = positions.outcome_targets(row)
        stats = self.stats
        stats.games += 1
        stats.moves += int(self.lengths[game])
        stats.first_player_score += (first + 1) / 2
        self.lengths[game] = 0
        records, self.records[game] = self.records[game], []
        if not records:
            return None
        sign = np.array([1.0 if r[3] == 0 else -1.0 for r in records], np.float32)
        searched = np.array([r[4] for r in records], np.float32)  # for the player to move
        points = float(np.prod(positions.board_shape))
        return Samples(
            planes=np.stack([r[0] for r in records]),
            masks=np.stack([r[1] for r in records]),
            policy=np.stack([r[2] for r in records]).astype(np.float32),
            value=(1 - self.value_q) * sign * np.float32(first) + self.value_q * searched,
            score=sign * np.float32(margin / points),
            ownership=(sign[:, None, None] * np.sign(ownership)[None]).astype(np.int8),
        )
