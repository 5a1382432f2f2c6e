"""How fast is learnloop's Go against PettingZoo go_v5 (and OpenSpiel)? Random play, full games.

Every way plays uniformly random legal moves (pass included) through whole games and counts
moves per second; a finished game is reset and play goes on until ``--seconds`` have passed.
All ways pick moves with the same numba helper from a legal-move mask, so the picking costs
the same everywhere.

- ``go_v5``: PettingZoo classic, ``env.last()`` (observation + mask) then ``env.step``.
- ``engine (python API)``: ``GoGame.legal_mask()`` then ``GoGame.play()`` from Python.
- ``engine (numba loop)``: the same rules kernels looping inside numba (legal mask each move),
  the speed an in-kernel rollout (e.g. MCTS playouts) gets.
- ``AEC env``: ``envs.go.env()`` (wrapped) with ``last()`` (observation + mask) and ``step``.
- ``a user's loop``: go_v5 and ``envs.go.env()`` as a user drives them: ``for agent in
  env.agent_iter()``, ``env.last()``, the move drawn with numpy (``nz = np.flatnonzero(mask);
  nz[rng.integers(len(nz))]``), ``env.step``; its ratio is to go_v5 in the same loop.
- ``batched env``: ``GoVectorEnv`` with ``--num-envs`` boards against its random opponent; an
  env step is one agent move plus the opponent's reply (observation + mask for the agent each
  step). Reported twice: every move counted (comparable with the other rows), and env steps.
- ``OpenSpiel``: ``pyspiel`` go through Python: ``legal_actions_mask()`` then
  ``apply_action`` (engine), plus ``observation_tensor()`` (obs + mask).

Game lengths differ a little: go_v5 has no move cap, learnloop and OpenSpiel cap games at
2*N*N moves. Rates are moves per CPU second of this (single-threaded) process, each the best
of ``--rounds`` measurements taken in turn with the others, so load from other processes
skews the ratios less. Prints a Markdown table: moves/s and the ratio to go_v5 at the same
size.

    python benchmarks/go_env.py [--seconds 0.5] [--rounds 3] [--sizes 5 7 9 19] [--num-envs 64]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from envs.go import _kernels, env  # noqa: E402
from envs.go.game import GoGame  # noqa: E402
from envs.go.vector import GoVectorEnv  # noqa: E402

Measure = Callable[[int, float], float]  # (board size, seconds) -> moves per second
USER_BASE = "PettingZoo go_v5, a user's loop (agent_iter, last, numpy pick)"


@njit(cache=True)
def pick(mask, u):
    """Return the legal action (nonzero entry of ``mask``) at uniform position ``u`` in [0, 1)."""
    count = 0
    for a in range(mask.shape[0]):
        count += mask[a] != 0
    k = min(int(u * count), count - 1)
    for a in range(mask.shape[0]):
        if mask[a] != 0:
            if k == 0:
                return a
            k -= 1
    return -1


@njit(cache=True)
def pick_rows(masks, uniforms, out):
    """``pick`` for each row of ``masks`` into ``out``."""
    for i in range(masks.shape[0]):
        out[i] = pick(masks[i], uniforms[i])


@njit(cache=True)
def kernel_selfplay(state, zob, empty, moves, seed):
    """Play ``moves`` random moves in numba, resetting finished games; return games finished."""
    np.random.seed(seed)
    mask = np.empty(state[_kernels.SIZE] ** 2 + 1, dtype=np.int8)
    games = 0
    for _ in range(moves):
        if state[_kernels.OVER]:
            state[:] = empty
            games += 1
        _kernels.legal_mask_into(state, zob, mask)
        _kernels.play(state, zob, pick(mask, np.random.random()))
    return games


def timed(run_batch: Callable[[], int], seconds: float) -> float:
    """Call ``run_batch`` (returns moves made) for ``seconds`` of this process's CPU time;
    return moves per CPU second. (CPU time, not wall time: on a shared machine other jobs
    then slow every way alike instead of whichever runs while they are busy.)"""
    run_batch()  # warm up: compile or load caches, first allocations
    moves, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        moves += run_batch()
    return moves / (time.process_time() - start)


def aec_game(aec, rnd: Callable[[], float]) -> int:
    """Play one random game through an AEC env; return its moves."""
    aec.reset()
    moves = 0
    while True:
        obs, _, terminated, truncated, _ = aec.last()
        if terminated or truncated:
            return moves
        aec.step(pick(obs["action_mask"], rnd()))
        moves += 1


def go_v5(size: int, seconds: float) -> float:
    """PettingZoo classic go_v5."""
    from pettingzoo.classic import go_v5 as module

    aec, rnd = module.env(board_size=size), random.Random(0).random
    return timed(lambda: aec_game(aec, rnd), seconds)


def ours_aec(size: int, seconds: float) -> float:
    """learnloop AEC env, wrapped as env() returns it."""
    aec, rnd = env(board_size=size), random.Random(0).random
    return timed(lambda: aec_game(aec, rnd), seconds)


def user_loop(aec, seconds: float) -> float:
    """Random play as a user writes it: ``agent_iter``, ``last``, a move picked with numpy."""
    rng = np.random.default_rng(0)
    moves, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        aec.reset(seed=int(rng.integers(1 << 30)))
        for _ in aec.agent_iter():
            obs, _, terminated, truncated, _ = aec.last()
            if terminated or truncated:
                action = None
            else:
                nz = np.flatnonzero(obs["action_mask"])
                action = int(nz[rng.integers(len(nz))])
                moves += 1
            aec.step(action)
    return moves / (time.process_time() - start)


def go_v5_user(size: int, seconds: float) -> float:
    """PettingZoo classic go_v5 in a user's loop."""
    from pettingzoo.classic import go_v5 as module

    return user_loop(module.env(board_size=size), seconds)


