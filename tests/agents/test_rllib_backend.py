"""backend=rllib: the knob table, single-agent and self-play runs, weight pushes, fault tolerance.

Everything that trains shares the session's one local Ray (tests/ray_fixtures.py) and runs a
handful of iterations; env runner processes appear only in the one test that needs them.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import Recorder
from tests.optional import require

require("ray.rllib")

from agents.backends.rllib import BACKEND  # noqa: E402
from agents.backends.rllib_config import build_config  # noqa: E402
from agents.backends.rllib_trainer import SeatsCreator  # noqa: E402
from agents.base import Periodic, TrainContext  # noqa: E402
from tasks.config import load_config  # noqa: E402
from tasks.registry import load_task  # noqa: E402
from tasks.run import main  # noqa: E402
from tasks.runner.session import train_context  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TINY_BOARD = [
    "backend=rllib", "train.total_steps=768", "train.checkpoint_every=512", "algo.n_envs=2",
    "algo.n_steps=128", "algo.batch_size=128", "algo.n_epochs=1", "selfplay.snapshot_every=256",
    "eval.every=512", "eval.periodic_episodes=2", "eval.episodes=2", "search.simulations=4",
    "network.channels=8", "network.blocks=1",
]  # fmt: skip


def context(task_name: str, overrides: list[str], folder: Path, **kwargs: Any) -> TrainContext:
    """A TrainContext for ``task_name`` as the runner would build it, saving into ``folder``."""
    task = load_task(task_name)
    cfg = load_config(task.config_cls, task_name, REPO / "configs" / f"{task_name}.yaml", overrides)

    def save(step: int, write: Any) -> Path:
        target = folder / f"step_{step}"
        target.mkdir(parents=True, exist_ok=True)
        write(target)
        return target

    ctx = train_context(task, cfg, Recorder(), save)
    ctx.device = "cpu"
    for name, value in kwargs.items():
        setattr(ctx, name, value)
    ctx.config = cfg  # for the tests below that need the task's own config
    return ctx


def metric_lines(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


# -- the knob table (no Ray needed) -------------------------------------------------------------


def test_common_knobs_reach_rllib_under_its_own_names(tmp_path: Path) -> None:
    ctx = context("cartpole", ["backend=rllib", "rllib={training: {kl_coeff: 0.3}}"], tmp_path)
    probe = ctx.make_env(0)
    config = build_config(ctx, probe, "unused")
    algo = ctx.algo  # configs/cartpole.yaml: 8 envs x 32 steps, batch 256, 20 epochs
    assert config.train_batch_size_per_learner == algo.n_steps * algo.n_envs == 256
    assert config.minibatch_size == algo.batch_size
    assert config.num_epochs == algo.n_epochs
    assert (config.gamma, config.lambda_) == (algo.gamma, algo.gae_lambda)
    assert (config.clip_param, config.entropy_coeff) == (algo.clip_range, algo.ent_coef)
    assert (config.vf_loss_coeff, config.grad_clip) == (algo.vf_coef, algo.max_grad_norm)
    assert config.lr == [[0, algo.learning_rate], [ctx.total_steps, 0.0]]  # lr_schedule: linear
    assert config.model_config["fcnet_hiddens"] == algo.net_arch
    assert config.num_env_runners == 0 and config.num_envs_per_env_runner == algo.n_envs
    assert config.rollout_fragment_length == algo.n_steps
    assert config.use_kl_loss is False and config.kl_coeff == 0.3  # passthrough applied last


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("rllib={nonsense: {a: 1}}", "rllib.nonsense"),
        ("rllib={training: {no_such_arg: 1}}", "rllib.training"),
    ],
)
def test_unsupported_settings_name_the_bad_value(
    tmp_path: Path, override: str, message: str
) -> None:
    ctx = context("cartpole", ["backend=rllib", override], tmp_path)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        build_config(ctx, ctx.make_env(0), "unused")


def test_an_algorithm_rllib_lacks_is_refused_when_the_config_loads(tmp_path: Path) -> None:
    from tasks.config import ConfigError

    with pytest.raises(ConfigError, match=r"algo.name='a2c' is not available under backend=rllib"):
        context("cartpole", ["backend=rllib", "algo.name=a2c"], tmp_path)


# -- single-agent: train, resume, evaluate ------------------------------------------------------


@pytest.mark.slow
def test_cartpole_trains_logs_checkpoints_resumes_and_evaluates(
    ray_session: Any, runs_dir: Path
) -> None:
    common = ["cartpole", "backend=rllib", f"runs_dir={runs_dir}", "eval.episodes=5"]
    assert main([*common, "train.total_steps=6000", "train.checkpoint_every=3000"]) == 0
    (run,) = (runs_dir / "cartpole").iterdir()
    lines = metric_lines(run)
    train_lines = [m for m in lines if "losses/value_loss" in m]
    for name in ("charts/episode_return", "charts/episode_length", "losses/policy_gradient_loss",
                 "losses/entropy_loss", "charts/learning_rate", "time/fps"):  # fmt: skip
        assert name in train_lines[-1], name
    steps = [m["step"] for m in train_lines]
    assert steps == sorted(steps) and 256 <= steps[0] < 400  # env steps, one batch per line
    results = json.loads((run / "eval" / "results.json").read_text())
    assert results["step"] >= 6000
    # A learning check at a tiny budget: the greedy policy clearly beats random.
    assert (
        results["metrics"]["episode_return"]
        >= 150
        > results["metrics"]["baseline/random/episode_return"]
    )
    checkpoint = run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()
    assert (checkpoint / "meta.json").is_file() and (checkpoint / "algorithm").is_dir()

    assert main([*common, "train.total_steps=6500", "resume=latest"]) == 0
    resumed = [m for m in metric_lines(run) if "losses/value_loss" in m]
    assert resumed[len(train_lines)]["step"] > results["step"]  # the counters carried on
    assert main(["cartpole", "eval", f"checkpoint={run}", "eval.episodes=2"]) == 0


# -- two-player self-play -----------------------------------------------------------------------


@pytest.mark.slow
def test_tictactoe_selfplay_fills_the_pool_and_evaluates(ray_session: Any, runs_dir: Path) -> None:
    assert main(["tictactoe", f"runs_dir={runs_dir}", *TINY_BOARD]) == 0
    (run,) = (runs_dir / "tictactoe").iterdir()
    lines = metric_lines(run)
    assert max(m.get("charts/pool_size", 0) for m in lines) >= 2
    assert any("charts/win_rate/random" in m for m in lines)
    assert any("charts/episode_return" in m for m in lines)
    matches = json.loads((run / "eval" / "matches.json").read_text())
    assert {(r["player"], r["opponent"]) for r in matches} == {
        (p, o) for p in ("policy", "search") for o in ("random", "minimax")
    }


@pytest.mark.slow
def test_go_small_selfplay_runs_under_rllib(ray_session: Any, runs_dir: Path) -> None:
    overrides = [*TINY_BOARD, "eval.opponents=[random]", "eval.periodic_opponents=[random]"]
    assert main(["go_small", f"runs_dir={runs_dir}", *overrides]) == 0
    (run,) = (runs_dir / "go_small").iterdir()
    results = json.loads((run / "eval" / "results.json").read_text())
    assert {"policy/score/random", "search/score/random"} <= set(results["metrics"])
    assert len(list((run / "eval" / "games").glob("*.sgf"))) == 4


@pytest.mark.slow
def test_warehouse_robots_with_a_policy_per_robot_and_a_central_critic(
    ray_session: Any, runs_dir: Path
) -> None:
    overrides = ["backend=rllib", "ray.policies=separate", "ray.central_critic=true",
                 "train.total_steps=2048", "train.checkpoint_every=0", "eval.episodes=1",
                 "algo.n_envs=2", "algo.n_steps=256", "algo.n_epochs=1", "env.max_steps=128"]  # fmt: skip
    assert main(["warehouse_robots", f"runs_dir={runs_dir}", *overrides]) == 0
    (run,) = (runs_dir / "warehouse_robots").iterdir()
    last = [m for m in metric_lines(run) if "losses/value_loss/robot_1" in m][-1]
    assert {"charts/episode_return", "charts/episode_return/robot_0"} <= set(last)
    checkpoint = run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()
    agent = BACKEND.load(checkpoint)
    assert agent.module_id == "robot_0" and list(agent.peers) == ["robot_1"]
    assert agent.module.central  # the critic reads the warehouse's global state
    assert "deliveries" in json.loads((run / "eval" / "results.json").read_text())["metrics"]


@pytest.mark.slow
@pytest.mark.parametrize("task_name", ["warehouse_inventory", "digits_bandit"])
def test_other_single_agent_families_train_under_rllib(
    ray_session: Any, runs_dir: Path, task_name: str
) -> None:
    overrides = ["backend=rllib", "train.total_steps=512", "train.checkpoint_every=0",
                 "algo.n_envs=2", "algo.n_steps=128", "algo.n_epochs=1"]  # fmt: skip
    assert main([task_name, f"runs_dir={runs_dir}", *overrides]) == 0
    (run,) = (runs_dir / task_name).iterdir()
    assert json.loads((run / "eval" / "results.json").read_text())["step"] >= 512


@pytest.mark.slow
def test_snapshots_reach_env_runners_and_training_survives_a_killed_runner(
    ray_session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One remote env runner: a snapshot's weights arrive there; then it is killed mid-run."""
    from agents.backends.rllib_trainer import Trainer

    overrides = [*TINY_BOARD, "ray.num_env_runners=1", "train.total_steps=1400",
                 "train.checkpoint_every=0", "eval.every=0"]  # fmt: skip
    seen: dict[str, Any] = {}
    trainers: list[Trainer] = []  # the trainer behind the hooks' agents, to look inside
    agent_of = Trainer.agent
    monkeypatch.setattr(Trainer, "agent", lambda self: trainers.append(self) or agent_of(self))

    def remote_snapshot(agent: Any) -> tuple[dict[str, Any], int, int]:
        ((state,),) = [trainers[-1].algo.env_runner_group.foreach_env_runner(
            lambda r: (r.module["snapshot_0"].get_state(), _active(r), os.getpid()),
            local_env_runner=False,
        )]  # fmt: skip
        return state

    def before(step: int, agent: Any) -> None:
        seen.setdefault("initial", remote_snapshot(agent)[0])

    def check_then_kill(step: int, agent: Any) -> None:
        if "killed_at" in seen:
            return
        expected = trainers[-1].algo.learner_group.get_weights(["snapshot_0"])["snapshot_0"]
        weights, active, pid = remote_snapshot(agent)
        seen.update(active=active, match=_same(weights, expected))
        seen["changed"] = not _same(weights, seen["initial"])
        os.kill(pid, signal.SIGKILL)
        seen["killed_at"] = step

    ctx = context("tictactoe", overrides, tmp_path)
    task_hooks = load_task("tictactoe").periodic(ctx.config, None)
    ctx.periodic = [Periodic(1, before, at_end=False), *task_hooks,
                    Periodic(600, check_then_kill, at_end=False)]  # fmt: skip
    agent = BACKEND.train(ctx)
    assert seen["match"] and seen["changed"] and seen["active"] >= 1
    logged = ctx.logger
    steps = [s for s, m in logged.lines if "losses/value_loss" in m]
    assert steps[-1] >= 1400 and steps[-1] > seen["killed_at"]  # training went on and finished
    assert max(logged.values("ray/env_runner_restarts")) >= 1
    assert agent.act_batch(
        {"observations": np.zeros((1, 2, 3, 3)), "action_mask": np.ones((1, 9))}
    ).shape == (1,)


