"""zero_go.py searches, sizes and speed: variants carry their own overrides into their rows;
sizes parse; rates weigh log windows by their length."""

from __future__ import annotations

import re

import pytest

from tests.benchmarks import load_benchmark


def test_a_variant_is_kind_simulations_and_its_own_overrides() -> None:
    parse = load_benchmark("zero_go").parse_variant
    assert parse("gumbel:1024") == (
        "gumbel 1024",
        ["search.kind=gumbel", "search.simulations=1024"],
    )
    label, overrides = parse("puct:512:search.symmetries=8,search.prior_mix=0.1")
    assert label == "puct 512 search.symmetries=8 search.prior_mix=0.1"
    assert overrides == [
        "search.kind=puct",
        "search.simulations=512",
        "search.symmetries=8",
        "search.prior_mix=0.1",
    ]
    assert parse("policy") == ("policy", [])  # the network alone


@pytest.mark.parametrize("bad", ["gumbel", "gumbel:many", "gumbel:64:symmetries", "policy:64"])
def test_a_malformed_variant_names_itself(bad: str) -> None:
    with pytest.raises(SystemExit, match=repr(bad)):
        load_benchmark("zero_go").parse_variant(bad)


def test_a_network_size_is_blocks_x_channels() -> None:
    parse = load_benchmark("zero_go").parse_size
    assert parse("4x32") == (4, 32)
    assert parse("6x48") == (6, 48)


def test_speed_weighs_each_window_by_its_length_and_drops_the_first() -> None:
    steady_rates = load_benchmark("zero_go").steady_rates
    records = [
        {"step": 1000, "time": 100.0, "time/fps": 10.0, "charts/positions_per_s": 0.0},
        {"step": 2000, "time": 101.0, "time/fps": 1000.0, "charts/positions_per_s": 600.0},
        {"step": 2500, "time": 104.0, "time/fps": 500 / 3, "charts/positions_per_s": 0.0},
        {"step": 2500, "time": 104.5, "charts/win_rate/random": 1.0},  # not a rate window
    ]
    rates = steady_rates(records)
    assert rates["moves_per_s"] == pytest.approx(1500 / 4), "total moves over total time"
    assert rates["positions_per_s"] == pytest.approx(600 / 4)
    with pytest.raises(SystemExit, match="more --seconds"):
        steady_rates(records[:1])


@pytest.mark.parametrize("bad", ["4", "4x", "x32", "0x32", "4x0", "4*32", "four x 32"])
def test_a_malformed_network_size_names_itself(bad: str) -> None:
    with pytest.raises(SystemExit, match=re.escape(repr(bad))):
        load_benchmark("zero_go").parse_size(bad)


def test_a_match_split_into_shares_plays_the_same_openings_and_merges_to_the_same_result() -> None:
    from pettingzoo.classic import tictactoe_v3

    from agents.selfplay import merge_results, play_match
    from tests.players import FirstLegal, LastLegal

    shares_of = load_benchmark("zero_go").shares_of
    assert shares_of(100, 2, 90_000) == [(50, 90_000), (50, 90_025)]
    assert shares_of(9, 2, 5) == [(4, 5), (5, 7)], "whole pairs; the odd game goes last"
    assert shares_of(2, 3, 0) == [(2, 0)], "no empty shares"
    with pytest.raises(SystemExit, match="0 games"):
        shares_of(0, 2, 0)

    def match(games: int, seed: int) -> dict[str, float]:
        return play_match(tictactoe_v3.env, FirstLegal(), LastLegal(), games, seed, opening_moves=2)

    whole = match(9, 5)
    merged = merge_results([match(games, seed) for games, seed in shares_of(9, 3, 5)])
    assert merged == whole
    assert whole["wins"] + whole["draws"] + whole["losses"] == 9


def test_merging_results_weighs_margins_by_games_and_refuses_nothing() -> None:
    from agents.selfplay import merge_results

    a = {"games": 2, "wins": 2, "draws": 0, "losses": 0, "score": 1.0, "mean_margin": 10.0}
    b = {"games": 6, "wins": 1, "draws": 2, "losses": 3, "score": 1 / 3, "mean_margin": -2.0}
    merged = merge_results([a, b])
    assert merged == {"games": 8, "wins": 3, "draws": 2, "losses": 3, "score": 0.5,
                      "mean_margin": 1.0}  # fmt: skip
    seats = {"first_wins": 1, "first_draws": 0, "first_losses": 0}
    both = merge_results([{**a, **seats}, {**b, **seats, "first_losses": 2}])
    assert (both["first_wins"], both["first_draws"], both["first_losses"]) == (2, 0, 2)
    assert "first_wins" not in merge_results([{**a, **seats}, b]), "not where a part lacks them"
    with pytest.raises(ValueError, match="no games"):
        merge_results([])


