"""Self-play for any two-player zero-sum PettingZoo AEC game with action masks.

:class:`SelfPlayEnv` turns an AEC game into a single-agent Gymnasium env: the learner takes one
seat (alternating between games, so it plays both colours), and the other seat is played by an
opponent drawn from an :class:`OpponentPool` at every reset. The pool holds the learner's own
past snapshots plus fixed players (random, a heuristic), drawn with a configurable share.
:func:`play_match` plays two policies against each other for evaluation.

A *policy* here is an :class:`agents.base.Player`: ``(observation, action_mask) -> action``,
told of every move and of each new game. Nothing in this module knows which game it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from agents.base import Player

Policy = Player  # (observation, action_mask) -> action, with reset / observe / seed / close
ObsTransform = Callable[[Any], np.ndarray]


class RandomPolicy(Player):
    """Picks uniformly among legal actions.

    Like every stochastic policy here it has ``seed(int)``; :class:`SelfPlayEnv` calls it at
    each reset so that games replay exactly under the env's seed.
    """

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def seed(self, seed: int) -> None:
        """Restart the random stream."""
        self.rng = np.random.default_rng(seed)

    def __call__(self, obs: Any, mask: np.ndarray) -> int:
        return int(self.rng.choice(np.flatnonzero(mask)))


PlayerFactory = Callable[[int], Policy]  # seed -> a new player


@dataclass
class OpponentPool:
    """Fixed opponents plus the learner's recent snapshots; one is drawn per game.

    Fixed opponents are given as factories (``seed -> player``) so that every env builds its
    own instance: players that follow the game (search, minimax, GTP engines) hold per-game
    state and cannot be shared. Snapshots are stateless and shared.

    With probability ``fixed_share`` (or always, while there is no snapshot yet) a fixed
    opponent is drawn, uniformly; otherwise a snapshot, uniformly among the newest
    ``max_snapshots``.
    """

    fixed: dict[str, PlayerFactory]
    fixed_share: float = 0.2
    max_snapshots: int = 8
    seed: int = 0
    snapshots: list[tuple[str, Policy]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not 0.0 <= self.fixed_share <= 1.0:
            raise ValueError(f"fixed_share must be in [0, 1], got {self.fixed_share}")
        if not self.fixed and self.fixed_share > 0:
            raise ValueError("a pool with fixed_share > 0 needs at least one fixed opponent")
        self.rng = np.random.default_rng(self.seed)
        self.games: dict[str, int] = {}

    def add_snapshot(self, name: str, policy: Policy) -> None:
        """Add a frozen copy of the learner; the oldest falls out beyond ``max_snapshots``."""
        self.snapshots.append((name, policy))
        del self.snapshots[: -self.max_snapshots]

    def sample(self, rng: np.random.Generator | None = None) -> tuple[str, Policy | None]:
        """Draw the opponent for the next game (with ``rng``, else the pool's own).

        Returns the name and, for a snapshot, the player; for a fixed opponent the player is
        None and the caller builds its own from ``fixed[name]``.
        """
        rng = rng or self.rng
        use_fixed = not self.snapshots or rng.random() < self.fixed_share
        if use_fixed:
            names = sorted(self.fixed)
            choice: tuple[str, Policy | None] = (names[rng.integers(len(names))], None)
        else:
            choice = self.snapshots[rng.integers(len(self.snapshots))]
        self.games[choice[0]] = self.games.get(choice[0], 0) + 1
        return choice


def _bounds(space: Any) -> tuple[float, float]:
    """The value range of an AEC observation space's ``observation`` part."""
    inner = space["observation"] if isinstance(space, gym.spaces.Dict) else space
    if isinstance(inner, gym.spaces.Box):
        return float(np.min(inner.low)), float(np.max(inner.high))
    return -np.inf, np.inf


def _identity(obs: Any) -> np.ndarray:
    return np.asarray(obs, dtype=np.float32)


class SelfPlayEnv(gym.Env):
    """One seat of a two-player AEC game as a Gymnasium env; the other seat is the pool's.

    The learner's seat is drawn per game (``seat="random"``, reproducible under a seed),
    alternates (``"alternate"``), or is fixed (``"first"``, ``"second"``), so it learns both
    colours.

    Observation: ``obs_transform(aec_obs["observation"])`` for the learner (a Box); the legal
    actions come from :meth:`action_masks` (for sb3-contrib's MaskablePPO) and
    ``info["action_mask"]``. Reward: the learner's game reward, given when the game ends
    (+1 win, -1 loss, 0 draw). Opponents see the same transformed observations as the learner. ``info["outcome"]`` and ``info["opponent"]`` are set at the end.
    An illegal action raises ValueError, or with ``illegal_action="lose"`` ends the game as a
    loss.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        make_game: Callable[[], Any],
        pool: OpponentPool,
        obs_transform: ObsTransform = _identity,
        seat: str = "random",
        illegal_action: str = "raise",
    ) -> None:
        if illegal_action not in ("raise", "lose"):
            raise ValueError(f"illegal_action must be 'raise' or 'lose', got {illegal_action!r}")
        self.illegal_action = illegal_action
        if seat not in ("random", "alternate", "first", "second"):
            raise ValueError(
                f"seat must be 'random', 'alternate', 'first' or 'second', got {seat!r}"
            )
        self.game = make_game()
        self.pool = pool
        self.obs_transform = obs_transform
        self.seat = seat
        self.game.reset(seed=0)
        agents = list(self.game.possible_agents)
        if len(agents) != 2:
            raise ValueError(f"self-play needs a two-player game, got agents {agents}")
        self.agents = agents
        first_obs = self.game.observe(agents[0])
        sample = obs_transform(first_obs["observation"])
        low, high = _bounds(self.game.observation_space(agents[0]))
        self.observation_space = gym.spaces.Box(low, high, sample.shape, np.float32)
        self.action_space = self.game.action_space(agents[0])
        self._games = 0
        self._fixed: dict[str, Policy] = {}  # this env's own instances of the fixed players
        self._mask = np.ones(self.action_space.n, dtype=bool)
        self._reward = 0.0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.game.reset(seed=int(self.np_random.integers(2**31)))
        if self.seat == "random":  # drawn from the env's seeded generator: reproducible
            index = int(self.np_random.integers(2))
        else:
            index = {"first": 0, "second": 1}.get(self.seat, self._games % 2)
        self._games += 1
        self.learner = self.agents[index]
        self.opponent_name, opponent = self.pool.sample(self.np_random)
        if opponent is None:
            if self.opponent_name not in self._fixed:
                self._fixed[self.opponent_name] = self.pool.fixed[self.opponent_name](0)
            opponent = self._fixed[self.opponent_name]
        self.opponent = opponent
        self.opponent.seed(int(self.np_random.integers(2**31)))
        self.opponent.reset()  # stateful players follow the game themselves
        self._play_opponent()
        return self._observe(), {"action_mask": self._mask, "opponent": self.opponent_name}

    def _observe(self) -> np.ndarray:
        obs = self.game.observe(self.learner)
        self._mask = np.asarray(obs["action_mask"], dtype=bool)
        return self.obs_transform(obs["observation"]).astype(np.float32, copy=False)

    def _game_over(self) -> bool:
        return not self.game.agents or all(
            self.game.terminations[a] or self.game.truncations[a] for a in self.game.agents
        )

    def _move(self, action: int) -> None:
        self.game.step(action)
        self._reward += float(self.game.rewards.get(self.learner, 0.0))
        self.opponent.observe(action)

    def _play_opponent(self) -> None:
        while not self._game_over() and self.game.agent_selection != self.learner:
            obs = self.game.observe(self.game.agent_selection)
            mask = np.asarray(obs["action_mask"], dtype=bool)
            planes = self.obs_transform(obs["observation"])
            self._move(int(self.opponent(planes, mask)))

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        action = int(action)
        if not 0 <= action < len(self._mask) or not self._mask[action]:
            if self.illegal_action == "raise":
                raise ValueError(f"illegal action {action} for {self.learner}")
            obs = self._terminal_obs()
            return (
                obs,
                -1.0,
                True,
                False,
                {
                    "action_mask": self._mask,
                    "outcome": -1.0,
                    "opponent": self.opponent_name,
                    "illegal": True,
                    "learner_seat": self.agents.index(self.learner),
                },
            )
        # The learner's reward since its own move (the opponent's reply may end the game),
        # summed from each step's public ``rewards``.
        self._reward = 0.0
        self._move(action)
        self._play_opponent()
        reward = self._reward
        done = self._game_over()
        terminated = done and any(self.game.terminations.values())
        truncated = done and not terminated
        obs = self._observe() if not done else self._terminal_obs()
        info: dict[str, Any] = {"action_mask": self._mask, "opponent": self.opponent_name}
        if done:
            info["outcome"] = float(np.sign(reward))
            info["learner_seat"] = self.agents.index(self.learner)
        return obs, reward, terminated, truncated, info

    def _terminal_obs(self) -> np.ndarray:
        obs = self.game.observe(self.learner)
        self._mask = np.zeros_like(self._mask)
        self._mask[0] = True  # keep one "legal" action so maskable samplers stay defined
        return self.obs_transform(obs["observation"]).astype(np.float32, copy=False)

    def action_masks(self) -> np.ndarray:
        """Legal actions for the learner now (sb3-contrib's MaskablePPO calls this by name)."""
        return self._mask


@dataclass
class GameRecord:
    """One evaluation game: who sat where, the result and the actions played."""

    first: str
    second: str
    winner: int  # 0: first seat won, 1: second seat won, -1: draw
    actions: list[int]
    rewards: tuple[float, float]
    info: dict[str, Any] = field(default_factory=dict)  # the env's final info (e.g. Go's score)


def play_game(
    game: Any,
    policies: tuple[Policy, Policy],
    names: tuple[str, str],
    seed: int,
    opening_moves: int = 0,
    obs_transform: ObsTransform | None = None,
) -> GameRecord:
    """Play one game of an AEC env between two policies (seat 0 moves first).

    Policies see ``obs_transform(observation)`` (the raw observation without one). The first
    ``opening_moves`` moves are drawn uniformly from the legal ones (seeded), so
    deterministic players still meet varied positions. Stateful players may define
    ``reset()`` (called before the game) and ``observe(action)`` (called after every move,
    theirs included): the GTP and search players keep their own board that way.
    """
    game.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for policy in policies:
        policy.reset()
    agents = list(game.possible_agents)
    actions: list[int] = []
    totals = dict.fromkeys(agents, 0.0)
    final_info: dict[str, Any] = {}
    for agent in game.agent_iter():
        obs, reward, terminated, truncated, info = game.last()
        if terminated or truncated:
            totals[agent] = float(reward)  # last() holds the reward since this agent's last move
            final_info = dict(info)
            game.step(None)
            continue
        mask = np.asarray(obs["action_mask"], dtype=bool)
        if len(actions) < opening_moves:
            action = int(rng.choice(np.flatnonzero(mask)))
        else:
            planes = (
                obs["observation"] if obs_transform is None else obs_transform(obs["observation"])
            )
            action = int(policies[agents.index(agent)](planes, mask))
        actions.append(action)
        game.step(action)
        for policy in policies:
            policy.observe(action)
    rewards = (totals[agents[0]], totals[agents[1]])
    winner = 0 if rewards[0] > rewards[1] else 1 if rewards[1] > rewards[0] else -1
    return GameRecord(names[0], names[1], winner, actions, rewards, final_info)


OUTCOMES = ("wins", "draws", "losses")  # play_match's counts, from its policy's side
SEAT_KEYS = tuple(f"first_{outcome}" for outcome in OUTCOMES)  # the same, in the first seat only


def seat_result(record: GameRecord, seat: int) -> tuple[str, float | None]:
    """One game from the side of whoever sat in ``seat`` (0: first): its outcome (one of
    ``OUTCOMES``) and its score margin, where the env's final info has one (else None)."""
    outcome = "draws" if record.winner == -1 else "wins" if record.winner == seat else "losses"
    margin = record.info.get("score")  # the first seat's margin (Go: Black - White - komi)
    return outcome, None if margin is None else (margin if seat == 0 else -margin)


def _score(counts: dict[str, float], games: int) -> float:
    """Wins plus half the draws, over games."""
    return (counts["wins"] + 0.5 * counts["draws"]) / games


def play_match(
    make_game: Callable[[], Any],
    policy: Policy,
    opponent: Policy,
    games: int,
    seed: int = 0,
    names: tuple[str, str] = ("agent", "opponent"),
    on_game: Callable[[GameRecord, int], None] | None = None,
    opening_moves: int = 0,
    obs_transform: ObsTransform | None = None,
) -> dict[str, float]:
    """``policy`` against ``opponent`` for ``games`` games, alternating seats.

    Games come in pairs with the same seed (so the same random opening), one with each
    seating. Returns wins, draws and losses from ``policy``'s side, those of its games in the
    first seat (``first_wins``, ``first_draws``, ``first_losses``: Black in Go, where komi
    makes the seats unequal), its score (wins + draws / 2) divided by games, and where the
    env's final info has a ``score`` for the first seat, ``mean_margin`` from ``policy``'s
    side. ``on_game(record, index)`` sees every game.
    """
    game = make_game()
    counts = dict.fromkeys((*OUTCOMES, *SEAT_KEYS), 0)
    margins: list[float] = []
    for index in range(games):
        pair_seed = seed + index // 2
        if index % 2 == 0:
            record = play_game(
                game, (policy, opponent), names, pair_seed, opening_moves, obs_transform
            )
            mine = 0
        else:
            record = play_game(
                game, (opponent, policy), names[::-1], pair_seed, opening_moves, obs_transform
            )
            mine = 1
        if on_game is not None:
            on_game(record, index)
        outcome, margin = seat_result(record, mine)
        if margin is not None:
            margins.append(margin)
        counts[outcome] += 1
        if mine == 0:
            counts[f"first_{outcome}"] += 1
    game.close()
    result = {"games": games, **counts, "score": _score(counts, games)}
    if margins:
        result["mean_margin"] = float(np.mean(margins))
    return result


def merge_results(parts: list[dict[str, float]]) -> dict[str, float]:
    """One result from ``play_match`` results over disjoint games of the same pairing (shares
    of one match played apart): counts added (the first seat's where every part has them),
    score and mean margin over all games."""
    games = sum(int(part["games"]) for part in parts)
    if games == 0:
        raise ValueError("merge_results: no games to merge")
    result: dict[str, float] = {"games": games}
    seats = all(key in part for part in parts for key in SEAT_KEYS)
    for key in (*OUTCOMES, *(SEAT_KEYS if seats else ())):
        result[key] = sum(int(part[key]) for part in parts)
    result["score"] = _score(result, games)
    if all("mean_margin" in part for part in parts):
        total = sum(part["mean_margin"] * int(part["games"]) for part in parts)
        result["mean_margin"] = total / games
    return result