def _active(runner: Any) -> int:
    from agents.backends.rllib_selfplay import SelfPlayMultiAgentEnv

    envs = [e.unwrapped for e in runner.env.envs]
    return min(e.active_snapshots for e in envs if isinstance(e, SelfPlayMultiAgentEnv))


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return set(a) == set(b) and all(np.allclose(np.asarray(a[k]), np.asarray(b[k])) for k in a)


def _cluster_configs(algorithm: str) -> list[Path]:
    from tasks.config import read_yaml

    paths = sorted((REPO / "configs" / "cluster").glob("*.yaml"))
    return [p for p in paths if read_yaml(p).get("algo", {}).get("name") == algorithm
            or (algorithm != "alphazero" and read_yaml(p).get("backend") == "rllib")]  # fmt: skip


@pytest.mark.parametrize("path", _cluster_configs("alphazero"), ids=str)
def test_alphazero_cluster_configs_build_their_network_and_search(path: Path) -> None:
    import torch

    from agents.zero.backend import network_shape
    from agents.zero.network import ZeroNet
    from tasks.config import read_yaml

    task_name = read_yaml(path)["task"]
    task = load_task(task_name)
    cfg = load_config(task.config_cls, task_name, path, [])
    assert cfg.backend == "zero" and cfg.ray.num_selfplay_workers > 0
    positions = task.game(cfg).positions()
    net = ZeroNet(network_shape(positions, cfg.network))
    out = net(torch.zeros((2, *positions.obs_shape)))
    assert out["logits"].shape == (2, positions.num_actions)
    assert task.search_settings(cfg).simulations == cfg.search.simulations


