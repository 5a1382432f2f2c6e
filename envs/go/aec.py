"""PettingZoo AEC environment for two-player Go on boards from 5x5 to 19x19."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv
from pettingzoo.utils.env_logger import EnvLogger
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from envs.go import _batch
from envs.go._kernels import OVER
from envs.go.game import BLACK, REASONS, WHITE, GoGame, IllegalMoveError, action_to_gtp
from envs.go.render import render_frame

AGENTS = ("black_0", "white_0")
ILLEGAL_ACTIONS = ("raise", "lose")


FEATURES = tuple(_batch.FEATURE_PLANES)  # "stones", "tactics", "liberties", "benson"
TACTICS_PLANES = 4  # see envs.go._kernels.tactics_into


def observation_space(board_size: int, history: int, features: str = "stones") -> spaces.Box:
    """Return the Box of the board planes: (2 * history + 1, N, N) float32 in [0, 1], plus
    four planes with ``features="tactics"``, eight with ``"liberties"``, ten with ``"benson"``."""
    extra = _batch.FEATURE_PLANES[features]
    shape = (2 * history + 1 + extra, board_size, board_size)
    return spaces.Box(low=0.0, high=1.0, shape=shape, dtype=np.float32)


def check_history(history: int) -> int:
    """Return ``history`` if it is an int >= 1, else raise ValueError."""
    if isinstance(history, bool) or not isinstance(history, int) or history < 1:
        raise ValueError(f"history must be an int >= 1, got {history!r}")
    return history


def check_illegal_action(illegal_action: str) -> str:
    """Return ``illegal_action`` if it is "raise" or "lose", else raise ValueError."""
    if illegal_action not in ILLEGAL_ACTIONS:
        raise ValueError(f"illegal_action must be 'raise' or 'lose', got {illegal_action!r}")
    return illegal_action


def check_render_mode(render_mode: str | None, allowed: list[str]) -> str | None:
    """Return ``render_mode`` if it is None or one of ``allowed``, else raise ValueError."""
    if render_mode is not None and render_mode not in allowed:
        raise ValueError(f"render_mode must be None or one of {allowed}, got {render_mode!r}")
    return render_mode


class GoEnv(AECEnv):
    """Go between two agents, ``black_0`` (moves first) and ``white_0``.

    The rules are those of ``envs.go.game``: Tromp-Taylor area scoring, positional superko,
    suicide illegal, komi to White.

    ## Action Space

    ``Discrete(N*N + 1)``: action ``a < N*N`` places a stone at row ``a // N`` (row 0 at the
    top), column ``a % N``; ``N*N`` passes. ``envs.go.game.action_to_gtp`` names them.

    ## Observation Space

    ``observe(agent)`` returns ``{"observation": planes, "action_mask": mask}``:

    | key | space | meaning |
    |-----|-------|---------|
    | observation | Box(0, 1, (2*history+1, N, N), float32) | planes from the observer's side |
    | action_mask | Box(0, 1, (N*N+1,), int8) | 1 for legal actions; zeros unless it is the observer's turn and the game is on |

    Planes, channels first as PyTorch convolutions take them: plane ``2k`` holds the observer's
    stones ``k`` moves ago (``k = 0`` is now), plane ``2k+1`` the opponent's, for ``k < history``
    (positions before the first move are empty boards); the last plane is all 1 when the
    observer plays Black, all 0 for White. (float32 rather than uint8 so SB3 does not mistake
    the planes for an image and rescale them.)

    ``features="tactics"`` appends four planes of atari facts from the observer's side (the
    kind of input features AlphaGo gave its networks, which small networks cannot easily
    derive themselves): its stones in atari, the opponent's stones in atari, the points that
    capture, and the points that extend its own chains in atari. ``features="liberties"`` adds
    four more: its stones in chains of exactly two liberties, the opponent's, and its stones
    in chains of three or more, the opponent's (with the atari planes: liberties 1, 2, 3+ for
    both sides, KataGo's liberty inputs). ``features="benson"`` adds two more: the observer's
    pass-alive area and the opponent's (chains no sequence of moves can capture even if their
    owner always passes, and the regions they enclose where the other side can never make an
    eye; Benson's algorithm, KataGo's input of the same name).

    ## Rewards

    At the end of a game: +1 to the winner and -1 to the loser by Tromp-Taylor score, 0 to both
    on a draw (integer komi). 0 on every other step, and 0 when the move cap truncates the game.
    With ``illegal_action="lose"`` an illegal action ends the game: -1 to its player, +1 to the
    other.

    ## Episode End

    Terminated after two consecutive passes (or an illegal action under "lose"). Truncated when
    ``max_moves`` moves (passes included) have been played (terminated and scored instead with
    ``score_at_cap=True``). ``infos[agent]`` then holds
    ``"score"`` (Black's area - White's area - komi) and ``"winner"`` ("black", "white" or
    "draw") whichever way the game ended.

    ## Arguments

    - ``board_size`` (int, 9): N, from 5 to 19.
    - ``komi`` (float, 7.5): points added to White's score.
    - ``max_moves`` (int | None): move cap; default ``2 * N * N``.
    - ``history`` (int, 2): board positions per player in the planes (current included).
    - ``superko`` (bool, True): positional superko; False keeps simple ko only.
    - ``illegal_action`` ("raise" | "lose"): an illegal action raises ``IllegalMoveError`` (a
      ``ValueError`` naming the GTP move and the reason), or loses the game.
    - ``render_mode`` (None | "ansi" | "rgb_array"): text with GTP coordinates, or a picture.
    - ``features`` ("stones" | "tactics" | "liberties" | "benson"): the planes above, or those
      plus four atari planes, or plus those and four liberty planes, or plus those and the two
      pass-alive planes.
    - ``score_at_cap`` (bool, False): at the move cap, end the game as terminated and reward
      it by the Tromp-Taylor score like a finished game, instead of truncating it with 0.
      Self-play learners use it: against players that never pass, the cap is how most early
      games end, and a 0 there teaches nothing.
    - ``margin_reward`` (float, 0.0): add ``margin_reward * score / (N * N)`` to the winner's
      +1 (and take it from the loser's -1), ``score`` being the area margin after komi. With
      komi at the board's fair value, self-play Black loses nearly every game, and win/loss
      alone cannot tell it a close loss from a rout; the margin can. The reward's sign is the
      game's result whatever the value.

    ## Version History

    - v0: initial version.
    """

    metadata = {
        "render_modes": ["ansi", "rgb_array"],
        "name": "go_v0",
        "is_parallelizable": False,
        "render_fps": 2,
    }

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        max_moves: int | None = None,
        history: int = 2,
        superko: bool = True,
        illegal_action: str = "raise",
        render_mode: str | None = None,
        score_at_cap: bool = False,
        margin_reward: float = 0.0,
        features: str = "stones",
    ) -> None:
        super().__init__()
        self.score_at_cap = bool(score_at_cap)
        if not np.isfinite(margin_reward) or margin_reward < 0:
            raise ValueError(f"margin_reward must be a finite number >= 0, got {margin_reward!r}")
        self.margin_reward = float(margin_reward)
        if features not in FEATURES:
            raise ValueError(f"features must be one of {FEATURES}, got {features!r}")
        self.feature_level = _batch.FEATURE_LEVELS[features]
        self.extra_planes = _batch.FEATURE_PLANES[features]
        self.game = GoGame(board_size, komi=komi, max_moves=max_moves, superko=superko)
        self.history = check_history(history)
        self.illegal_action = check_illegal_action(illegal_action)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        n = self.game.board_size
        self.possible_agents = list(AGENTS)
        self._colors = {AGENTS[0]: BLACK, AGENTS[1]: WHITE}
        planes = observation_space(n, self.history, features)
        mask = spaces.Box(0, 1, shape=(self.game.num_actions,), dtype=np.int8)
        self.observation_spaces = {
            agent: spaces.Dict({"observation": planes, "action_mask": mask}) for agent in AGENTS
        }
        self.action_spaces = {agent: spaces.Discrete(self.game.num_actions) for agent in AGENTS}
        self._past = _batch.empty_past(self.history, n)
        self._obs_shape = planes.shape

    def observation_space(self, agent: str) -> spaces.Space:
        """Return the observation space of ``agent`` (the same object on every call)."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        """Return the action space of ``agent`` (the same object on every call)."""
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start a new game on an empty board with Black to play. (The env has no randomness;
        ``seed`` is accepted for the API.)"""
        self.game.reset()
        self._past[:] = 0
        self.agents = list(AGENTS)
        self.agent_selection = AGENTS[0]
        self.rewards = dict.fromkeys(AGENTS, 0.0)
        self._cumulative_rewards = dict.fromkeys(AGENTS, 0.0)
        self.terminations = dict.fromkeys(AGENTS, False)
        self.truncations = dict.fromkeys(AGENTS, False)
        self.infos = {agent: {} for agent in AGENTS}

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        """Return ``agent``'s planes and, on its turn, the legal-action mask."""
        obs = np.empty(self._obs_shape, dtype=np.float32)
        game = self.game
        mask = np.empty(game.num_actions, dtype=np.int8)
        color = self._colors[agent]
        if self.extra_planes:
            stones = obs[: len(obs) - self.extra_planes]
            _batch.observe_into(game._s, game._zob, self._past, color,
                                agent == self.agent_selection, stones, mask)  # fmt: skip
            _batch.features_into(game._s, color, self.feature_level, obs[len(stones) :])
        else:
            _batch.observe_into(game._s, game._zob, self._past, color,
                                agent == self.agent_selection, obs, mask)  # fmt: skip
        return {"observation": obs, "action_mask": mask}

    def last(self, observe: bool = True) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Return the selected agent's observation, reward, termination, truncation, info."""
        agent = self.agent_selection
        return (
            self.observe(agent) if observe else None,
            self._cumulative_rewards[agent],
            self.terminations[agent],
            self.truncations[agent],
            self.infos[agent],
        )

    def step(self, action: int | None) -> None:
        """Play ``action`` for ``agent_selection``; a finished agent must pass ``None``."""
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        game = self.game
        if action is None or not 0 <= action < game.num_actions:
            raise ValueError(f"action must be in 0..{game.num_actions - 1}, got {action!r}")
        action = int(action)
        code = _batch.play_record(game._s, game._zob, action, self._past)
        other = AGENTS[1] if agent == AGENTS[0] else AGENTS[0]
        if code < 0:
            self._illegal(agent, other, action, code)  # raises, or ends the game
        else:
            game.moves.append(action)
        self._cumulative_rewards[agent] = 0.0
        self.agent_selection = other
        if code >= 0:
            if not game._s[OVER]:
                return  # rewards are all 0 until the game ends: nothing to accumulate
            self._finish()
        self._accumulate_rewards()

    def _illegal(self, agent: str, other: str, action: int, code: int) -> None:
        message = f"illegal move {action_to_gtp(action, self.game.board_size)}: {REASONS[code]}"
        if self.illegal_action == "raise":
            raise IllegalMoveError(f"{agent}: {message}")
        self.rewards = {agent: -1.0, other: 1.0}
        self.terminations = dict.fromkeys(AGENTS, True)
        self._set_result_infos(illegal_move=message)

    def _finish(self) -> None:
        game = self.game
        if game.consecutive_passes >= 2 or self.score_at_cap:
            score = game.score()
            reward = float(np.sign(score)) + self.margin_reward * score / game.board_size**2
            self.rewards = {AGENTS[0]: reward, AGENTS[1]: -reward}
            self.terminations = dict.fromkeys(AGENTS, True)
        else:
            self.truncations = dict.fromkeys(AGENTS, True)
        self._set_result_infos()

    def _set_result_infos(self, **extra: str) -> None:
        score = self.game.score()
        winner = "black" if score > 0 else "white" if score < 0 else "draw"
        self.infos = {agent: {"score": score, "winner": winner, **extra} for agent in AGENTS}

    def render(self) -> str | np.ndarray | None:
        """Return the board as text ("ansi") or an RGB array ("rgb_array")."""
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode; pass render_mode=...")
            return None
        return render_frame(self.game, self.render_mode)

    def close(self) -> None:
        """Nothing to release."""

    def playout(self, u: float) -> float:
        """Black's score (area difference minus komi) after a random "light playout" from the
        current position, played on a copy (see ``envs.go._batch.playout``); ``u`` in [0, 1)
        seeds it. Tree search uses it to judge positions by playing them out."""
        game = self.game
        return float(_batch.playout(game._s.copy(), game._zob, u)) - game.komi

    def clone(self) -> GoEnv:
        """An independent copy of this env mid-game, for tree search (far cheaper than
        ``copy.deepcopy``: spaces and constants are shared, only the game state is copied)."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.game = self.game.copy()
        other._past = self._past.copy()
        for name in ("rewards", "_cumulative_rewards", "terminations", "truncations", "infos"):
            setattr(other, name, dict(getattr(self, name)))
        other.agents = list(self.agents)
        return other


class OrderEnforcing(OrderEnforcingWrapper):
    """PettingZoo's OrderEnforcingWrapper with ``last`` and ``step`` forwarded directly.

    The stock wrapper runs ``AECEnv.last`` on itself, so each of its six attribute reads goes
    through two ``__getattr__`` hops; at ~100k steps/s that was a third of the step time.
    The checks (reset before use, no step after the end) are the same.
    """

    def last(self, observe: bool = True) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Return the selected agent's observation, reward, termination, truncation, info."""
        if not self._has_reset:
            EnvLogger.error_observe_before_reset()
        return self.env.last(observe)

    def step(self, action: int | None) -> None:
        """Forward ``action`` to the env once it has been reset and has agents left."""
        if self._has_reset and self.env.agents:
            self._has_updated = True
            self.env.step(action)
        else:
            super().step(action)

    def agent_iter(self, max_iter: int = 2**63) -> Iterator[str]:
        """Yield the agent to act until the game ends (or ``max_iter`` times), as the stock
        wrapper's iterator does, without its attribute hops."""
        if not self._has_reset:
            EnvLogger.error_agent_iter_before_reset()
        return self._agents(max_iter)

    def _agents(self, max_iter: int) -> Iterator[str]:
        env = self.env
        for _ in range(max_iter):
            if not env.agents:
                return
            if not self._has_updated:
                raise AssertionError("need to call step() or reset() in a loop over `agent_iter`")
            self._has_updated = False
            yield env.agent_selection
