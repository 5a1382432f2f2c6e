"""tictactoe and connect_four: PettingZoo's classic games through the self-play pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.boardgames.base import BoardEvalConfig, BoardGameConfig, BoardGameTask
from tasks.config import describe, section


def _classic_eval() -> BoardEvalConfig:
    return BoardEvalConfig(
        episodes=20, opponents=["random", "minimax"], periodic_opponents=["random", "minimax"],
        opening_moves=0,
    )  # fmt: skip


@dataclass
class TicTacToeConfig(BoardGameConfig):
    """Config of the tictactoe task."""

    eval: BoardEvalConfig = section(_classic_eval, "Evaluation.")


@dataclass
class ConnectFourEnvConfig:
    """The connect four opponent's strength."""

    minimax_depth: int = describe("Moves the minimax opponent looks ahead.", 2, min=1, max=6)


@dataclass
class ConnectFourConfig(BoardGameConfig):
    """Config of the connect_four task."""

    env: ConnectFourEnvConfig = section(ConnectFourEnvConfig, "The game.")
    eval: BoardEvalConfig = section(_classic_eval, "Evaluation.")


class _ClassicTask(BoardGameTask):
    """A PettingZoo classic game with (H, W, 2) observations."""

    def obs_transform(self, obs: np.ndarray) -> np.ndarray:
        return np.moveaxis(np.asarray(obs, dtype=np.float32), -1, 0)

    def minimax_depth(self, cfg: Any) -> int | None:
        return None

    def player(self, cfg: Any, name: str, seed: int, seconds_per_move: float = 0.0) -> Any:
        if name == "minimax":
            from agents.baselines.minimax import MinimaxPlayer

            return MinimaxPlayer(self.positions(cfg), self.minimax_depth(cfg), seed)
        return super().player(cfg, name, seed)


class TicTacToeTask(_ClassicTask):
    """Tic-tac-toe: self-play PPO, evaluated against random and perfect minimax play."""

    name = "tictactoe"
    config_cls = TicTacToeConfig

    def make_game(self, cfg: Any) -> Any:
        from pettingzoo.classic import tictactoe_v3

        return tictactoe_v3.env()

    def positions(self, cfg: Any) -> Any:
        from envs.classic.tictactoe import TicTacToePositions

        return TicTacToePositions()


class ConnectFourTask(_ClassicTask):
    """Connect four: self-play PPO, evaluated against random and a shallow minimax."""

    name = "connect_four"
    config_cls = ConnectFourConfig

    def make_game(self, cfg: Any) -> Any:
        from pettingzoo.classic import connect_four_v3

        return connect_four_v3.env()

    def positions(self, cfg: Any) -> Any:
        from envs.classic.connect_four import ConnectFourPositions

        return ConnectFourPositions()

    def minimax_depth(self, cfg: Any) -> int | None:
        return cfg.env.minimax_depth