@pytest.mark.parametrize("path", _cluster_configs("rllib"), ids=str)
def test_cluster_configs_build_an_rllib_config(path: Path, tmp_path: Path) -> None:
    from tasks.config import read_yaml

    task_name = read_yaml(path)["task"]
    task = load_task(task_name)
    cfg = load_config(task.config_cls, task_name, path, [])
    ctx = train_context(task, cfg)
    probe = SeatsCreator(ctx.game, 0)(0) if ctx.game is not None else ctx.make_env(0)
    config = build_config(ctx, probe, "unused")
    assert cfg.backend == "rllib" and cfg.ray.address == "auto"
    assert config.num_env_runners == cfg.ray.num_env_runners > 0
    assert config.num_learners == cfg.ray.num_learners
    assert config.num_gpus_per_learner == cfg.ray.num_gpus_per_learner
    assert config.train_batch_size_per_learner == cfg.algo.n_steps * cfg.algo.n_envs


def test_env_runners_that_cannot_share_the_batch_are_a_clear_error(tmp_path: Path) -> None:
    ctx = context("cartpole", ["backend=rllib", "ray.num_env_runners=3"], tmp_path)
    with pytest.raises(ValueError, match=r"3 envs each = 9 envs cannot share a batch of .* = 256"):
        build_config(ctx, ctx.make_env(0), "unused")
