"""Two-player board games trained by self-play: the shared task behind go_small,
connect_four and tictactoe.

Training, by ``algo.name``:

- ``alphazero`` (the ``zero`` backend, agents/zero): self-play games searched by Gumbel
  AlphaZero or PUCT over a residual policy-value network, which learns the searches' policies
  and the games' results (and, in Go, who owns each point and the final margin).
- ``maskable_ppo`` (SB3 or RLlib): one seat of the game against an opponent pool of the
  learner's own snapshots plus fixed players (agents/selfplay.py).

Evaluation: the trained network alone ("policy") and with tree search on top ("search":
``search.kind`` gumbel or puct over the network, compiled in agents/zero; Go adds its RAVE
search) against every opponent in ``eval.opponents``, both colours, games paired over random
openings, with win/draw/loss, a 95% Wilson interval, an Elo difference, and the games saved
where the game has a record format. A subclass says which game, which opponents, how the
search sees its positions, and how to record games.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.base import Periodic, PlayerUnavailable, TwoPlayerGame
from agents.selfplay import OUTCOMES, SEAT_KEYS, RandomPolicy, play_match
from agents.zero.config import ZeroConfig
from tasks.config import AlgoConfig, ConfigError, EvalConfig, TaskConfig, describe, section
from tasks.runner.base import EvalResult, Task
from tasks.runner.evaluation import wilson_interval
from tasks.runner.report import plot_strength


@dataclass
class SelfPlayConfig:
    """The opponent pool."""

    fixed_opponents: list[str] = describe(
        "Fixed players in the pool besides the learner's snapshots.", factory=lambda: ["random"]
    )
    fixed_share: float = describe(
        "Share of games against a fixed player once snapshots exist.", 0.3, min=0.0, max=1.0
    )
    snapshot_every: int = describe(
        "Add a snapshot of the learner every this many steps.", 20_000, min=1
    )
    max_snapshots: int = describe("Snapshots kept in the pool (newest).", 8, min=1)


@dataclass
class NetworkConfig:
    """The policy-value network."""

    kind: str = describe(
        "'cnn': a residual CNN trunk; 'mlp': a plain MLP over the flattened planes (faster on CPU).",
        "cnn",
        choices=("cnn", "mlp"),
    )
    channels: int = describe("Channels of the residual CNN.", 32, min=1)
    blocks: int = describe("Residual blocks.", 2, min=0)
    value_hidden: int = describe("Hidden units of the value head.", 64, min=1)
    mlp_layers: list[int] = describe(
        "Hidden layers of the policy and value MLPs when kind is 'mlp'.", factory=lambda: [256, 256]
    )


SEARCH_KINDS = ("gumbel", "puct")


@dataclass
class SearchSection:
    """Tree search used by evaluation, play and gtp (compiled, over the trained network)."""

    kind: str = describe(
        "'gumbel': Gumbel AlphaZero's root (sequential halving over the network's best "
        "moves) and its deterministic choice inside the tree; 'puct': AlphaZero's PUCT.",
        "puct",
        choices=SEARCH_KINDS,
    )
    simulations: int = describe("Simulations per move (0: no search).", 64, min=0)
    c_puct: float = describe("puct: exploration constant.", 1.5, min=0.0)
    considered: int = describe("gumbel: moves considered at the root.", 16, min=1)
    c_scale: float = describe("gumbel: scale of sigma(q) = (50 + max N) * c_scale * q.", 0.1,
                              min=0.0)  # fmt: skip
    prior_mix: float = describe(
        "Share of a uniform prior mixed into the network's priors at every node.",
        0.0, min=0.0, max=1.0,
    )  # fmt: skip
    leaves: int = describe(
        "Leaves sent to the network together (virtual loss spreads them; ~3x faster a move "
        "on a CPU at 8 than at 1).",
        8, min=1, max=64,
    )  # fmt: skip
    score_utility: float = describe(
        "Weight w of the network's score head in the values the search backs up, KataGo's "
        "score utility: (1 - w) * value + w * tanh(margin / score_scale) (0: win/loss only; "
        "algo.name=alphazero networks).",
        0.0, min=0.0, max=1.0,
    )  # fmt: skip
    score_scale: float = describe("Points of margin in the score utility's tanh.", 10.0,
                                  min=0.1)  # fmt: skip
    symmetries: int = describe(
        "Symmetries of the board each network evaluation averages over (1: the board as it "
        "is; Go and tic-tac-toe have 8, connect four 2): fewer network errors for that many "
        "positions a leaf.",
        1, min=1, max=8,
    )  # fmt: skip


@dataclass
class BoardEvalConfig(EvalConfig):
    """Evaluation against fixed opponents."""

    opponents: list[str] = describe(
        "Opponents of the final evaluation.", factory=lambda: ["random"]
    )
    periodic_opponents: list[str] = describe(
        "Opponents of the periodic evaluation during training.", factory=lambda: ["random"]
    )
    opening_moves: int = describe(
        "Random moves at the start of each evaluation game (pairs share the opening).", 2, min=0
    )
    with_search: bool = describe("Also evaluate the network with tree search.", True)
    threads: int = describe(
        "Matches played at once, in threads (the network's, the search's and an outside "
        "engine's time overlap on several cores).",
        2, min=1, max=16,
    )  # fmt: skip
    search_seconds: float = describe(
        "Seconds a move for opponents that search (Go's 'rave') when no search of ours has "
        "played yet in this evaluation (otherwise they get our search's time per move).",
        0.3, min=0.001,
    )  # fmt: skip


def _selfplay_algo() -> AlgoConfig:
    return AlgoConfig(
        name="maskable_ppo", n_envs=8, n_steps=128, batch_size=256, n_epochs=4,
        gamma=1.0, gae_lambda=0.95, learning_rate=3e-4, ent_coef=0.01,
    )  # fmt: skip


@dataclass
class BoardGameConfig(TaskConfig):
    """Fields shared by every self-play board-game task."""

    algo: AlgoConfig = section(_selfplay_algo, "Algorithm and hyperparameters.")
    eval: BoardEvalConfig = section(BoardEvalConfig, "Evaluation.")
    selfplay: SelfPlayConfig = section(SelfPlayConfig, "Self-play opponent pool.")
    network: NetworkConfig = section(NetworkConfig, "Policy-value network.")
    search: SearchSection = section(SearchSection, "Tree search.")
    zero: ZeroConfig = section(
        ZeroConfig, "AlphaZero (algo.name=alphazero): self-play and learning."
    )


def elo_difference(score: float, games: int) -> float:
    """The Elo gap that predicts ``score`` (clipped half a game from 0 and 1)."""
    clipped = min(max(score, 0.5 / games), 1 - 0.5 / games)
    return 400 * math.log10(clipped / (1 - clipped))


class BoardGameTask(Task):
    """Self-play training and honest evaluation for a two-player AEC game with masks."""

    headline = "charts/win_rate/random"
    seats = ("first", "second")  # the seats' names in evaluation tables (Go: black, white)
    curves = (
        "charts/episode_length", "losses/value_loss", "losses/entropy_loss", "losses/policy_loss",
        "losses/ownership_loss", "charts/positions_per_s",
    )  # fmt: skip

    def validate(self, cfg: Any) -> None:
        if cfg.algo.name == "alphazero" and cfg.network.kind != "cnn":
            raise ConfigError(
                "network.kind: alphazero trains its own residual CNN; set network.kind=cnn"
            )

    # -- what a game supplies -----------------------------------------------------------------

    def make_game(self, cfg: Any) -> Any:
        """A fresh AEC env of the game."""
        raise NotImplementedError

    def obs_transform(self, obs: np.ndarray) -> np.ndarray:
        """The network's input from the env's ``observation`` (channels first, float32)."""
        return np.asarray(obs, dtype=np.float32)

    def player(self, cfg: Any, name: str, seed: int, seconds_per_move: float = 0.0) -> Any:
        """A fixed player by name (``random`` here; games add theirs). ``seconds_per_move``:
        the time an opponent that searches may take (0: its own setting)."""
        if name == "random":
            return RandomPolicy(seed)
        raise ValueError(f"unknown opponent {name!r} for task {self.name}")

    def record_game(self, cfg: Any, run: Any, label: str, record: Any, index: int) -> None:
        """Save one evaluation game (Go writes SGF); nothing by default."""

    def positions(self, cfg: Any) -> Any:
        """The game's compiled positions for search (``agents.zero.game.Positions``)."""
        raise NotImplementedError

    # -- training -----------------------------------------------------------------------------

    def game(self, cfg: Any) -> TwoPlayerGame:
        selfplay = cfg.selfplay
        opponents = {name: functools.partial(self.player, cfg, name)
                     for name in selfplay.fixed_opponents}  # fmt: skip
        return TwoPlayerGame(
            functools.partial(self.make_game, cfg), self.obs_transform,
            functools.partial(self.positions, cfg), opponents, selfplay.fixed_share,
            selfplay.max_snapshots, selfplay.snapshot_every,
        )  # fmt: skip

    def algorithm_settings(self, cfg: Any) -> Any:
        return cfg.zero if cfg.algo.name == "alphazero" else None

    def network(self, cfg: Any) -> Any:
        return cfg.network

    def policy_kwargs(self, cfg: Any) -> dict[str, Any]:
        from agents.networks import board_policy_kwargs

        net = cfg.network
        if net.kind == "mlp":
            return {"net_arch": {"pi": list(net.mlp_layers), "vf": list(net.mlp_layers)}}
        return board_policy_kwargs(net.channels, net.blocks, net.value_hidden)

    def periodic(self, cfg: Any, run: Any) -> list[Periodic]:
        def evaluate(step: int, agent: Any) -> dict[str, float]:
            player = agent.player(deterministic=True)
            metrics = {}
            for name in cfg.eval.periodic_opponents:
                try:
                    result = self.match(cfg, player, name, cfg.eval.periodic_episodes, seed=step)
                except PlayerUnavailable:  # the final evaluation says how to install it
                    continue
                metrics[f"charts/win_rate/{name}"] = result["score"]
            return metrics

        return [Periodic(cfg.eval.every, evaluate)] if cfg.eval.every else []

    # -- evaluation ---------------------------------------------------------------------------

    def search_settings(self, cfg: Any) -> Any:
        """The ``search`` section as the compiled search's settings (no self-play noise)."""
        from agents.zero.tree import SearchSettings

        search = cfg.search
        return SearchSettings(
            kind=search.kind, simulations=max(search.simulations, 1), c_puct=search.c_puct,
            considered=search.considered, c_scale=search.c_scale, leaves=search.leaves,
        )  # fmt: skip

    def search_player(self, cfg: Any, agent: Any, seed: int = 0) -> Any:
        """The network with ``search.simulations`` simulations a move of the compiled search."""
        from agents.zero.player import SearchPlayer, as_evaluate, averaged

        policy_value = agent.policy_value
        if cfg.search.score_utility > 0:
            if not hasattr(agent, "score_policy_value"):
                raise ValueError(
                    "search.score_utility needs a network with a score head "
                    f"(algo.name=alphazero); this agent is {type(agent).__name__}"
                )
            policy_value = agent.score_policy_value(cfg.search.score_utility,
                                                    cfg.search.score_scale)  # fmt: skip
        evaluate = as_evaluate(policy_value, cfg.search.prior_mix)
        positions = self.positions(cfg)
        if cfg.search.symmetries > 1:
            evaluate = averaged(evaluate, positions, cfg.search.symmetries)
        return SearchPlayer(positions, evaluate, self.search_settings(cfg), seed,
                            forbid=self.search_rule(cfg, positions),
                            mix=self.search_mix(cfg, positions, seed))  # fmt: skip

    def search_mix(self, cfg: Any, positions: Any, seed: int) -> Any:
        """What the search player's leaves are worth given the network's values
        (``BatchedSearch``'s ``mix``), or None: the network's values."""
        return None

    def search_rule(self, cfg: Any, positions: Any) -> Any:
        """Moves the search player keeps out of each search (``SearchPlayer``'s ``forbid``),
        or None: every legal move."""
        return None

    def match(
        self,
        cfg: Any,
        player: Any,
        opponent: str,
        games: int,
        seed: int,
        on_game: Any = None,
        seconds_per_move: float = 0.0,
    ) -> dict[str, float]:
        """``player`` against the named opponent, both colours (an opponent that searches for
        a time rather than a number of simulations gets ``seconds_per_move``)."""
        rival = self.player(cfg, opponent, seed, seconds_per_move)
        try:
            return play_match(
                lambda: self.make_game(cfg), player, rival, games, seed,
                names=("learnloop", opponent), on_game=on_game,
                opening_moves=cfg.eval.opening_moves, obs_transform=self.obs_transform,
            )  # fmt: skip
        finally:
            rival.close()

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:
        labels = ["policy"]
        if cfg.eval.with_search and cfg.search.simulations > 0:
            labels.append("search")
        # Opponents that search (Go's 'rave') meet our search only: same time a move.
        pairs = [(label, opponent) for label in labels for opponent in cfg.eval.opponents
                 if opponent != "rave" or label == "search"]  # fmt: skip
        # Opponents that search for our search's time per move play last, alone, once it is
        # known (measured while other matches shared the cores: if anything, more time).
        timed = [pair for pair in pairs if pair[1] == "rave"]
        results = self._matches(cfg, agent, run, [p for p in pairs if p not in timed], 0.0)
        seconds = results.pop("seconds", None) or cfg.eval.search_seconds
        if timed:
            results.update(self._matches(cfg, agent, run, timed, seconds, threads=1))
            results.pop("seconds", None)
        rows, notes, metrics = [], [], {}
        for label, opponent in pairs:
            result = results[(label, opponent)]
            if isinstance(result, str):  # a missing outside engine (GNU Go)
                notes.append(f"{opponent}: not evaluated: {result}")
                continue
            rows.append(self._row(label, opponent, result))
            metrics[f"{label}/score/{opponent}"] = result["score"]
        result = EvalResult(
            metrics=metrics, tables={"matches": rows}, notes=list(dict.fromkeys(notes))
        )
        strength = plot_strength(run)
        if strength is not None:
            result.images.append(("Strength over training: the network alone against each "
                                  "periodic opponent, at every periodic evaluation", strength))  # fmt: skip
        return result

    def _matches(
        self,
        cfg: Any,
        agent: Any,
        run: Any,
        pairs: list[tuple[str, str]],
        seconds: float,
        threads: int | None = None,
    ) -> dict[Any, Any]:
        """Play ``pairs`` (player label, opponent), ``eval.threads`` matches at a time, each
        with its own players; results by pair, and under "seconds" the search's time a move."""
        from concurrent.futures import ThreadPoolExecutor

        from tasks.runner.logging import ProgressDisplay

        lock = threading.Lock()  # saving games (pictures use matplotlib) one at a time
        searched = [0.0, 0]

        def play(pair: tuple[str, str]) -> Any:
            label, opponent = pair
            player = (agent.player(deterministic=True) if label == "policy"
                      else self.search_player(cfg, agent, cfg.seed))  # fmt: skip

            def save(record: Any, index: int) -> None:
                with lock:
                    self.record_game(cfg, run, f"{label}_vs_{opponent}", record, index)

            try:
                result = self.match(cfg, player, opponent, cfg.eval.episodes,
                                    seed=10_000 + cfg.seed, on_game=save,
                                    seconds_per_move=seconds)  # fmt: skip
            except PlayerUnavailable as error:  # a missing engine; a crash mid-match raises
                return str(error)
            if label == "search" and player.time_per_move() > 0:
                with lock:
                    searched[0] += player.time_per_move() * player.moves
                    searched[1] += player.moves
            return result

        results: dict[Any, Any] = {}
        progress = ProgressDisplay(len(pairs), f"{self.name} evaluation", log_every_s=0,
                                   unit="matches")  # fmt: skip
        with ThreadPoolExecutor(threads or cfg.eval.threads) as pool:
            for done, (pair, result) in enumerate(zip(pairs, pool.map(play, pairs), strict=True)):
                results[pair] = result
                progress.update(done + 1)
        progress.close()
        if searched[1]:
            results["seconds"] = searched[0] / searched[1]
        return results

    def _row(self, label: str, opponent: str, result: dict[str, float]) -> dict[str, Any]:
        games = int(result["games"])
        low, high = wilson_interval(result["wins"] + 0.5 * result["draws"], games)
        return {
            "player": label,
            "opponent": opponent,
            "games": games,
            "wins": int(result["wins"]),
            "draws": int(result["draws"]),
            "losses": int(result["losses"]),
            "score": result["score"],
            "score_ci95": f"{low:.2f}-{high:.2f}",
            "elo_diff": round(elo_difference(result["score"], games)),
            **({"mean_margin": result["mean_margin"]} if "mean_margin" in result else {}),
            **self._seat_columns(result),
        }

    def _seat_columns(self, result: dict[str, float]) -> dict[str, str]:
        """Wins-draws-losses in each seat (``as_black``: '9-0-1'), where the result has them:
        the seats are not equal (Go's komi, the first move in tic-tac-toe)."""
        if not all(key in result for key in SEAT_KEYS):
            return {}
        first = [int(result[key]) for key in SEAT_KEYS]
        total = [int(result[key]) for key in OUTCOMES]
        second = [all_ - mine for all_, mine in zip(total, first, strict=True)]
        return {f"as_{seat}": "-".join(map(str, counts))
                for seat, counts in zip(self.seats, (first, second), strict=True)}  # fmt: skip
