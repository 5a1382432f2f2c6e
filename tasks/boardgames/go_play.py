"""The Go task's interactive actions: ``play`` in the terminal and ``gtp`` for GUIs.

Both use the trained network with tree search (``search.simulations``; 0 for the network
alone). Before any training there is no agent: both then play random legal moves and say so.
"""

from __future__ import annotations

from typing import Any, TextIO

import numpy as np

from envs.go.game import BLACK, GoGame, action_to_gtp, gtp_to_action

HELP = "moves: a point like D4, 'pass', 'undo', 'resign', 'quit'"


def agent_player(task: Any, cfg: Any, agent: Any, seed: int = 0) -> Any:
    """The agent as a player that follows the game (search, or the network alone)."""
    from agents.selfplay import RandomPolicy

    if agent is None:
        return RandomPolicy(seed)
    if cfg.search.simulations > 0:
        return task.search_player(cfg, agent, seed)
    return agent.player(deterministic=True)


class _Match:
    """One game between a person and a player, with undo by replay."""

    def __init__(self, task: Any, cfg: Any, player: Any) -> None:
        self.task, self.cfg, self.player = task, cfg, player
        self.moves: list[int] = []
        self.restart()

    def restart(self) -> None:
        self.env = self.task.make_game(self.cfg)
        self.env.reset()
        self.player.reset()
        for action in self.moves:
            self._step(action)

    @property
    def game(self) -> GoGame:
        return self.env.unwrapped.game

    def _step(self, action: int) -> None:
        self.env.step(action)
        self.player.observe(action)

    def play(self, action: int) -> None:
        self._step(action)
        self.moves.append(action)

    def undo(self, count: int) -> None:
        del self.moves[len(self.moves) - count :]
        self.restart()

    def agent_move(self) -> int:
        obs = self.env.observe(self.env.agent_selection)
        planes = self.task.obs_transform(obs["observation"])
        return int(self.player(planes, np.asarray(obs["action_mask"], dtype=bool)))


def play_in_terminal(task: Any, cfg: Any, agent: Any, stdin: TextIO, stdout: TextIO) -> int:
    """A person plays the agent; bad input re-prompts. Returns the exit code."""
    match = _Match(task, cfg, agent_player(task, cfg, agent))
    human = BLACK if cfg.play.color == "black" else 3 - BLACK
    size = cfg.env.board_size
    print(f"You play {cfg.play.color} on {size}x{size}, komi {cfg.env.komi:g}. {HELP}", file=stdout)
    while not match.game.is_over():
        print(match.game.to_ascii(), file=stdout)
        if match.game.to_play != human:
            action = match.agent_move()
            match.play(action)
            print(f"learnloop plays {action_to_gtp(action, size)}", file=stdout)
            continue
        stdout.write(f"your move ({cfg.play.color}): ")
        stdout.flush()
        line = stdin.readline()
        if not line:
            print("\nend of input: game abandoned", file=stdout)
            return 0
        verdict = _human_turn(match, line.strip().lower(), size)
        if verdict is not None:
            print(verdict, file=stdout)
            if verdict.startswith(("You resigned", "Bye")):
                return 0
    print(match.game.to_ascii(), file=stdout)
    print(f"Game over: {_result_text(match.game)}", file=stdout)
    return 0


def _human_turn(match: _Match, text: str, size: int) -> str | None:
    """Apply what the person typed; returns a message to show, or None."""
    if text in ("quit", "exit", "q"):
        return "Bye."
    if text == "resign":
        return "You resigned; learnloop wins."
    if text == "undo":
        if len(match.moves) < 2:
            return "Nothing to undo."
        match.undo(2)
        return None
    try:
        action = gtp_to_action(text, size)
    except ValueError:
        return f"Not a move: {text!r}. {HELP}"
    reason = match.game.illegal_reason(action)
    if reason is not None:
        return f"Illegal move {action_to_gtp(action, size)}: {reason}. Try another."
    match.play(action)
    return None


def _result_text(game: GoGame) -> str:
    score = game.score()
    if score == 0:
        return "draw (Tromp-Taylor score 0)"
    return f"{'B' if score > 0 else 'W'}+{abs(score):g} (Tromp-Taylor)"


def serve_gtp(task: Any, cfg: Any, agent: Any, stdin: TextIO, stdout: TextIO) -> int:
    """Speak GTP on stdin/stdout with the agent's moves (random before any training)."""
    import sys

    from envs.go.gtp import GtpEngine

    genmove = None if agent is None else _gtp_genmove(task, cfg, agent)
    engine = GtpEngine(
        genmove, name="learnloop", board_size=cfg.env.board_size, komi=cfg.env.komi,
        seed=cfg.seed, log=sys.stderr,
    )  # fmt: skip
    engine.run(stdin, stdout)
    return 0


def _gtp_genmove(task: Any, cfg: Any, agent: Any) -> Any:
    """``genmove(game) -> action``: search from the game replayed into the agent's env."""
    from agents.selfplay import RandomPolicy

    fallback = RandomPolicy(cfg.seed)
    players = {cfg.env.komi: agent_player(task, cfg, agent, cfg.seed)}

    def genmove(game: GoGame) -> int:
        if game.board_size != cfg.env.board_size:
            # The network only knows its own board size; play legal random moves elsewhere.
            return fallback(None, game.legal_mask())
        game_cfg = _with_komi(cfg, game.komi)
        if game.komi not in players:  # the search scores its games with the controller's komi
            players[game.komi] = agent_player(task, game_cfg, agent, cfg.seed)
        match = _Match(task, game_cfg, players[game.komi])
        try:
            for action in game.moves:
                match.play(action)
        except ValueError:  # a position set up from SGF: no move history to replay
            return fallback(None, game.legal_mask())
        return match.agent_move()

    return genmove


def _with_komi(cfg: Any, komi: float) -> Any:
    import copy

    if cfg.env.komi == komi:
        return cfg
    changed = copy.deepcopy(cfg)
    changed.env.komi = komi
    return changed
