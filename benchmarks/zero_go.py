"""AlphaZero on go_small: strength on held-out openings, compute against strength, speed.

    python benchmarks/zero_go.py strength RUN [--games 40] [--rave-games 100] [--write]
    python benchmarks/zero_go.py headtohead RUN_A RUN_B [--games 100] [--write]
    python benchmarks/zero_go.py searches RUN gumbel:1024 puct:1024 [--opponent gnugo10]
    python benchmarks/zero_go.py searches RUN gumbel:1024 gumbel:1024:search.symmetries=8 [--jobs 2]
    python benchmarks/zero_go.py searches RUN gumbel:1024 --games 100 --split 2 --jobs 2
    python benchmarks/zero_go.py searches RUN policy --more-runs RUN2 RUN3 --opponent gnugo1
    python benchmarks/zero_go.py searches RUN gumbel:1024 --games 100 --games-file games.jsonl
    python benchmarks/zero_go.py openings games.jsonl [--referee gnugo10] [--jobs 2]
    python benchmarks/zero_go.py curve RUN [RUN ...] [--write]
    python benchmarks/zero_go.py speed [--seconds 60] [--openspiel-python PATH] [--write]
    python benchmarks/zero_go.py sizes [--sizes 4x32 6x32 4x48] [--seconds 90] [--write]

``strength``: the network alone (argmax of its policy) and network + its search against random,
the heuristic and GNU Go levels 1 and 10, both colours, paired random 2-move openings from seed
``--seed`` (held out: the default runs evaluate from seed 10,000, periodic evaluations from the
step number, and tuning used seeds 100 and 10,000); then the search against today's RAVE search
without a network, at the same wall time per move (``rave``). Wilson 95% intervals.
``headtohead``: two runs' agents (network + search each) against each other. ``curve``: a
run's periodic scores against wall time (from metrics.jsonl). ``searches``: search variants
(``kind:simulations``, optionally ``:key=value,...``, config overrides for that variant
alone) against one opponent on the same openings; ``--split N`` plays each variant's games as N
matches of whole opening pairs (the same openings; each share's search seeded by its first
opening's seed), ``--jobs`` of them at once, merged into one row; ``--more-runs`` plays the
same games with other runs of a config, a row each and then all pooled; ``--games-file``
writes every game (colour, outcome, margin, opening). ``openings``: those games by what a
referee (GNU Go 10 against itself, three times from each opening) made of the player's
colour in that opening, since a random 2-move opening on 7x7 with komi 9 can leave one colour
lost. ``speed``: self-play moves and recorded positions per second with 0, 1 and 2 Ray
self-play workers, and beside OpenSpiel's AlphaZero actor on the same board, network and
simulations when ``--openspiel-python`` names a Python with open_spiel, jax and flax installed.
``sizes``: self-play moves per second at the default settings (the learner and one Ray worker)
by network size, blocks x channels, the first size the reference. ``--write`` puts the table in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.sections import write_section  # noqa: E402


def _load(run: str, overrides: list[str]) -> tuple[Any, Any, Any, Path]:
    """(task, cfg, agent, checkpoint) of a go_small run folder or checkpoint, under the run's
    own config plus ``overrides``."""
    from tasks.config import load_config
    from tasks.registry import load_task
    from tasks.runner.runs import resolve_checkpoint
    from tasks.runner.session import Session

    task = load_task("go_small")
    checkpoint = resolve_checkpoint(Path(run))
    saved = checkpoint.parent.parent / "config.yaml"
    cfg = load_config(task.config_cls, "go_small", saved, ["device=cpu", *overrides])
    cfg.checkpoint = str(checkpoint)
    agent, _ = Session(task, cfg, []).load_agent()
    return task, cfg, agent, checkpoint


def _row(task: Any, label: str, opponent: str, result: dict[str, float], seconds: float) -> dict:
    from tasks.runner.evaluation import wilson_interval

    games = int(result["games"])
    low, high = wilson_interval(result["wins"], games)
    nl_low, nl_high = wilson_interval(result["wins"] + result["draws"], games)
    return {
        **task._row(label, opponent, result),
        "win_rate": result["wins"] / games,
        "wins_ci95": f"{low:.2f}-{high:.2f}",
        "non_loss_ci95": f"{nl_low:.2f}-{nl_high:.2f}",
        "s": round(seconds),
    }


def strength(args: argparse.Namespace) -> str:
    """Markdown: every pairing of the run's agent over ``--games`` held-out games."""
    task, cfg, agent, checkpoint = _load(args.run, args.overrides)
    players = {"policy": agent.player(deterministic=True),
               "search": task.search_player(cfg, agent, seed=args.seed)}  # fmt: skip
    rows = []
    for opponent in ("random", "heuristic", "gnugo1", "gnugo10"):
        for label, player in players.items():
            start = time.perf_counter()
            result = task.match(cfg, player, opponent, args.games, seed=args.seed)
            rows.append(_row(task, label, opponent, result, time.perf_counter() - start))
            print(json.dumps(rows[-1]), file=sys.stderr)
    search = players["search"]
    per_move = search.time_per_move()
    start = time.perf_counter()
    result = task.match(cfg, search, "rave", args.rave_games, seed=args.seed,
                        seconds_per_move=per_move)  # fmt: skip
    rows.append(_row(task, "search", "rave", result, time.perf_counter() - start))
    from tasks.runner.report import markdown_table

    note = (
        f"Checkpoint `{checkpoint.parent.parent.name}/{checkpoint.name}`; "
        f"{task.describe_search(cfg)}; {per_move * 1000:.0f} ms a move on average, which the RAVE "
        f"opponent (default settings, no network, 2 threads) also gets; openings from seed "
        f"{args.seed}."
    )
    return note + "\n\n" + markdown_table(rows)


