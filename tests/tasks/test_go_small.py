"""go_small end to end at a tiny budget: training, evaluation files, GTP and terminal play."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents.base import Player
from envs.go.game import GoGame, gtp_to_action
from tasks.run import main
from tests.conftest import run_cli
from tests.optional import require_gnugo

TINY = [
    "train.total_steps=2048", "train.checkpoint_every=1024", "algo.n_envs=4", "algo.n_steps=64",
    "algo.batch_size=128", "algo.n_epochs=1", "selfplay.snapshot_every=512", "eval.every=1024",
    "eval.periodic_episodes=2", "eval.episodes=2", "search.simulations=8",
    "network.channels=8", "network.blocks=1", "zero.games=16", "zero.simulations=8",
    "zero.fast_simulations=4", "zero.min_replay=100", "ray.num_selfplay_workers=0",
    "eval.periodic_opponents=[random,heuristic]",
]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_gnugo()
    runs_dir = tmp_path_factory.mktemp("runs")
    assert (
        main(
            ["go_small", f"runs_dir={runs_dir}", *TINY, "eval.opponents=[random,heuristic,gnugo1]"]
        )
        == 0
    )
    return runs_dir


def the_run(runs_dir: Path) -> Path:
    (run,) = (runs_dir / "go_small").iterdir()
    return run


@pytest.mark.slow
def test_tiny_run_writes_checkpoint_results_games_and_report(trained: Path) -> None:
    run = the_run(trained)
    assert (run / "checkpoints" / "latest").is_file()
    results = json.loads((run / "eval" / "results.json").read_text())
    matches = json.loads((run / "eval" / "matches.json").read_text())
    pairs = {(row["player"], row["opponent"]) for row in matches}
    for player in ("policy", "search"):
        for opponent in ("random", "heuristic", "gnugo1"):
            assert (player, opponent) in pairs
            assert f"{player}/score/{opponent}" in results["metrics"]
    for row in matches:
        assert row["wins"] + row["draws"] + row["losses"] == row["games"] == 2
        assert "mean_margin" in row
        seats = [[int(n) for n in row[f"as_{seat}"].split("-")] for seat in ("black", "white")]
        assert [sum(counts) for counts in seats] == [1, 1], "a game in each colour"
        black, white = seats
        totals = [b + w for b, w in zip(black, white, strict=True)]
        assert totals == [row["wins"], row["draws"], row["losses"]]
    games = sorted((run / "eval" / "games").glob("*.sgf"))
    assert len(games) == 12
    text = games[0].read_bytes()
    assert b"SZ[7]" in text and b"KM[9" in text and b"RE[" in text
    report = (run / "report.md").read_text()
    assert "| search | gnugo1 |" in report
    pictures = [line for line in report.splitlines() if line.startswith("![First game")]
    assert len(pictures) == 3 and all(
        (run / line.split("](")[1][:-1]).is_file() for line in pictures
    )
    metrics = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert any("charts/win_rate/heuristic" in m for m in metrics)


@pytest.mark.slow
def test_gtp_with_checkpoint_plays_legal_moves_for_a_whole_game(trained: Path) -> None:
    commands = ["boardsize 7", "clear_board", "komi 9"]
    commands += ["genmove b", "genmove w"] * 30 + ["final_score", "quit"]
    result = run_cli("go_small", "gtp", f"runs_dir={trained}", "search.simulations=4",
                     input="\n".join(commands) + "\n", timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    answers = [block for block in result.stdout.split("\n\n") if block.strip()]
    assert all(block.startswith("=") for block in answers), answers
    game = GoGame(7, komi=9.0)
    moves = [a[1:].strip() for a in answers[3:-2]]
    for vertex in moves:
        if game.is_over():
            break
        game.play(gtp_to_action(vertex, 7))  # raises if the engine answered an illegal move
    assert sum(vertex.lower() != "pass" for vertex in moves) >= 10
    assert "checkpoint" in result.stderr


@pytest.mark.slow
def test_play_in_terminal_with_bad_input_undo_and_resign(trained: Path) -> None:
    script = "\n".join(["hello", "Z9", "D4", "D4", "undo", "C3", "resign"]) + "\n"
    result = run_cli("go_small", "play", f"runs_dir={trained}", "search.simulations=4",
                     input=script, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Not a move: 'hello'" in out and "Not a move: 'z9'" in out
    assert "Illegal move D4: occupied" in out
    assert out.count("learnloop plays") >= 2
    assert "You resigned" in out


def test_gtp_before_training_plays_random_and_says_so(runs_dir: Path) -> None:
    result = run_cli("go_small", "gtp", f"runs_dir={runs_dir}", input="genmove b\nquit\n")
    assert result.returncode == 0
    assert result.stdout.startswith("= ")
    assert "random" in result.stderr


def test_unknown_opponent_is_a_config_error() -> None:
    result = run_cli("go_small", "eval.opponents=[random,gnugo99]")
    assert result.returncode == 2
    assert "eval.opponents: unknown opponent 'gnugo99'" in result.stderr


@pytest.mark.slow
def test_resumed_run_refills_the_opponent_pool_from_its_checkpoints(tmp_path: Path) -> None:
    from agents.backends.sb3 import BACKEND, opponent_pool
    from tasks.config import load_config
    from tasks.registry import load_task, task_yaml
    from tasks.runner.runs import newest_checkpoint
    from tasks.runner.session import load_context

    tiny = [
        *TINY,
        "eval.every=0",
        "eval.opponents=[random]",
        "eval.with_search=false",
        "algo.name=maskable_ppo",
    ]  # PPO's pool (AlphaZero, the default, plays itself)
    assert main(["go_small", f"runs_dir={tmp_path}", *tiny]) == 0
    task = load_task("go_small")
    cfg = load_config(
        task.config_cls, "go_small", task_yaml("go_small"),
        [f"runs_dir={tmp_path}", *tiny, "resume=latest", "train.total_steps=4096"],
    )  # fmt: skip
    ctx = load_context(task, cfg, device="cpu")
    ctx.resume_from = newest_checkpoint(the_run(tmp_path) / "checkpoints")
    pool = opponent_pool(ctx.game, seed=0)
    BACKEND._refill_pool(pool, ctx)
    assert [name for name, _ in pool.snapshots] == ["step_1024", "step_2048"]
    name, opponent = next(
        (n, p) for n, p in (pool.sample(np.random.default_rng(s)) for s in range(50))
        if n.startswith("step_")
    )  # fmt: skip
    obs = task.make_game(cfg)
    obs.reset()
    first = obs.observe("black_0")
    assert first["action_mask"][opponent(first["observation"], first["action_mask"])]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["rave", "puct", "gumbel"])
def test_every_search_kind_play_the_trained_agent_against_random(trained: Path, kind: str) -> None:
    from agents.search.rave import RaveGoPlayer
    from agents.zero.player import SearchPlayer
    from tasks.config import load_config
    from tasks.registry import load_task, task_yaml
    from tasks.runner.session import Session

    task = load_task("go_small")
    overrides = [f"runs_dir={trained}", f"search.kind={kind}", "search.simulations=200"]
    cfg = load_config(task.config_cls, "go_small", task_yaml("go_small"), overrides)
    agent, _ = Session(task, cfg, []).load_agent()
    player = task.search_player(cfg, agent)
    assert isinstance(player, RaveGoPlayer if kind == "rave" else SearchPlayer)
    result = task.match(cfg, player, "random", 2, seed=0)
    # Gumbel's root only weighs the moves this barely trained network ranks highest (its
    # strength is for trained networks: tests/tasks/test_zero.py); the others win both.
    assert result["wins"] >= (1 if kind == "gumbel" else 2), result


def test_score_utility_needs_a_network_with_a_score_head() -> None:
    from tasks.config import load_config
    from tasks.registry import load_task, task_yaml

    class PolicyOnly:  # what a PPO agent gives a search: priors and values, no score
        def policy_value(self, obs: object, masks: object) -> None:
            raise AssertionError("not reached")

    task = load_task("go_small")
    cfg = load_config(task.config_cls, "go_small", task_yaml("go_small"),
                      ["search.score_utility=0.2"])  # fmt: skip
    with pytest.raises(ValueError, match=r"search.score_utility needs .* PolicyOnly"):
        task.search_player(cfg, PolicyOnly())


def test_search_player_with_every_network_search_setting_plays_legal_moves() -> None:
    from agents.zero.backend import ZeroAgent
    from agents.zero.network import NetworkShape, ZeroNet
    from tasks.config import load_config
    from tasks.registry import load_task, task_yaml

    task = load_task("go_small")
    overrides = ["search.score_utility=0.3", "search.symmetries=8", "search.simulations=16",
                 "search.prior_mix=0.1", "search.playout_weight=0.5"]  # fmt: skip
    cfg = load_config(task.config_cls, "go_small", task_yaml("go_small"), overrides)
    positions = task.positions(cfg)
    height, width = positions.board_shape
    agent = ZeroAgent(ZeroNet(NetworkShape(positions.obs_shape[0], height, width,
                                           positions.num_actions, channels=8, blocks=1)))  # fmt: skip
    result = task.match(cfg, task.search_player(cfg, agent), "random", 2, seed=0)
    assert result["games"] == 2


def test_unknown_search_kind_is_a_config_error() -> None:
    result = run_cli("go_small", "search.kind=alphabeta")
    assert result.returncode == 2
    assert "search.kind" in result.stderr and "alphabeta" in result.stderr


def test_gtp_searches_with_the_komi_the_controller_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.boardgames.go_play import _gtp_genmove
    from tasks.config import load_config
    from tasks.registry import load_task, task_yaml

    task = load_task("go_small")
    cfg = load_config(task.config_cls, "go_small", task_yaml("go_small"), [])
    searched_with = []

    class FirstLegal(Player):
        def __call__(self, planes: object, mask: np.ndarray) -> int:
            return int(np.flatnonzero(mask)[0])

    def search_player(cfg: object, agent: object, seed: int = 0) -> object:
        searched_with.append(cfg.env.komi)
        return FirstLegal()

    monkeypatch.setattr(task, "search_player", search_player)
    genmove = _gtp_genmove(task, cfg, agent=object())
    for komi in (5.5, 5.5, 9.0, 7.0):
        assert genmove(GoGame(7, komi=komi)) == 0
    assert searched_with == [9.0, 5.5, 7.0]  # one player per komi, built when first asked


def test_without_gnu_go_the_evaluation_notes_it_and_evaluates_the_rest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import agents.baselines.go as go_players

    monkeypatch.setattr(go_players, "find_gnugo", lambda *args: None)
    args = ["go_small", f"runs_dir={tmp_path}", *TINY, "eval.opponents=[random,gnugo1]",
            "eval.periodic_opponents=[gnugo1]", "eval.with_search=false"]  # fmt: skip
    assert main(args) == 0
    results = json.loads((the_run(tmp_path) / "eval" / "results.json").read_text())
    assert "policy/score/random" in results["metrics"]
    assert any("gnugo1: not evaluated: GNU Go is not installed" in n for n in results["notes"])


def test_a_gnu_go_that_dies_is_restarted_once_at_the_position_then_an_error() -> None:
    from agents.baselines.go import GnuGoPlayer
    from tasks.config import load_config
    from tasks.registry import load_task, task_yaml

    require_gnugo()
    task = load_task("go_small")
    cfg = load_config(task.config_cls, "go_small", task_yaml("go_small"), [])

    class DiesMidGame(GnuGoPlayer):
        """GNU Go killed at the fifth or sixth move of every game."""

        def __call__(self, obs, mask):
            if len(self.game.moves) in (4, 5):
                self.process.kill()
                self.process.wait()
            return super().__call__(obs, mask)

    player = DiesMidGame(7, 9.0, level=1)
    # Game 1: restarted with the game's moves replayed, and it goes on (GNU Go would refuse
    # moves on a board that disagreed); game 2: the second death ends the match with an error.
    with (
        pytest.warns(UserWarning, match="died .* in game 1; restarted at the game's position"),
        pytest.raises(RuntimeError, match="died again .* in game 2 of the match"),
    ):
        task.match(cfg, player, "random", 4, seed=0)  # not a note in the table
    assert player.games == 2 and player.restarts == 1


def test_gnu_go_plays_a_position_the_same_way_in_every_run() -> None:
    """GNU Go seeds itself from the clock: unseeded, two runs of GNU Go 10 against itself from
    this opening (pair seed 90,015 of the held-out games) differed. Seeded from the moves, a
    fresh pair of processes replays the same game; another seed is another stream."""
    from agents.baselines.go import GnuGoPlayer
    from agents.selfplay import play_game
    from tasks.config import load_config
    from tasks.registry import load_task, task_yaml

    require_gnugo()
    task = load_task("go_small")
    cfg = load_config(task.config_cls, "go_small", task_yaml("go_small"), [])

    def game(seed: int) -> list[int]:
        black, white = (GnuGoPlayer(7, 9.0, level=10, seed=seed) for _ in range(2))
        try:
            record = play_game(task.make_game(cfg), (black, white), ("b", "w"), 90_015, 2,
                               task.obs_transform)  # fmt: skip
        finally:
            black.close()
            white.close()
        return record.actions

    first = game(0)
    assert first[:2] == [29, 42] and len(first) > 20
    assert game(0) == first
    player = GnuGoPlayer(7, 9.0, level=1, seed=0)
    try:
        start = player.move_seed()
        player.observe(24)
        assert player.move_seed() != start, "the seed follows the moves"
        assert 1 <= player.move_seed() < 2**31
        here = player.move_seed()
        player.seed = 1
        assert player.move_seed() != here, "another seed, another stream"
    finally:
        player.close()


@pytest.mark.parametrize("setting", ["search.score_utility=0.3", "search.symmetries=8",
                                     "search.prior_mix=0.1", "search.playout_weight=0.5"])  # fmt: skip
def test_rave_search_refuses_the_network_searchs_settings(setting: str) -> None:
    """search.kind=rave has no network values to mix a score into, average over symmetries or
    smooth: asked for one, it says so in one line rather than play without it."""
    from tasks.config import load_config
    from tasks.registry import load_task, task_yaml

    task = load_task("go_small")
    cfg = load_config(task.config_cls, "go_small", task_yaml("go_small"),
                      ["search.kind=rave", setting])  # fmt: skip
    with pytest.raises(ValueError, match=rf"^{setting}: a setting of the search over the network"):
        task.search_player(cfg, object())
