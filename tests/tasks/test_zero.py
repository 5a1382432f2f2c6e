"""algo.name=alphazero through the runner: tic-tac-toe learned to perfect play, connect four
and Go end to end at a tiny budget, resume with the replay buffer, Ray self-play workers."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tasks.run import main
from tests.conftest import REPO, run_cli

TTT = [
    "algo.name=alphazero", "train.total_steps=30000", "train.checkpoint_every=10000",
    "zero.games=64", "zero.simulations=16", "zero.full_share=1.0", "zero.min_replay=500",
    "zero.considered=9", "network.channels=32", "network.blocks=1", "eval.every=10000",
    "eval.episodes=20",
]  # fmt: skip


def results(run: Path) -> dict[str, float]:
    return json.loads((run / "eval" / "results.json").read_text())["metrics"]


def only_run(runs_dir: Path, task: str) -> Path:
    (run,) = (runs_dir / task).iterdir()
    return run


@pytest.mark.slow
def test_tictactoe_alphazero_never_loses_to_perfect_play(runs_dir: Path) -> None:
    assert main(["tictactoe", *TTT, f"runs_dir={runs_dir}"]) == 0
    run = only_run(runs_dir, "tictactoe")
    assert run.name.endswith("-zero-s0")  # alphazero brings its own backend
    matches = json.loads((run / "eval" / "matches.json").read_text())
    for row in matches:
        if row["opponent"] == "minimax":
            assert row["losses"] == 0, row  # the network alone and with search
        else:
            assert row["score"] >= 0.9, row
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    logged = set().union(*metrics)
    for name in ("losses/policy_loss", "losses/value_loss", "time/fps",
                 "charts/selfplay_games_per_s", "charts/positions_per_s",
                 "charts/win_rate/minimax"):  # fmt: skip
        assert name in logged, name
    assert (run / "strength.png").is_file() and "strength.png" in (run / "report.md").read_text()


@pytest.mark.slow
def test_resume_continues_with_the_replay_buffer(runs_dir: Path) -> None:
    small = [*TTT[:1], "train.checkpoint_every=2000", *TTT[3:], "eval.every=0",
             "eval.episodes=2", f"runs_dir={runs_dir}"]  # fmt: skip
    assert main(["tictactoe", "train.total_steps=4000", *small]) == 0
    run = only_run(runs_dir, "tictactoe")
    first = sorted(p.name for p in (run / "checkpoints").glob("step_*"))
    assert (run / "checkpoints" / first[-1] / "replay.npz").is_file()
    with np.load(run / "checkpoints" / first[-1] / "replay.npz") as saved:
        kept = len(saved["value"])
    assert kept > 500
    assert main(["tictactoe", "resume=latest", "train.total_steps=8000", *small]) == 0
    assert only_run(runs_dir, "tictactoe") == run  # the same run folder, continued
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps) and steps[-1] >= 8000
    assert min(s for s in steps if s > 4000) > 4000  # nothing restarted from 0


@pytest.mark.slow
def test_go_small_alphazero_runs_end_to_end_and_serves_gtp(runs_dir: Path) -> None:
    tiny = [
        "algo.name=alphazero", "network.kind=cnn", "network.channels=8", "network.blocks=1",
        "train.total_steps=3000", "train.checkpoint_every=1500", "zero.games=16",
        "zero.simulations=8", "zero.fast_simulations=4", "zero.min_replay=100",
        "search.kind=gumbel", "search.simulations=8", "eval.episodes=2", "eval.every=1500",
        "eval.periodic_episodes=2", "eval.opponents=[random,rave]", "eval.search_seconds=0.01",
        "eval.periodic_opponents=[random]", "env.features=liberties", f"runs_dir={runs_dir}",
    ]  # fmt: skip
    assert main(["go_small", *tiny]) == 0
    run = only_run(runs_dir, "go_small")
    found = results(run)
    for name in ("policy/score/random", "search/score/random", "search/score/rave"):
        assert name in found, found
    assert any((run / "eval" / "games").glob("search_vs_rave_*.sgf"))
    gtp = run_cli("go_small", "gtp", f"runs_dir={runs_dir}", input="genmove b\nquit\n")
    assert gtp.returncode == 0 and gtp.stdout.startswith("= "), gtp.stderr
    alone = run_cli("go_small", "gtp", "search.simulations=0", f"runs_dir={runs_dir}",
                    input="genmove b\nquit\n")  # fmt: skip
    assert alone.returncode == 0 and alone.stdout.startswith("= "), alone.stderr


def test_alphazero_with_an_mlp_network_is_a_config_error() -> None:
    result = run_cli("go_small", "algo.name=alphazero", "network.kind=mlp")
    assert result.returncode == 2
    assert "network.kind" in result.stderr and "alphazero" in result.stderr


def test_a_corrupt_zero_checkpoint_is_a_clear_error(runs_dir: Path) -> None:
    folder = runs_dir / "step_1"
    folder.mkdir()
    (folder / "meta.json").write_text(
        json.dumps({"task": "tictactoe", "backend": "zero", "algo": "alphazero", "step": 1})
    )
    (folder / "network.pt").write_bytes(b"not a network")
    result = run_cli("tictactoe", "eval", "algo.name=alphazero", f"checkpoint={folder}")
    assert result.returncode == 2
    assert "could not be loaded" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_self_play_in_two_ray_workers_feeds_the_learner(ray_session: Any, runs_dir: Path) -> None:
    args = [
        "tictactoe", "algo.name=alphazero", "train.total_steps=6000",
        "train.checkpoint_every=3000", "zero.games=32", "zero.simulations=8",
        "zero.min_replay=200", "zero.learner_selfplay=false", "ray.num_selfplay_workers=2",
        "network.blocks=1", "eval.every=0", "eval.episodes=2", f"runs_dir={runs_dir}",
    ]  # fmt: skip
    assert main(args) == 0
    run = only_run(runs_dir, "tictactoe")
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert max(r["step"] for r in records) >= 6000  # every move came from the workers
    assert max(r.get("charts/learner_steps", 0) for r in records) > 0
    assert (run / "checkpoints" / "latest").is_file()


@pytest.mark.slow
def test_a_killed_self_play_worker_comes_back_and_training_finishes(
    ray_session: Any, runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents.zero.workers import RemoteSelfPlay

    killed: list[int] = []
    collect = RemoteSelfPlay.collect

    def collect_then_kill(self: RemoteSelfPlay, timeout: float = 0.0) -> list[Any]:
        results = collect(self, timeout)
        if results and not killed:  # the worker has played: SIGKILL its process
            pid = ray_session.get(self.workers[0].__ray_call__.remote(lambda _: os.getpid()))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        return results

    monkeypatch.setattr(RemoteSelfPlay, "collect", collect_then_kill)
    args = [
        "tictactoe", "algo.name=alphazero", "train.total_steps=4000", "train.checkpoint_every=0",
        "zero.games=32", "zero.simulations=8", "zero.min_replay=200",
        "zero.learner_selfplay=false", "ray.num_selfplay_workers=1", "network.blocks=1",
        "eval.every=0", "eval.episodes=2", f"runs_dir={runs_dir}",
    ]  # fmt: skip
    with pytest.warns(UserWarning, match="self-play worker 0 failed"):
        assert main(args) == 0
    assert killed
    records = [json.loads(line) for line in (only_run(runs_dir, "tictactoe") / "metrics.jsonl")
               .read_text().splitlines()]  # fmt: skip
    assert max(r["step"] for r in records) >= 4000  # the restarted worker played the rest


@pytest.mark.slow
def test_connect_four_alphazero_learns_to_beat_random(runs_dir: Path) -> None:
    args = [
        str(REPO / "configs" / "connect_four_zero.yaml"), "train.total_steps=20000",
        "train.checkpoint_every=10000", "zero.games=64", "zero.min_replay=500", "eval.every=0",
        "eval.episodes=20", "eval.opponents=[random]", "search.simulations=32",
        f"runs_dir={runs_dir}",
    ]  # fmt: skip
    assert main(args) == 0
    found = results(only_run(runs_dir, "connect_four"))
    assert found["policy/score/random"] >= 0.8, found
    assert found["search/score/random"] >= 0.9, found