def test_a_games_file_line_gives_each_game_from_the_players_side(tmp_path) -> None:
    from pettingzoo.classic import tictactoe_v3

    from agents.selfplay import play_match
    from tests.players import FirstLegal, LastLegal

    bench = load_benchmark("zero_go")
    lines: list[dict] = []
    result = play_match(tictactoe_v3.env, FirstLegal(), LastLegal(), 6, 40, opening_moves=2,
                        on_game=lambda record, i: lines.append(bench.game_line(record, i, 40, 2)))  # fmt: skip
    assert [line["colour"] for line in lines] == ["black", "white"] * 3
    assert [line["pair_seed"] for line in lines] == [40, 40, 41, 41, 42, 42]
    assert lines[0]["opening"] == lines[1]["opening"], "a pair shares its opening"
    for key in ("wins", "draws", "losses"):
        assert sum(line["outcome"] == key for line in lines) == result[key]
        first = sum(line["outcome"] == key for line in lines if line["colour"] == "black")
        assert first == result[f"first_{key}"]
    path = tmp_path / "games.jsonl"
    bench.write_games(str(path), [{"run": "r", "variant": "v", **line} for line in lines])
    assert [line["outcome"] for line in bench.read_games(str(path))] == [
        line["outcome"] for line in lines
    ]
    assert not list(tmp_path.glob("*.partial")), "written whole, then renamed"


def test_a_referees_verdict_is_read_from_the_players_colour() -> None:
    verdict_of = load_benchmark("zero_go").verdict_of
    assert verdict_of("black", "black") == "won"
    assert verdict_of("white", "black") == "lost"
    assert verdict_of("white", "draw") == "drawn"


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "holds no games"), ("not json\n", "line 1 lacks a JSON object"),
     ('{"run": "r", "variant": "v"}\n', "line 1 lacks pair_seed, colour, outcome, opening")],
)  # fmt: skip
def test_a_bad_games_file_is_a_one_line_error(tmp_path, text: str, message: str) -> None:
    read_games = load_benchmark("zero_go").read_games
    path = tmp_path / "games.jsonl"
    path.write_text(text)
    with pytest.raises(SystemExit, match=message):
        read_games(str(path))
    with pytest.raises(SystemExit, match="cannot read games file"):
        read_games(str(tmp_path / "missing.jsonl"))


def test_games_are_counted_by_the_referees_verdict_on_their_colour() -> None:
    from tasks.registry import load_task

    verdict_rows = load_benchmark("zero_go").verdict_rows

    def game(seed: int, colour: str, outcome: str, variant: str = "gumbel 8") -> dict:
        return {"run": "r", "variant": variant, "opponent": "gnugo10", "pair_seed": seed,
                "colour": colour, "outcome": outcome, "opening": [], "margin": 1.0}  # fmt: skip

    lines = [game(1, "black", "wins"), game(1, "white", "losses"),  # black won opening 1
             game(2, "black", "losses"), game(2, "white", "wins"),  # white won opening 2
             game(3, "black", "draws"), game(3, "white", "wins"),  # opening 3 drawn
             game(1, "white", "wins", "policy")]  # fmt: skip
    rows = verdict_rows(load_task("go_small"), lines, {1: "black", 2: "white", 3: "draw"})
    got = [(r["player"], r["referee_with_our_colour"], r["wins"], r["draws"], r["losses"])
           for r in rows]  # fmt: skip
    assert got == [("gumbel 8", "won", 2, 0, 0), ("gumbel 8", "drawn", 1, 1, 0),
                   ("gumbel 8", "lost", 0, 0, 2), ("policy", "lost", 1, 0, 0)]  # fmt: skip
    assert rows[2]["as_black"] == "0-0-1" and rows[2]["as_white"] == "0-0-1"


@pytest.mark.parametrize(("referee", "games"), [("rave", 3), ("gnugo11", 3), ("gnugo10", 0)])
def test_the_referee_is_a_gnu_go_level_playing_at_least_once(tmp_path, referee, games) -> None:
    import argparse

    bench = load_benchmark("zero_go")
    path = tmp_path / "games.jsonl"
    line = {"run": "r", "variant": "v", "pair_seed": 1, "colour": "black", "outcome": "wins",
            "opening": [24, 25]}  # fmt: skip
    bench.write_games(str(path), [line])
    args = argparse.Namespace(games_file=str(path), referee=referee, referee_games=games,
                              jobs=1, overrides=[])  # fmt: skip
    with pytest.raises(SystemExit, match="the referee is gnugo0 .. gnugo10"):
        bench.openings(args)
