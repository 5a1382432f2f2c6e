"""go_small: self-play Go on a small board, evaluated against random, a heuristic and GNU Go.

The board-game pipeline (tasks/boardgames/base.py) does the training and the matches; this file
says which game (learnloop's Go engine, area scoring, positional superko), which opponents
(``random``, ``heuristic``, ``gnugo<level>``), which search (``search.kind``: Monte Carlo Go
with RAVE, agents/search/rave.py, or the generic PUCT search over the network), saves
every evaluation game as SGF, and adds the ``play`` (a person against the agent in the
terminal) and ``gtp`` actions.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.boardgames.base import (
    SEARCH_KINDS,
    BoardEvalConfig,
    BoardGameConfig,
    BoardGameTask,
    SearchSection,
    SelfPlayConfig,
)
from tasks.config import ConfigError, describe, section

# Search settings that only the search over the network reads, with their "off" values.
NETWORK_SEARCH_ONLY = (
    ("score_utility", 0.0), ("symmetries", 1), ("prior_mix", 0.0), ("playout_weight", 0.0),
)  # fmt: skip
OPPONENT_PATTERN = re.compile(r"^(random|heuristic|rave|gnugo(\d{1,2}))$")


@dataclass
class GoEnvConfig:
    """The Go board and rules."""

    board_size: int = describe("Board size N (an N x N board).", 7, min=5, max=19)
    komi: float = describe("Points added to White's area score (integer komi allows draws).", 9.0)
    max_moves: int = describe("Move cap, passes included (0: 2 * N * N).", 0, min=0)
    history: int = describe(
        "Past positions per player in the network's input planes.", 2, min=1, max=8
    )
    features: str = describe(
        "Input planes: stones only; 'tactics' adds four atari planes; 'liberties' adds those and "
        "four planes of chains with two and with three or more liberties; 'benson' adds those "
        "and both sides' pass-alive areas (Benson's algorithm, as KataGo's inputs).",
        "stones",
        choices=("stones", "tactics", "liberties", "benson"),
    )
    margin_reward: float = describe(
        "Reward for the score margin on top of +1 / -1: this times margin / (N * N).", 0.0, min=0.0
    )


@dataclass
class PlayConfig:
    """``play``: a person against the agent in the terminal."""

    color: str = describe("The person's colour.", "black", choices=("black", "white"))


@dataclass
class GoSearchConfig(SearchSection):
    """Tree search used by evaluation, play and gtp: the generic PUCT search over the network
    (``kind: puct``) or Monte Carlo Go with RAVE (``kind: rave``)."""

    kind: str = describe(
        "'rave': Monte Carlo tree search with RAVE and playout policies (agents/search/rave), "
        "the network's policy biasing the root; 'gumbel': Gumbel AlphaZero over the network; "
        "'puct': AlphaZero's PUCT over the network.",
        "rave",
        choices=("rave", *SEARCH_KINDS),
    )
    rave_equivalence: float = describe(
        "RAVE: simulations after which a move's own results weigh as much as its AMAF ones.",
        3000.0, min=1.0,
    )  # fmt: skip
    playouts: str = describe(
        "RAVE: 'light' (uniform, own eyes kept), 'tactics' (also answer ataris, shun "
        "self-atari) or 'shapes' (also play 3x3 shapes next to the last move).",
        "shapes",
        choices=("light", "tactics", "shapes"),
    )
    prior_even: float = describe(
        "RAVE: prior simulations given to each new move, more for captures and shapes, losses "
        "for self-atari (0: none).",
        10.0, min=0.0,
    )  # fmt: skip
    margin_weight: float = describe(
        "RAVE: share of the score margin, (1 + tanh(margin / margin_scale)) / 2, in a "
        "playout's result (the rest is win/loss).",
        0.5, min=0.0, max=1.0,
    )  # fmt: skip
    margin_scale: float = describe("RAVE: points of margin in the tanh above.", 10.0, min=0.1)
    prior_weight: float = describe(
        "RAVE: weight of the network's policy as a bias on the root moves (0: none).",
        0.0, min=0.0,
    )  # fmt: skip
    threads: int = describe(
        "RAVE: trees grown at once on separate cores, visits summed (simulations are shared "
        "out among them).",
        1, min=1,
    )  # fmt: skip
    playout_weight: float = describe(
        "gumbel/puct: weight of a playout's result in each leaf's value, AlphaGo's mixed "
        "evaluation: (1 - w) * the network's value + w * the result of one playout from the "
        "leaf (RAVE's playouts, margin_weight and margin_scale; 0: the network's value only).",
        0.0, min=0.0, max=1.0,
    )  # fmt: skip
    first_pass: bool = describe(
        "gumbel/puct: may the player pass while the opponent has not just passed and a legal "
        "move outside its own one-point eyes (or on the last liberty of one of its chains) "
        "remains? Off by default: it plays on. Self-play games end by two passes, so the "
        "network never met an opponent that plays on after its pass (GNU Go does, to capture "
        "what it believes dead).",
        False,
    )  # fmt: skip


def _go_selfplay() -> SelfPlayConfig:
    return SelfPlayConfig(fixed_opponents=["random", "heuristic"])


def _go_eval() -> BoardEvalConfig:
    return BoardEvalConfig(
        opponents=["random", "heuristic", "gnugo1", "gnugo10"],
        periodic_opponents=["random", "heuristic"],
        opening_moves=2,
    )


@dataclass
class GoSmallConfig(BoardGameConfig):
    """Config of the go_small task."""

    env: GoEnvConfig = section(GoEnvConfig, "The board and rules.")
    selfplay: SelfPlayConfig = section(_go_selfplay, "Self-play opponent pool.")
    eval: BoardEvalConfig = section(_go_eval, "Evaluation.")
    search: GoSearchConfig = section(GoSearchConfig, "Tree search.")
    play: PlayConfig = section(PlayConfig, "Playing against the agent in the terminal.")


class GoSmallTask(BoardGameTask):
    """Self-play MaskablePPO on small-board Go, with MCTS at evaluation, play and gtp time."""

    name = "go_small"
    config_cls = GoSmallConfig
    actions = ("train", "eval", "play", "gtp")
    seats = ("black", "white")

    def validate(self, cfg: Any) -> None:
        super().validate(cfg)
        names = {
            "selfplay.fixed_opponents": cfg.selfplay.fixed_opponents,
            "eval.opponents": cfg.eval.opponents,
            "eval.periodic_opponents": cfg.eval.periodic_opponents,
        }
        for key, values in names.items():
            for value in values:
                match = OPPONENT_PATTERN.match(value)
                if not match or (match.group(2) and int(match.group(2)) > 10):
                    raise ConfigError(
                        f"{key}: unknown opponent {value!r}; allowed: random, heuristic, "
                        "rave (Monte Carlo search, no network), gnugo0 .. gnugo10 (GNU Go)"
                    )

    def max_moves(self, cfg: Any) -> int | None:
        return cfg.env.max_moves or None

    def make_game(self, cfg: Any, score_at_cap: bool = True) -> Any:
        from envs.go import env as go_env

        return go_env(
            board_size=cfg.env.board_size, komi=cfg.env.komi, max_moves=self.max_moves(cfg),
            history=cfg.env.history, score_at_cap=score_at_cap,
            margin_reward=cfg.env.margin_reward, features=cfg.env.features,
        )  # fmt: skip

    def positions(self, cfg: Any) -> Any:
        from envs.go.kernels import GoPositions

        return GoPositions(
            cfg.env.board_size, komi=cfg.env.komi, max_moves=self.max_moves(cfg),
            history=cfg.env.history, features=cfg.env.features,
        )  # fmt: skip

    def player(self, cfg: Any, name: str, seed: int, seconds_per_move: float = 0.0) -> Any:
        from agents.baselines.go import GnuGoPlayer, HeuristicGoPlayer

        size, komi, cap = cfg.env.board_size, cfg.env.komi, self.max_moves(cfg)
        if name == "heuristic":
            return HeuristicGoPlayer(size, komi, cap, seed)
        if name.startswith("gnugo"):
            return GnuGoPlayer(size, komi, level=int(name[5:]), max_moves=cap)
        if name == "rave":
            return self.rave_player(cfg, seed, seconds_per_move or cfg.eval.search_seconds)
        return super().player(cfg, name, seed)

    def rave_config(self, cfg: Any, **changes: Any) -> Any:
        """The ``search`` section's RAVE settings (``changes`` on top)."""
        from agents.search.rave import RaveConfig

        search = cfg.search
        settings = {
            "simulations": search.simulations, "equivalence": search.rave_equivalence,
            "playouts": search.playouts, "prior_even": search.prior_even,
            "margin_weight": search.margin_weight, "margin_scale": search.margin_scale,
            "prior_weight": search.prior_weight, "threads": search.threads,
        }  # fmt: skip
        return RaveConfig(**{**settings, **changes})

    def rave_player(self, cfg: Any, seed: int, seconds_per_move: float) -> Any:
        """The ``rave`` opponent: today's Monte Carlo search at its default settings, without a
        network, searching ``seconds_per_move`` a move."""
        from agents.search.rave import RaveGoPlayer

        defaults = GoSearchConfig()
        first_guess = max(64, int(15_000 * 2 * seconds_per_move))  # ~15k playouts/s a core
        config = self.rave_config(
            cfg, simulations=first_guess, equivalence=defaults.rave_equivalence,
            playouts=defaults.playouts, prior_even=defaults.prior_even,
            margin_weight=defaults.margin_weight, margin_scale=defaults.margin_scale,
            prior_weight=0.0, threads=2, seconds_per_move=seconds_per_move,
        )  # fmt: skip
        size, komi = cfg.env.board_size, cfg.env.komi
        return RaveGoPlayer(size, komi, self.max_moves(cfg), config, seed)

    def search_player(self, cfg: Any, agent: Any, seed: int = 0) -> Any:
        """``search.kind``: Monte Carlo Go with RAVE (the network biasing the root when
        ``search.prior_weight`` > 0) or the generic PUCT search over the network."""
        if cfg.search.kind != "rave":
            return super().search_player(cfg, agent, seed)
        from agents.search.rave import RaveGoPlayer

        search = cfg.search
        ignored = [f"search.{name}={getattr(search, name)}" for name, off in NETWORK_SEARCH_ONLY
                   if getattr(search, name) != off]  # fmt: skip
        if ignored:
            raise ValueError(
                f"{', '.join(ignored)}: a setting of the search over the network "
                "(search.kind=gumbel or puct); search.kind=rave has no network values to use it"
            )
        config = self.rave_config(cfg)
        prior = None
        if search.prior_weight > 0:
            evaluate = agent.policy_value

            def prior(obs: Any, mask: Any) -> Any:
                priors, _ = evaluate(np.asarray(obs)[None], np.asarray(mask, dtype=bool)[None])
                return np.asarray(priors[0], dtype=np.float64)

        size, komi = cfg.env.board_size, cfg.env.komi
        return RaveGoPlayer(size, komi, self.max_moves(cfg), config, seed, prior)

    def search_rule(self, cfg: Any, positions: Any) -> Any:
        return None if cfg.search.first_pass else positions.first_pass_forbidden

    def search_mix(self, cfg: Any, positions: Any, seed: int) -> Any:
        search = cfg.search
        if search.playout_weight == 0:
            return None
        from agents.search.playouts import PlayoutValues

        return PlayoutValues(positions.engine_size, positions.game.zobrist, positions.komi,
                             search.playout_weight, search.playouts, search.margin_weight,
                             search.margin_scale, seed)  # fmt: skip

    def record_game(self, cfg: Any, run: Any, label: str, record: Any, index: int) -> None:
        from envs.go.game import GoGame
        from envs.go.sgf import save_sgf

        game = GoGame(cfg.env.board_size, komi=cfg.env.komi, max_moves=self.max_moves(cfg))
        for action in record.actions:
            game.play(action)
        folder = run.eval_dir / "games"
        folder.mkdir(parents=True, exist_ok=True)
        save_sgf(folder / f"{label}_{index:03d}.sgf", game, None, record.first, record.second)
        if index == 0:  # one picture per pairing, for the report
            self._save_picture(game, folder / f"{label}_{index:03d}.png")

    def _save_picture(self, game: Any, path: Any) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from envs.go.render import board_rgb

        plt.imsave(path, board_rgb(game.board(), cell=24))

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> Any:
        result = super().evaluate(cfg, agent, run)
        rows = result.tables.get("matches", [])
        shown = "search" if any(row["player"] == "search" for row in rows) else "policy"
        for row in rows:
            picture = run.eval_dir / "games" / f"{row['player']}_vs_{row['opponent']}_000.png"
            if row["player"] == shown and picture.is_file():
                caption = (f"First game, {shown} (Black) vs {row['opponent']}: final position; "
                           f"every game is in eval/games/ as SGF")  # fmt: skip
                result.images.append((caption, str(picture.relative_to(run.path))))
        if shown == "search":
            result.notes.append(self.describe_search(cfg))
        return result

    def describe_search(self, cfg: Any) -> str:
        """One line saying what the ``search`` player is."""
        search = cfg.search
        if search.kind != "rave":
            name = "Gumbel AlphaZero" if search.kind == "gumbel" else "PUCT"
            return f"search: {name} over the network, {search.simulations} simulations a move"
        prior = (f"the network's policy biasing the root (weight {search.prior_weight})"
                 if search.prior_weight > 0 else "without the network")  # fmt: skip
        return (f"search: Monte Carlo tree search with RAVE, {search.simulations} playouts "
                f"('{search.playouts}') a move"
                f" over {search.threads} tree(s), {prior}")  # fmt: skip

    # -- interactive actions ------------------------------------------------------------------

    def run_action(self, action: str, cfg: Any, agent: Any, note: str) -> int:
        from tasks.boardgames.go_play import play_in_terminal, serve_gtp

        print(f"{self.name} {action}: {note}", file=sys.stderr)
        if action == "play":
            return play_in_terminal(self, cfg, agent, sys.stdin, sys.stdout)
        if action == "gtp":
            return serve_gtp(self, cfg, agent, sys.stdin, sys.stdout)
        return super().run_action(action, cfg, agent, note)