def ours_user(size: int, seconds: float) -> float:
    """learnloop's AEC env as ``env()`` returns it, in a user's loop."""
    return user_loop(env(board_size=size), seconds)


def ours_engine(size: int, seconds: float) -> float:
    """GoGame from Python: legal_mask() + play() each move."""
    game, rnd = GoGame(size), random.Random(0).random

    def one_game() -> int:
        game.reset()
        while not game.is_over():
            game.play(pick(game.legal_mask(), rnd()))
        return game.move_count

    return timed(one_game, seconds)


def ours_kernel(size: int, seconds: float) -> float:
    """The rules kernels looping in numba."""
    game = GoGame(size)
    batch = 20_000 if size < 19 else 5_000

    def run_batch() -> int:
        kernel_selfplay(game._s, game._zob, game._empty, batch, 0)
        return batch

    return timed(run_batch, seconds)


def ours_batched(size: int, seconds: float, num_envs: int, count_moves: bool) -> float:
    """GoVectorEnv against its in-kernel random opponent: moves (both players) or env steps
    (agent transitions) per second."""
    vec = GoVectorEnv(num_envs=num_envs, board_size=size)
    vec.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = np.zeros(num_envs, dtype=np.int64)

    def one_step() -> int:
        before, fresh = vec._states[:, _kernels.MOVES].copy(), vec._needs_reset.copy()
        pick_rows(vec._masks, rng.random(num_envs), actions)
        vec.step(actions)
        after = vec._states[:, _kernels.MOVES]
        return int(np.where(fresh, after, after - before).sum()) if count_moves else num_envs

    return timed(one_step, seconds)


def openspiel(size: int, seconds: float, observe: bool) -> float:
    """OpenSpiel's go through pyspiel, with or without observation_tensor() each move."""
    import pyspiel

    game = pyspiel.load_game("go", {"board_size": size, "komi": 7.5})
    rnd = random.Random(0).random

    def one_game() -> int:
        state, moves = game.new_initial_state(), 0
        while not state.is_terminal():
            if observe:
                state.observation_tensor()
            mask = np.asarray(state.legal_actions_mask(), dtype=np.int8)
            state.apply_action(pick(mask, rnd()))
            moves += 1
        return moves

    return timed(one_game, seconds)


def ways(num_envs: int) -> dict[str, Measure]:
    """Name -> measurement, in table order; OpenSpiel only if pyspiel imports."""
    table: dict[str, Measure] = {
        "PettingZoo go_v5 (AEC, obs + mask)": go_v5,
        USER_BASE: go_v5_user,
        "learnloop AEC env, a user's loop (ratio to go_v5 in the same loop)": ours_user,
        "learnloop engine (python API, mask each move)": ours_engine,
        "learnloop engine (numba loop, mask each move)": ours_kernel,
        "learnloop AEC env (obs + mask)": ours_aec,
        f"learnloop batched env ({num_envs} boards, obs + mask), moves": (
            lambda size, seconds: ours_batched(size, seconds, num_envs, True)
        ),
        f"learnloop batched env ({num_envs} boards), env steps (move + reply)": (
            lambda size, seconds: ours_batched(size, seconds, num_envs, False)
        ),
    }
    try:
        import pyspiel  # noqa: F401
    except ImportError:
        print("OpenSpiel not installed (pip install open_spiel): rows skipped", file=sys.stderr)
        return table
    table["OpenSpiel go (python API, mask)"] = lambda size, s: openspiel(size, s, False)
    table["OpenSpiel go (python API, obs + mask)"] = lambda size, s: openspiel(size, s, True)
    return table


def main() -> None:
    """Measure every way at every size and print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many, interleaved")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 7, 9, 19])
    parser.add_argument("--num-envs", type=int, default=64, help="boards in the batched env")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    table = ways(args.num_envs)
    results = {name: dict.fromkeys(args.sizes, 0.0) for name in table}
    # Rounds interleave the ways so that load from other processes hits them alike.
    for round_number in range(args.rounds):
        for name, measure in table.items():
            for size in args.sizes:
                results[name][size] = max(results[name][size], measure(size, args.seconds))
        print(f"round {round_number + 1} of {args.rounds} done", file=sys.stderr)
    table = markdown(results, args.sizes)
    print(table)
    if args.write:
        from benchmarks.sections import write_section

        head = (f"`python benchmarks/go_env.py --seconds {args.seconds:g} --rounds {args.rounds} "
                f"--sizes {' '.join(map(str, args.sizes))}` on {time.strftime('%Y-%m-%d')}, load "
                f"average {', '.join(f'{x:.1f}' for x in os.getloadavg())} at the end:")  # fmt: skip
        write_section("go_env_speed", head + "\n\n" + table)


def markdown(results: dict[str, dict[int, float]], sizes: list[int]) -> str:
    """Return the table: moves/s and the ratio to go_v5 per size."""
    first = next(iter(results.values()))
    header = "| way | " + " | ".join(f"{n}x{n} moves/s (x go_v5)" for n in sizes) + " |"
    lines = [header, "|---|" + "---:|" * len(sizes)]
    for name, row in results.items():
        base = results[USER_BASE] if "user's loop" in name else first
        cells = [f"{row[n]:,.0f} ({row[n] / base[n]:.1f}x)" for n in sizes]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
