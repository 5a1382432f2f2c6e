"""Per-episode metrics from an env's ``info`` reach the logger under every backend, from envs in
subprocesses and in remote Ray env runners (drive_highway's crash rate travels this way)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

from agents.base import EPISODE_METRICS, episode_metrics
from tests.conftest import Recorder
from tests.optional import require


class ReportsLength(gym.Wrapper):
    """CartPole that reports each episode's length and whether it fell before 500 steps."""

    def reset(self, **kwargs: Any) -> Any:
        self.length = 0
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.length += 1
        if terminated or truncated:
            info = {**info, EPISODE_METRICS: {"steps": self.length, "fell": float(terminated)}}
        return obs, reward, terminated, truncated, info


def make_reporting_cartpole(index: int) -> gym.Env:
    return ReportsLength(gym.make("CartPole-v1"))


def cartpole_context(overrides: list[str], folder: Path) -> Any:
    from tasks.config import load_config
    from tasks.registry import load_task
    from tasks.runner.session import train_context

    task = load_task("cartpole")
    cfg = load_config(task.config_cls, "cartpole", None, overrides)

    def save(step: int, write: Any) -> Path:
        (folder / str(step)).mkdir(parents=True)
        write(folder / str(step))
        return folder / str(step)

    ctx = train_context(task, cfg, Recorder(), save)
    ctx.device, ctx.make_env = "cpu", make_reporting_cartpole
    return ctx


def check_logged(logger: Recorder) -> None:
    steps, fell = logger.values("charts/steps"), logger.values("charts/fell")
    assert steps and len(steps) == len(fell), logger.lines
    assert all(8 <= s <= 500 for s in steps)  # CartPole can't fall before its 8th step
    assert all(0.0 <= f <= 1.0 for f in fell) and max(fell) == 1.0  # random-ish play falls


def test_episode_metrics_read_only_an_episodes_last_info() -> None:
    assert episode_metrics({"speed": 3.0}) == {}
    assert episode_metrics({EPISODE_METRICS: {"crash_rate": True}}) == {"crash_rate": 1.0}
    assert episode_metrics(None) == {}


def test_sb3_logs_episode_metrics_from_subprocess_envs(tmp_path: Path) -> None:
    from agents.backends.sb3 import BACKEND

    overrides = ["algo.vec_env=subproc", "algo.n_envs=2", "algo.n_steps=128",
                 "train.total_steps=1024", "train.checkpoint_every=0"]  # fmt: skip
    ctx = cartpole_context(overrides, tmp_path)
    BACKEND.train(ctx)
    check_logged(ctx.logger)


@pytest.mark.slow
def test_rllib_logs_episode_metrics_from_a_remote_env_runner(
    ray_session: Any, tmp_path: Path
) -> None:
    require("ray.rllib")
    from agents.backends.rllib import BACKEND

    overrides = ["backend=rllib", "ray.num_env_runners=1", "algo.n_envs=2", "algo.n_steps=128",
                 "algo.n_epochs=1", "train.total_steps=1024", "train.checkpoint_every=0"]  # fmt: skip
    ctx = cartpole_context(overrides, tmp_path)
    BACKEND.train(ctx)
    check_logged(ctx.logger)