def shares_of(games: int, parts: int, seed: int) -> list[tuple[int, int]]:
    """(games, seed) of each share when a ``games``-game match of paired openings from
    ``seed`` is played as up to ``parts`` matches apart: whole opening pairs each, together
    exactly the one match's openings (an odd last game goes with the last share)."""
    if parts < 1 or games < 1:
        raise SystemExit(f"zero_go: cannot play {games} games as {parts} shares")
    pairs = games // 2
    counts = [pairs // parts + (i < pairs % parts) for i in range(parts)]
    shares = [(2 * count, seed + sum(counts[:i])) for i, count in enumerate(counts)]
    last_games, last_seed = shares[-1]
    shares[-1] = (last_games + games % 2, last_seed)
    return [share for share in shares if share[0]]


def headtohead(args: argparse.Namespace) -> str:
    """Markdown: run A's agent with search against run B's, both colours; ``--threads``
    matches at once, each over its own share of the same paired openings."""
    from concurrent.futures import ThreadPoolExecutor

    from agents.selfplay import merge_results, play_match
    from tasks.runner.evaluation import wilson_interval

    task, cfg, agent_a, ckpt_a = _load(args.run_a, args.overrides)
    _, cfg_b, agent_b, ckpt_b = _load(args.run_b, args.overrides)
    pairs = args.games // 2
    shares = shares_of(2 * pairs, args.threads, args.seed)

    def share(index: int) -> dict[str, float]:
        a = task.search_player(cfg, agent_a, seed=1 + 10 * index)
        b = task.search_player(cfg_b, agent_b, seed=2 + 10 * index)
        games, seed = shares[index]
        return play_match(lambda: task.make_game(cfg), a, b, games, seed=seed, names=("a", "b"),
                          opening_moves=cfg.eval.opening_moves,
                          obs_transform=task.obs_transform)  # fmt: skip

    with ThreadPoolExecutor(args.threads) as pool:
        merged = merge_results(list(pool.map(share, range(len(shares)))))
    games = int(merged["games"])
    wins, draws, losses = (int(merged[k]) for k in ("wins", "draws", "losses"))
    low, high = wilson_interval(wins + 0.5 * draws, games)
    return (
        f"Search: {cfg.search.kind} with {cfg.search.simulations} simulations a move for both; "
        f"{games} games, both colours of {pairs} random {cfg.eval.opening_moves}-move openings "
        f"from seed {args.seed}.\n\n"
        f"| A | B | games | A wins | draws | B wins | A score | 95% CI |\n|---|---|---|---|---|---|---|---|\n"
        f"| `{ckpt_a.parent.parent.name}/{ckpt_a.name}` | `{ckpt_b.parent.parent.name}/{ckpt_b.name}` "
        f"| {games} | {wins} | {draws} | {losses} | {merged['score']:.3f} | "
        f"{low:.2f}-{high:.2f} |\n"
    )


POLICY = "policy"


def parse_variant(variant: str) -> tuple[str, list[str]]:
    """``kind:simulations[:key=value,key=value]`` -> (its label, its config overrides);
    ``policy``: the network alone (the argmax of its policy, no search)."""
    if variant == POLICY:
        return POLICY, []
    parts = variant.split(":", 2)
    if parts[0] == POLICY:
        raise SystemExit(f"searches: variant {variant!r}: {POLICY!r} is the network alone, "
                         "with nothing after it")  # fmt: skip
    if len(parts) < 2 or not parts[1].isdigit():
        raise SystemExit(f"searches: variant {variant!r} is not kind:simulations[:key=value,...]")
    kind, sims = parts[0], parts[1]
    extra = [each for each in parts[2].split(",") if each] if len(parts) == 3 else []
    if any("=" not in each for each in extra):
        raise SystemExit(f"searches: variant {variant!r}: overrides are key=value, comma-separated")
    label = " ".join([kind, sims, *extra])
    return label, [f"search.kind={kind}", f"search.simulations={sims}", *extra]


def _search_share(args: argparse.Namespace, run: str, variant: str, games: int, seed: int) -> dict:
    """One variant's share of a run's match: its result, seconds, moves searched and their
    seconds, and the checkpoint it played (a process of its own when ``--jobs`` > 1)."""
    label, own = parse_variant(variant)
    task, cfg, agent, checkpoint = _load(run, [*args.overrides, *own])
    alone = variant == POLICY
    player = (
        agent.player(deterministic=True) if alone else task.search_player(cfg, agent, seed=seed)
    )
    played = f"{checkpoint.parent.parent.name}/{checkpoint.name}"
    games_played: list[dict] = []

    def keep(record: Any, index: int) -> None:
        games_played.append(game_line(record, index, seed, cfg.eval.opening_moves))

    start = time.perf_counter()
    result = task.match(cfg, player, args.opponent, games, seed=seed, on_game=keep)
    seconds = time.perf_counter() - start
    print(json.dumps({"run": run, "variant": label, "seed": seed, **result}), file=sys.stderr,
          flush=True)  # fmt: skip
    for line in games_played:
        line.update(run=run, checkpoint=played, variant=label, opponent=args.opponent)
    return {
        "result": result,
        "seconds": seconds,
        "moves": 0 if alone else player.moves,
        "seconds_searching": 0.0 if alone else player.seconds,
        "checkpoint": played,
        "games": games_played,
    }


COLOURS = ("black", "white")


def game_line(record: Any, index: int, seed: int, opening_moves: int) -> dict:
    """One game of a ``play_match`` from ``seed`` (its ``index``-th), from the player's side:
    its colour, outcome and margin, the opening's seed and moves (``--games-file``'s lines)."""
    from agents.selfplay import seat_result

    mine = index % 2  # play_match seats the player first in even games
    outcome, margin = seat_result(record, mine)
    return {
        "pair_seed": seed + index // 2,
        "colour": COLOURS[mine],
        "outcome": outcome,
        "margin": margin,
        "opening": record.actions[:opening_moves],
        "moves": len(record.actions),
    }


def write_games(path: str, lines: list[dict]) -> None:
    """Every game as a JSON line, written whole or not at all (a temporary file renamed)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_text("".join(json.dumps(line) + "\n" for line in lines))
    partial.replace(target)


def searches(args: argparse.Namespace) -> str:
    """Markdown: search variants (kind:simulations[:overrides]) against one opponent, same
    openings; each variant's games in ``--split`` shares, ``--jobs`` matches at once (each on
    one core), rows in the order given. With ``--more-runs``, a row per run and variant, then
    each variant's games of all runs pooled."""
    from concurrent.futures import ProcessPoolExecutor

    from agents.selfplay import merge_results
    from tasks.registry import load_task
    from tasks.runner.report import markdown_table

    for variant in args.variants:  # every variant parses before any game is played
        parse_variant(variant)
    runs = [args.run, *args.more_runs]
    shares = shares_of(args.games, args.split, args.seed)
    work = [(run, variant, games, seed) for variant in args.variants for run in runs
            for games, seed in shares]  # fmt: skip
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            done = list(pool.map(_search_share, [args] * len(work), *zip(*work, strict=True)))
    else:
        done = [_search_share(args, *each) for each in work]
    task, rows, per_variant = load_task("go_small"), [], len(runs) * len(shares)

    def table_row(label: str, parts: list[dict], run: str) -> dict:
        result = merge_results([part["result"] for part in parts])
        row = _row(task, label, args.opponent, result, sum(part["seconds"] for part in parts))
        moves = sum(part["moves"] for part in parts)
        searching = sum(part["seconds_searching"] for part in parts)
        row["ms_a_move"] = round(searching / moves * 1000) if moves else ""
        return {"run": run, **row} if len(runs) > 1 else row

    for index, variant in enumerate(args.variants):
        label, _ = parse_variant(variant)
        mine = done[index * per_variant : (index + 1) * per_variant]
        for first in range(0, per_variant, len(shares)):
            parts = mine[first : first + len(shares)]
            rows.append(table_row(label, parts, f"`{parts[0]['checkpoint']}`"))
        if len(runs) > 1:
            rows.append(table_row(label, mine, f"all {len(runs)} runs"))
    if args.games_file:
        write_games(args.games_file, [line for part in done for line in part["games"]])
    at_once = f"; {args.jobs} matches at once" if args.jobs > 1 else ""
    split = f", each variant's games in {len(shares)} shares" if len(shares) > 1 else ""
    played = ", ".join(
        f"`{part['checkpoint']}`" for part in done[: len(runs) * len(shares) : len(shares)]
    )
    plural = "s" if len(runs) > 1 else ""
    note = f"Checkpoint{plural} {played}, openings from seed {args.seed}{at_once}{split}."
    return note + "\n\n" + markdown_table(rows)


