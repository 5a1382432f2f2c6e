"""Gymnasium one-agent view of Go: the agent plays one colour against a fixed opponent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from envs.go import _batch
from envs.go._kernels import random_legal
from envs.go.aec import check_history, check_illegal_action, check_render_mode, observation_space
from envs.go.game import BLACK, REASONS, WHITE, GoGame, IllegalMoveError, action_to_gtp
from envs.go.render import render_frame

Opponent = Callable[[np.ndarray, np.ndarray], int]
AGENT_COLORS = ("black", "white", "alternate")


def check_opponent(opponent: str | Opponent) -> str | Opponent:
    """Return ``opponent`` if it is "random" or a callable, else raise ValueError."""
    if opponent != "random" and not callable(opponent):
        raise ValueError(
            f"opponent must be 'random' or a callable (obs, mask) -> action, got {opponent!r}"
        )
    return opponent


def check_agent_color(agent_color: str) -> str:
    """Return ``agent_color`` if it is "black", "white" or "alternate", else raise ValueError."""
    if agent_color not in AGENT_COLORS:
        raise ValueError(f"agent_color must be one of {AGENT_COLORS}, got {agent_color!r}")
    return agent_color


class GoSingleEnv(gymnasium.Env):
    """Go for one agent against a fixed opponent, registered as ``learnloop/Go-v0``.

    ``gymnasium.make("learnloop/Go-v0", board_size=7, opponent="random")``. The opponent's
    moves happen inside ``step``: each step is the agent's move and, unless that ended the
    game, the opponent's reply. Rules as in ``envs.go.game`` (Tromp-Taylor, positional
    superko, suicide illegal).

    ## Action Space

    ``Discrete(N*N + 1)``: ``a < N*N`` places a stone at row ``a // N`` (row 0 at the top),
    column ``a % N``; ``N*N`` passes. Legal actions: ``action_masks()`` (bool, for sb3-contrib
    MaskablePPO) or ``info["action_mask"]`` (int8).

    ## Observation Space

    ``Box(0, 1, (2*history+1, N, N), float32)``, channels first, from the agent's side: plane
    ``2k`` the agent's stones ``k`` moves ago, plane ``2k+1`` the opponent's (``k < history``),
    last plane all 1 when the agent plays Black. Same planes as the AEC env (``envs.go.GoEnv``).

    ## Rewards

    +1 win, -1 loss, 0 draw (integer komi) when the game ends by two passes; 0 otherwise,
    including when the move cap truncates the game (unless ``score_at_cap``). An illegal
    action under ``illegal_action="lose"`` ends the game with -1.

    ## Episode End

    Terminated after two consecutive passes (or an illegal action under "lose"); truncated at
    ``max_moves`` moves, both players' moves and passes counted (terminated and scored like
    two passes with ``score_at_cap=True``). The final ``info`` holds
    ``"score"`` (Black - White - komi) and ``"winner"`` ("black", "white" or "draw").

    ## Arguments

    - ``board_size`` (int, 9), ``komi`` (float, 7.5), ``max_moves`` (int | None: 2*N*N),
      ``history`` (int, 2), ``superko`` (bool, True): as in ``envs.go.GoEnv``.
    - ``opponent`` ("random" | callable): "random" picks uniformly among legal actions, pass
      included, with the env's ``np_random``; a callable gets ``(planes, int8 mask)`` from its
      own side and returns an action.
    - ``agent_color`` ("black" | "white" | "alternate"): "alternate" switches every episode,
      starting with Black. ``info["agent_color"]`` says which.
    - ``illegal_action`` ("raise" | "lose"): raise ``IllegalMoveError`` (a ValueError naming the
      GTP move), or lose the game.
    - ``render_mode`` (None | "ansi" | "rgb_array").
    - ``score_at_cap`` (bool, False): as in ``envs.go.GoEnv``: score games that reach the cap.

    ## Version History

    - v0: initial version.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 2}

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        max_moves: int | None = None,
        history: int = 2,
        superko: bool = True,
        opponent: str | Opponent = "random",
        agent_color: str = "black",
        illegal_action: str = "raise",
        render_mode: str | None = None,
        score_at_cap: bool = False,
    ) -> None:
        self.score_at_cap = bool(score_at_cap)
        self.game = GoGame(board_size, komi=komi, max_moves=max_moves, superko=superko)
        self.history = check_history(history)
        self.opponent = check_opponent(opponent)
        self.agent_color = check_agent_color(agent_color)
        self.illegal_action = check_illegal_action(illegal_action)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.observation_space = observation_space(self.game.board_size, self.history)
        self.action_space = spaces.Discrete(self.game.num_actions)
        self._past = _batch.empty_past(self.history, self.game.board_size)
        self._mask = np.zeros(self.game.num_actions, dtype=np.int8)
        self._color = WHITE  # flipped to Black by the first reset under "alternate"
        self._done = True  # until reset()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new game; if the agent plays White, the opponent has moved first."""
        super().reset(seed=seed)
        if self.agent_color == "alternate":
            self._color = BLACK if self._color == WHITE else WHITE
        else:
            self._color = BLACK if self.agent_color == "black" else WHITE
        self.game.reset()
        self._past[:] = 0
        self._done = False
        if self._color == WHITE:
            self._opponent_move()
        obs = self._observe(self._color)
        return obs, self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Play the agent's ``action`` and the opponent's reply."""
        game = self.game
        if self._done:
            raise ValueError("step() called after the episode ended; call reset()")
        if not 0 <= action < game.num_actions:
            raise ValueError(f"action must be in 0..{game.num_actions - 1}, got {action!r}")
        code = _batch.play_record(game._s, game._zob, int(action), self._past)
        if code < 0:
            return self._illegal(int(action), code)
        game.moves.append(int(action))
        if not game.is_over():
            self._opponent_move()
        reward, terminated, truncated = _batch.outcome(
            game._s, self._color, game.komi, self.score_at_cap
        )
        self._done = terminated or truncated
        obs = self._observe(self._color)
        info = self._info(final=terminated or truncated)
        return obs, reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        """Return the (N*N+1,) bool mask of the agent's legal actions (MaskablePPO's hook)."""
        return self._mask.astype(bool)

    def _observe(self, color: int) -> np.ndarray:
        obs = np.empty(self.observation_space.shape, dtype=np.float32)
        game = self.game
        _batch.observe_into(game._s, game._zob, self._past, color, True, obs, self._mask)
        return obs

    def _opponent_move(self) -> None:
        game = self.game
        if self.opponent == "random":
            action = random_legal(game._s, game._zob, self.np_random.random())
        else:
            obs = self._observe(3 - self._color)
            action = int(self.opponent(obs, self._mask.copy()))
            reason = game.illegal_reason(action)
            if reason is not None:
                raise ValueError(f"the opponent chose an illegal move {action}: {reason}")
        _batch.play_record(game._s, game._zob, action, self._past)
        game.moves.append(action)

    def _illegal(self, action: int, code: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        message = f"illegal move {action_to_gtp(action, self.game.board_size)}: {REASONS[code]}"
        if self.illegal_action == "raise":
            raise IllegalMoveError(message)
        obs = self._observe(self._color)
        self._mask[:] = 0
        self._done = True  # the board is unchanged; only the episode ends
        return obs, -1.0, True, False, {**self._info(final=True), "illegal_move": message}

    def _info(self, final: bool = False) -> dict[str, Any]:
        color = "black" if self._color == BLACK else "white"
        info: dict[str, Any] = {"action_mask": self._mask.copy(), "agent_color": color}
        if final:
            score = self.game.score()
            info["score"] = score
            info["winner"] = "black" if score > 0 else "white" if score < 0 else "draw"
        return info

    def render(self) -> str | np.ndarray | None:
        """Return the board as text ("ansi") or an RGB array ("rgb_array")."""
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode; pass render_mode=...")
            return None
        return render_frame(self.game, self.render_mode)
