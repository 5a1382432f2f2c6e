"""What a two-player board game gives AlphaZero's search: positions as rows of int64.

The search (agents/zero/tree.py) never sees a game's rules. It keeps a table ``states`` of
shape (games, nodes, state_size), int64, one row per tree node, and asks the game, for many
nodes of many trees in one compiled call, to fill a child's row from its parent's by playing a
move, and to describe it (the network's input planes, the legal moves, the result when the game
is over). Each game implements :class:`Positions` next to its rules in ``envs/`` (Go in
``envs.go.kernels``, tic-tac-toe and connect four in ``envs.classic``), so agents import only
those public modules.

Symmetries (for data augmentation and for randomising the network's view in self-play) are
codes of the dihedral group acting on the (H, W) board: ``code & 3`` quarter turns
(``np.rot90`` on the last two axes), then a left-right flip when ``code & 4``. A game lists the
codes that keep its rules unchanged (all 8 for Go and tic-tac-toe, the flip for connect four)
and maps its actions under each code.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

DIHEDRAL = tuple(range(8))


class Positions(Protocol):
    """The search's view of a two-player, zero-sum, alternating-move game."""

    num_actions: int
    obs_shape: tuple[int, int, int]  # (C, H, W) float32 planes, from the player to move
    state_size: int  # int64 values per position row
    board_shape: tuple[int, int]  # (H, W)
    symmetry_codes: tuple[int, ...]  # dihedral codes that keep the rules unchanged
    has_ownership: bool  # whether outcome_targets' ownership means anything (Go: yes)

    def initial(self) -> np.ndarray:
        """The row of the starting position, (state_size,) int64."""
        ...

    def play(self, row: np.ndarray, action: int) -> None:
        """Play ``action`` for the side to move in place; ValueError if it is illegal."""
        ...

    def legal_mask(self, row: np.ndarray) -> np.ndarray:
        """(num_actions,) bool: the legal moves; all False once the game is over."""
        ...

    def to_play(self, row: np.ndarray) -> int:
        """0 when the first player (Black, X, player_0) is to move, else 1."""
        ...

    def terminal_value(self, row: np.ndarray) -> float:
        """NaN while the game is on; at the end +1 / -1 / 0 for the player to move."""
        ...

    def observe(
        self,
        states: np.ndarray,
        games: np.ndarray,
        nodes: np.ndarray,
        obs: np.ndarray,
        masks: np.ndarray,
    ) -> None:
        """For each i: the planes and legal mask of ``states[games[i], nodes[i]]`` into
        ``obs[i]`` (C, H, W) float32 and ``masks[i]`` (num_actions,) bool."""
        ...

    def expand(
        self,
        states: np.ndarray,
        games: np.ndarray,
        parents: np.ndarray,
        children: np.ndarray,
        actions: np.ndarray,
        obs: np.ndarray,
        masks: np.ndarray,
        terminal: np.ndarray,
    ) -> None:
        """For each i: ``states[g, children[i]] = states[g, parents[i]]`` with ``actions[i]``
        played (``g = games[i]``; the action is legal), then its planes into ``obs[i]``, its
        legal mask into ``masks[i]`` and ``terminal[i]`` = its ``terminal_value``."""
        ...

    def outcome_targets(self, row: np.ndarray) -> tuple[float, np.ndarray]:
        """At the end of a game: the first player's score margin (0 where a game has none) and
        (H, W) float32 ownership from the first player's side (+1 its, -1 the other's, 0
        neither; zeros where a game has none)."""
        ...

    def action_permutation(self, code: int) -> np.ndarray:
        """(num_actions,) int: ``perm[a]`` is where action ``a`` goes under symmetry ``code``."""
        ...

    def first_pass_forbidden(self, row: np.ndarray) -> np.ndarray | None:
        """(num_actions,) bool: moves a player that does not pass first keeps out of its search
        at ``row``, or None (games without passing: always None)."""
        ...


def transform_planes(planes: np.ndarray, code: int) -> np.ndarray:
    """Apply dihedral ``code`` to the last two axes of ``planes`` (any leading axes)."""
    out = np.rot90(planes, code & 3, axes=(-2, -1))
    if code & 4:
        out = np.flip(out, axis=-1)
    return out


def move_actions(values: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """``values`` (B, A), one column per action, as the board turned by the symmetry of
    ``perm`` sees them: column ``a`` moves to ``perm[a]`` (``moved[:, perm]`` turns back)."""
    moved = np.empty_like(values)
    moved[:, perm] = values
    return moved


def board_action_permutation(height: int, width: int, code: int, extra: int = 0) -> np.ndarray:
    """``perm`` for games whose actions are the H*W points (row-major) plus ``extra`` actions
    (Go's pass) that no symmetry moves."""
    index = np.arange(height * width).reshape(height, width)
    moved = transform_planes(index, code)  # moved[r, c] = the old point now at (r, c)
    perm = np.empty(height * width + extra, dtype=np.int64)
    perm[moved.reshape(-1)] = np.arange(height * width)
    perm[height * width :] = np.arange(height * width, height * width + extra)
    return perm


def check_positions(positions: Positions) -> None:
    """Raise ValueError when a game's declared shapes disagree with what it produces."""
    row = positions.initial()
    if row.shape != (positions.state_size,) or row.dtype != np.int64:
        raise ValueError(
            f"{type(positions).__name__}.initial() gave {row.shape} {row.dtype}, "
            f"expected ({positions.state_size},) int64"
        )
    mask = positions.legal_mask(row)
    if mask.shape != (positions.num_actions,):
        raise ValueError(f"legal_mask has shape {mask.shape}, expected ({positions.num_actions},)")
    for code in positions.symmetry_codes:
        perm = positions.action_permutation(code)
        if sorted(perm.tolist()) != list(range(positions.num_actions)):
            raise ValueError(f"action_permutation({code}) is not a permutation")
