"""A Gymnasium VectorEnv of many Go boards, each the one-agent view of ``envs.go.single``."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs.go import _batch
from envs.go._kernels import TO_PLAY
from envs.go._scoring import state_area_difference
from envs.go.aec import check_history, check_illegal_action, observation_space
from envs.go.game import BLACK, REASONS, WHITE, GoGame, IllegalMoveError, action_to_gtp
from envs.go.single import Opponent, check_agent_color, check_opponent

REWARD, TERMINATED, TRUNCATED, CODE = range(4)  # columns of the per-board step results


class GoVectorEnv(VectorEnv):
    """``num_envs`` boards of ``learnloop/Go-v0`` advanced together by numba kernels.

    Spaces, rewards and episode ends are those of ``envs.go.single.GoSingleEnv``, batched:
    observations (B, 2*history+1, N, N) float32, actions (B,) ints. The random opponent's
    replies are played inside the same kernel call as the agents' moves. Legal actions:
    ``action_masks()`` (B, N*N+1) bool, also ``infos["action_mask"]``.

    Finished boards reset automatically, as ``autoreset_mode`` says:

    - ``"next_step"`` (Gymnasium's default): the step that ends an episode returns its last
      observation; the next ``step`` resets that board, ignoring its action (reward 0).
    - ``"same_step"``: the ending step already returns the new episode's first observation;
      the last one is in ``infos["final_obs"]`` (object array, ``infos["_final_obs"]`` marks
      which) and ``infos["final_info"]``.

    Args:
        num_envs: number of boards B.
        board_size, komi, max_moves, history, superko, illegal_action, score_at_cap: as in
            GoSingleEnv.
        opponent: "random", or a callable ``(planes (b, C, N, N), masks (b, N*N+1) int8) ->
            actions (b,)`` called once per step for the boards where the opponent moves.
        agent_color: "black", "white", or "alternate" (each board switches every episode; the
            even-numbered boards start as Black).
        autoreset_mode: "next_step" or "same_step" (or the ``AutoresetMode`` members).
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 8,
        board_size: int = 9,
        komi: float = 7.5,
        max_moves: int | None = None,
        history: int = 2,
        superko: bool = True,
        opponent: str | Opponent = "random",
        agent_color: str = "black",
        illegal_action: str = "raise",
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        score_at_cap: bool = False,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        self.game = GoGame(board_size, komi=komi, max_moves=max_moves, superko=superko)
        self.num_envs = num_envs
        self.score_at_cap = bool(score_at_cap)
        self.history = check_history(history)
        self.opponent = check_opponent(opponent)
        self.agent_color = check_agent_color(agent_color)
        self.illegal_action = check_illegal_action(illegal_action)
        self.autoreset_mode = _check_autoreset_mode(autoreset_mode)
        self.metadata = {"autoreset_mode": self.autoreset_mode}
        n = self.game.board_size
        self.single_observation_space = observation_space(n, self.history)
        self.single_action_space = spaces.Discrete(self.game.num_actions)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._states = np.tile(self.game._s, (num_envs, 1))
        self._past = np.zeros((num_envs, self.history, n * n), dtype=np.int8)
        self._colors = np.full(num_envs, BLACK, dtype=np.int64)
        if self.agent_color == "white":
            self._colors[:] = WHITE
        elif self.agent_color == "alternate":
            self._colors[0::2] = WHITE  # flipped by the first reset: even boards start Black
        self._obs = np.zeros((num_envs, *self.single_observation_space.shape), dtype=np.float32)
        self._masks = np.zeros((num_envs, self.game.num_actions), dtype=np.int8)
        self._results = np.zeros((num_envs, 4), dtype=np.float64)
        self._needs_reset = np.ones(num_envs, dtype=bool)
        self._all = np.arange(num_envs)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new episode on every board."""
        super().reset(seed=seed, options=options)
        self._reset_boards(np.ones(self.num_envs, dtype=bool))
        self._needs_reset[:] = False
        self._observe_all()
        return self._obs.copy(), {"action_mask": self._masks.copy()}

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Play one action per board (and the opponent's replies); reset finished boards."""
        actions = self._check_actions(actions)
        self._results[:] = 0
        active = ~self._needs_reset
        self._reset_boards(self._needs_reset)  # next_step mode: these boards skip this step
        self._advance(actions, active, self._results, is_agent=True)
        if self.opponent != "random":
            self._callable_replies(active & ~self._done(), self._results)
        rewards = self._results[:, REWARD].astype(np.float64)
        terminated = self._results[:, TERMINATED] > 0
        truncated = self._results[:, TRUNCATED] > 0
        infos = self._end_infos(terminated | truncated)
        self._needs_reset = terminated | truncated
        if self.autoreset_mode == AutoresetMode.SAME_STEP and self._needs_reset.any():
            self._observe_all()
            infos["final_obs"] = np.full(self.num_envs, None, dtype=object)
            for i in np.flatnonzero(self._needs_reset):
                infos["final_obs"][i] = self._obs[i].copy()
            infos["_final_obs"] = self._needs_reset.copy()
            self._reset_boards(self._needs_reset)
            self._needs_reset[:] = False
        self._observe_all()
        infos["action_mask"] = self._masks.copy()
        return self._obs.copy(), rewards, terminated, truncated, infos

    def action_masks(self) -> np.ndarray:
        """Return the (B, N*N+1) bool masks of legal actions (sb3-contrib's hook)."""
        return self._masks.astype(bool)

    def _check_actions(self, actions: np.ndarray) -> np.ndarray:
        array = np.asarray(actions)
        if array.shape != (self.num_envs,) or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(
                f"actions must be {self.num_envs} ints, got {array.dtype} shape {array.shape}"
            )
        return array.astype(np.int64)

    def _advance(
        self, actions: np.ndarray, active: np.ndarray, results: np.ndarray, is_agent: bool
    ) -> None:
        """Play ``actions`` on ``active`` boards, writing rewards and ends into ``results``."""
        game = self.game
        random_reply = self.opponent == "random"
        uniforms = self.np_random.random(self.num_envs)
        lose = self.illegal_action == "lose" and is_agent
        bad = _batch.vec_advance(
            self._states, game._zob, self._past, actions, active, self._colors,
            random_reply and is_agent, uniforms, game.komi, self.score_at_cap, lose, results,
        )  # fmt: skip
        if bad >= 0:
            code = int(self._results[bad, CODE])
            move = action_to_gtp(int(actions[bad]), game.board_size)
            who = f"board {bad}" if is_agent else f"the opponent on board {bad}"
            raise IllegalMoveError(f"{who}: illegal move {move}: {REASONS[code]}")

    def _callable_replies(self, boards: np.ndarray, results: np.ndarray) -> None:
        """Ask a callable opponent for moves on ``boards`` (bool) where it is to play."""
        boards = boards & (self._states[:, TO_PLAY] != self._colors)
        if not boards.any():
            return
        index = np.flatnonzero(boards)
        obs = np.empty((len(index), *self.single_observation_space.shape), dtype=np.float32)
        masks = np.empty((len(index), self.game.num_actions), dtype=np.int8)
        opp = (3 - self._colors[index]).astype(np.int64)
        game = self.game
        _batch.vec_observe(self._states, game._zob, self._past, index, opp, obs, masks)
        replies = np.zeros(self.num_envs, dtype=np.int64)
        replies[index] = np.asarray(self.opponent(obs, masks), dtype=np.int64).reshape(-1)
        self._advance(replies, boards, results, is_agent=False)

    def _done(self) -> np.ndarray:
        return (self._results[:, TERMINATED] > 0) | (self._results[:, TRUNCATED] > 0)

    def _reset_boards(self, which: np.ndarray) -> None:
        if not which.any():
            return
        game = self.game
        random_reply = self.opponent == "random"
        uniforms = self.np_random.random(self.num_envs)
        alternate = self.agent_color == "alternate"
        _batch.vec_reset(
            self._states, game._zob, self._past, game._empty, which, self._colors,
            alternate, random_reply, uniforms,
        )  # fmt: skip
        if not random_reply:  # White agents wait for the opponent's first move
            self._callable_replies(which, np.zeros_like(self._results))

    def _observe_all(self) -> None:
        game = self.game
        _batch.vec_observe(
            self._states, game._zob, self._past, self._all, self._colors, self._obs, self._masks
        )
        # A finished board waiting for its reset (next_step mode) ignores its next action, but
        # an all-zero mask would break masked sampling: mark pass legal there.
        self._masks[self._needs_reset, self.game.pass_action] = 1

    def _end_infos(self, ended: np.ndarray) -> dict[str, Any]:
        if not ended.any():
            return {}
        scores = np.zeros(self.num_envs)
        for i in np.flatnonzero(ended):
            scores[i] = state_area_difference(self._states[i]) - self.game.komi
        info = {"score": scores, "_score": ended.copy()}
        if self.autoreset_mode == AutoresetMode.SAME_STEP:
            return {"final_info": info, "_final_info": ended.copy()}
        return info


def _check_autoreset_mode(mode: str | AutoresetMode) -> AutoresetMode:
    modes = {"next_step": AutoresetMode.NEXT_STEP, "same_step": AutoresetMode.SAME_STEP}
    if isinstance(mode, AutoresetMode) and mode in modes.values():
        return mode
    if mode in modes:
        return modes[mode]
    raise ValueError(f"autoreset_mode must be 'next_step' or 'same_step', got {mode!r}")