def read_games(path: str) -> list[dict]:
    """The lines of a ``searches --games-file``; a missing, empty or malformed file is a
    one-line error naming it."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise SystemExit(f"openings: cannot read games file {path}: {error.strerror}") from None
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        try:
            line = json.loads(raw)
            keys = ("run", "variant", "pair_seed", "colour", "outcome", "opening")
            missing = [key for key in keys if key not in line]
        except (json.JSONDecodeError, TypeError):
            missing = ["a JSON object"]
        if missing:
            raise SystemExit(f"openings: {path} line {number} lacks {', '.join(missing)}")
        lines.append(line)
    if not lines:
        raise SystemExit(f"openings: {path} holds no games")
    return lines


def _referee_share(
    run: str, overrides: list[str], referee: str, games: int, work: list
) -> list[dict]:
    """The referee against itself ``games`` times (GNU Go seeds 0, 1, ...) from each (pair
    seed, opening) of ``work``: the winner of each game (a colour or ``draw``) and the
    majority's winner (Black's mean score above, below or at one half)."""
    from agents.selfplay import play_game

    task, cfg, _, _ = _load(run, overrides)
    black, white = (task.player(cfg, referee, seed=0) for _ in COLOURS)
    game = task.make_game(cfg)
    verdicts = []
    try:
        for pair_seed, opening in work:
            winners = []
            for seed in range(games):
                black.seed = white.seed = seed
                record = play_game(game, (black, white), COLOURS, pair_seed, len(opening),
                                   task.obs_transform)  # fmt: skip
                if record.actions[: len(opening)] != list(opening):
                    raise SystemExit(f"openings: the opening of seed {pair_seed} replays as "
                                     f"{record.actions[: len(opening)]}, not {list(opening)}: "
                                     "the games file comes from another board or opening "
                                     "length")  # fmt: skip
                winners.append("draw" if record.winner == -1 else COLOURS[record.winner])
            black_score = sum({"black": 1.0, "draw": 0.5}.get(w, 0.0) for w in winners) / games
            winner = "black" if black_score > 0.5 else "white" if black_score < 0.5 else "draw"
            verdicts.append({"pair_seed": pair_seed, "winner": winner, "games": winners})
            print(json.dumps(verdicts[-1]), file=sys.stderr, flush=True)
    finally:
        for each in (black, white):
            each.close()
        game.close()
    return verdicts


def _verdict_row(task: Any, variant: str, opponent: str, verdict: str, games: list[dict]) -> dict:
    """A table row of ``openings``: ``games`` (lines of a games file) under one verdict, with
    each colour's wins, draws and losses."""
    from agents.selfplay import merge_results

    part: dict[str, float] = {"games": len(games)}
    for key in ("wins", "draws", "losses"):
        part[key] = sum(game["outcome"] == key for game in games)
        part[f"first_{key}"] = sum(g["outcome"] == key and g["colour"] == "black" for g in games)
    margins = [game["margin"] for game in games if game.get("margin") is not None]
    if len(margins) == len(games):
        part["mean_margin"] = sum(margins) / len(margins)
    row = _row(task, variant, opponent, merge_results([part]), 0.0)
    del row["s"]
    return {"referee_with_our_colour": verdict, **row}


VERDICTS = ("won", "drawn", "lost")  # what the referee's games say of a colour
REFEREE = re.compile(r"^gnugo(10|\d)$")


def verdict_of(colour: str, winner: str) -> str:
    """What a referee game won by ``winner`` (a colour or ``draw``) says of ``colour``."""
    return "drawn" if winner == "draw" else "won" if winner == colour else "lost"


def verdict_rows(task: Any, lines: list[dict], winners: dict[int, str]) -> list[dict]:
    """``openings``' rows: each player (variant and opponent) of ``lines`` (a games file), its
    games grouped by the referee's verdict on their colour, given each opening's winner
    (``winners``, by pair seed: a colour or ``draw``)."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for line in lines:
        verdict = verdict_of(line["colour"], winners[line["pair_seed"]])
        groups.setdefault((line["variant"], line.get("opponent", ""), verdict), []).append(line)
    players = dict.fromkeys((line["variant"], line.get("opponent", "")) for line in lines)
    return [
        _verdict_row(task, variant, opponent, verdict, groups[variant, opponent, verdict])
        for variant, opponent in players
        for verdict in VERDICTS
        if (variant, opponent, verdict) in groups
    ]


def openings(args: argparse.Namespace) -> str:
    """Markdown: a ``searches --games-file``'s games by what a referee made of their opening.
    The referee (``--referee``, GNU Go 10 by default) plays itself ``--referee-games`` times
    from every opening; each game counts under the majority's verdict on the player's colour,
    so a loss in an opening the referee lost with that colour too is told apart from one it
    held."""
    from concurrent.futures import ProcessPoolExecutor

    from tasks.registry import load_task
    from tasks.runner.report import markdown_table

    lines = read_games(args.games_file)
    work = sorted({(line["pair_seed"], tuple(line["opening"])) for line in lines})
    if len({seed for seed, _ in work}) < len(work):
        raise SystemExit(f"openings: {args.games_file} plays one seed from two openings")
    if not REFEREE.match(args.referee) or args.referee_games < 1 or args.jobs < 1:
        raise SystemExit(f"openings: the referee is gnugo0 .. gnugo10 (got {args.referee!r}), "
                         "with --referee-games and --jobs of at least 1")  # fmt: skip
    chunks = [work[i :: args.jobs] for i in range(args.jobs) if work[i :: args.jobs]]
    run, refs = lines[0]["run"], args.referee_games
    with ProcessPoolExecutor(len(chunks)) as pool:
        parts = pool.map(_referee_share, *zip(*[(run, args.overrides, args.referee, refs, chunk)
                                                for chunk in chunks], strict=True))  # fmt: skip
        verdicts = [each for part in parts for each in part]
    winners = {each["pair_seed"]: each["winner"] for each in verdicts}
    split = sum(len(set(each["games"])) > 1 for each in verdicts)
    rows = verdict_rows(load_task("go_small"), lines, winners)
    tally = {winner: sum(w == winner for w in winners.values()) for winner in (*COLOURS, "draw")}
    note = (
        f"Games of `{args.games_file}` ({len(lines)}, {len(work)} openings) by the referee's "
        f"verdict on the player's colour: {args.referee} played itself {refs} times from each "
        f"opening (GNU Go seeds 0-{refs - 1}), the majority's winner the verdict (Black "
        f"{tally['black']}, White {tally['white']}, even {tally['draw']}; the games disagreed "
        f"in {split} openings)."
    )
    return note + "\n\n" + markdown_table(rows)


PAUSE_S = 180.0  # log lines come every ~10 s, periodic evaluations take ~1 min


def curve(args: argparse.Namespace) -> str:
    """Markdown: periodic scores of each run against wall minutes (and a plot of them)."""
    from tasks.runner.runs import read_metrics

    lines = ["| run | minutes | step | opponent | score |", "|---|---|---|---|---|"]
    series: dict[str, list[tuple[float, float]]] = {}
    for run in args.runs:
        records = [r for r in read_metrics(Path(run) / "metrics.jsonl") if "time" in r]
        minutes, last = 0.0, records[0]["time"]
        for r in records:
            # Training time: a gap of more than PAUSE_S between log lines is a pause (a run
            # stopped and resumed), not training.
            minutes += min(r["time"] - last, PAUSE_S) / 60
            last = r["time"]
            for key, value in r.items():
                if key.startswith("charts/win_rate/"):
                    lines.append(f"| `{Path(run).name}` | {minutes:.1f} | {r['step']:,} | "
                                 f"{key[16:]} | {value:.2f} |")  # fmt: skip
                    series.setdefault(f"{Path(run).name}: {key[16:]}", []).append((minutes, value))
    if args.write:
        _plot_curve(series, REPO / "benchmarks" / "results" / "zero_go_curve.png")
        lines.append("\n![strength against training time](benchmarks/results/zero_go_curve.png)")
    return "\n".join(lines) + "\n"


def _plot_curve(series: dict[str, list[tuple[float, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    for label, points in series.items():
        axis.plot(*zip(*points, strict=True), marker="o", label=label)
    axis.set(xlabel="wall minutes of training (2 cores)", ylabel="score (draws 1/2)",
             title="The network alone against fixed opponents, 20 games each", ylim=(0, 1.02))  # fmt: skip
    axis.legend(fontsize=7)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _selfplay_rate(workers: int, seconds: float, extra: list[str]) -> dict[str, float]:
    from tasks.run import main
    from tasks.runner.runs import read_metrics

    steps = int(seconds * 1100 * max(1, workers))  # ~seconds where self-play makes 1,100/s
    with tempfile.TemporaryDirectory() as runs_dir:
        args = ["go_small", "algo.name=alphazero", "network.kind=cnn", f"runs_dir={runs_dir}",
                f"train.total_steps={steps}", "train.checkpoint_every=0", "eval.every=0",
                "eval.opponents=[random]", "eval.episodes=2", "eval.with_search=false",
                f"ray.num_selfplay_workers={workers}", f"zero.log_every={steps // 10}",
                *extra]  # fmt: skip
        if main(args) != 0:
            raise SystemExit("go_small alphazero failed")
        (run,) = (Path(runs_dir) / "go_small").iterdir()
        return steady_rates(read_metrics(run / "metrics.jsonl"))


def steady_rates(records: list[dict]) -> dict[str, float]:
    """Moves and recorded positions a second over a run's log windows after the first (which
    holds the start: compiling, workers starting), each window weighed by its length, so
    totals over total time. Positions arrive by whole games, so short windows disagree."""
    records = [r for r in records if "time/fps" in r]
    if len(records) < 2:
        raise SystemExit("speed: fewer than two log windows; give the run more --seconds")
    spans = [now["time"] - before["time"] for before, now in itertools.pairwise(records)]
    steady = records[1:]
    return {
        name: sum(r[key] * span for r, span in zip(steady, spans, strict=True)) / sum(spans)
        for name, key in (
            ("moves_per_s", "time/fps"),
            ("positions_per_s", "charts/positions_per_s"),
        )
    }


def speed(args: argparse.Namespace) -> str:
    """Markdown: self-play rates by number of workers, and the peer's."""
    import torch

    from agents.zero.network import compute_dtype

    rows = ["| self-play | moves/s | recorded positions/s |", "|---|---|---|"]
    for workers in (0, 1, 2):
        rate = _selfplay_rate(workers, args.seconds, args.overrides)
        rows.append(f"| learnloop, {workers} Ray workers (+ the learner's own self-play) | "
                    f"{rate['moves_per_s']:,.0f} | {rate['positions_per_s']:,.0f} |")  # fmt: skip
        print(rows[-1], file=sys.stderr)
    same = ["zero.full_share=1.0", "zero.simulations=32", "zero.train_ratio=0", *args.overrides]
    formats = ["auto"]  # zero.precision; float32 beside it where auto means bfloat16 here
    if compute_dtype("auto", "cpu") != torch.float32:
        formats.append("float32")
    for precision in formats:
        rate = _selfplay_rate(0, args.seconds, [*same, f"zero.precision={precision}"])
        name = str(compute_dtype(precision, "cpu")).removeprefix("torch.")
        rows.append(f"| learnloop, one process, 32 simulations every move, no training, {name} | "
                    f"{rate['moves_per_s']:,.0f} | {rate['positions_per_s']:,.0f} |")  # fmt: skip
    if args.openspiel_python:
        peer = subprocess.run(
            [args.openspiel_python, str(REPO / "benchmarks" / "openspiel_selfplay.py"),
             "--seconds", str(args.seconds)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        result = json.loads(peer.stdout.strip().splitlines()[-1])
        rows.append(f"| OpenSpiel {result['version']} AlphaZero actor, one process, 32 "
                    f"simulations every move | {result['moves_per_s']:,.1f} | "
                    f"{result['moves_per_s']:,.1f} |")  # fmt: skip
    return "\n".join(rows) + "\n"


SIZES = ("4x32", "3x32", "4x24", "6x32", "4x48", "4x64", "6x48")


def parse_size(size: str) -> tuple[int, int]:
    """``BLOCKSxCHANNELS`` -> (blocks, channels)."""
    blocks, _, channels = size.partition("x")
    if not (blocks.isdigit() and channels.isdigit() and int(blocks) > 0 and int(channels) > 0):
        raise SystemExit(f"sizes: {size!r} is not BLOCKSxCHANNELS, e.g. 4x32")
    return int(blocks), int(channels)


def sizes(args: argparse.Namespace) -> str:
    """Markdown: self-play rates at the default settings by network size, against the first."""
    shapes = [parse_size(size) for size in args.sizes]  # every size parses before any run
    rows = ["| network (blocks x channels) | moves/s | recorded positions/s | moves/s against "
            f"{args.sizes[0]} |", "|---|---|---|---|"]  # fmt: skip
    reference = 0.0
    for size, (blocks, channels) in zip(args.sizes, shapes, strict=True):
        shape = [f"network.blocks={blocks}", f"network.channels={channels}"]
        rate = _selfplay_rate(1, args.seconds, [*shape, *args.overrides])
        reference = reference or rate["moves_per_s"]
        rows.append(f"| {size} | {rate['moves_per_s']:,.0f} | {rate['positions_per_s']:,.0f} | "
                    f"{rate['moves_per_s'] / reference:.2f}x |")  # fmt: skip
        print(rows[-1], file=sys.stderr, flush=True)
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("strength")
    s.add_argument("run")
    s.add_argument("--games", type=int, default=40)
    s.add_argument("--rave-games", type=int, default=100)
    s.add_argument("--seed", type=int, default=90_000)
    h = sub.add_parser("headtohead")
    h.add_argument("run_a")
    h.add_argument("run_b")
    h.add_argument("--games", type=int, default=100)
    h.add_argument("--seed", type=int, default=90_000)
    h.add_argument("--threads", type=int, default=2)
    v = sub.add_parser("searches")
    v.add_argument("run")
    v.add_argument("variants", nargs="+",
                   help="kind:simulations[:key=value,...], e.g. gumbel:1024 "
                        "gumbel:1024:search.score_utility=0.3; policy: the network alone")  # fmt: skip
    v.add_argument("--opponent", default="gnugo10")
    v.add_argument("--games", type=int, default=40)
    v.add_argument("--seed", type=int, default=90_000)
    v.add_argument("--jobs", type=int, default=1, help="matches at once, one core each")
    v.add_argument("--more-runs", nargs="*", default=[],
                   help="other runs (or checkpoints) to play the same games; a row each, then all pooled")  # fmt: skip
    v.add_argument("--split", type=int, default=1,
                   help="play each variant's games as this many matches of whole opening "
                        "pairs (with --jobs, at once), merged into one row")  # fmt: skip
    v.add_argument(
        "--games-file",
        default="",
        help="write every game (colour, outcome, margin, opening) as JSON lines here",
    )
    o = sub.add_parser("openings")
    o.add_argument("games_file", help="a searches --games-file")
    o.add_argument("--referee", default="gnugo10", help="the player that judges each opening")
    o.add_argument(
        "--referee-games",
        type=int,
        default=3,
        help="referee games from each opening (GNU Go seeds 0, 1, ...); the majority judges",
    )
    o.add_argument("--jobs", type=int, default=1, help="referee games at once, one core each")
    c = sub.add_parser("curve")
    c.add_argument("runs", nargs="+")
    p = sub.add_parser("speed")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--openspiel-python", default="")
    z = sub.add_parser("sizes")
    z.add_argument("--sizes", nargs="+", default=list(SIZES), help="BLOCKSxCHANNELS, e.g. 4x32")
    z.add_argument("--seconds", type=float, default=90.0)
    for each in (s, h, v, o, c, p, z):
        each.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
        each.add_argument("--section", default="", help="section name (default: the command)")
        each.add_argument("--overrides", nargs="*", default=[], help="config key=value")
    args = parser.parse_args()
    commands = {"strength": strength, "headtohead": headtohead, "searches": searches,
                "openings": openings, "curve": curve, "speed": speed, "sizes": sizes}  # fmt: skip
    markdown = commands[args.command](args)
    print(markdown)
    if args.write:
        write_section(args.section or f"zero_go_{args.command}", markdown)


if __name__ == "__main__":
    main()
