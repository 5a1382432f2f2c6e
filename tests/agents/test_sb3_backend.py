"""The SB3 backend builds the algorithm the config describes."""

from __future__ import annotations

import types

import gymnasium as gym
import pytest
import sb3_contrib
import stable_baselines3

from agents.backends.sb3 import algorithm_kwargs
from tasks.config import AlgoConfig

OFF_POLICY = [
    (stable_baselines3, "DQN", "CartPole-v1"),
    (stable_baselines3, "SAC", "Pendulum-v1"),
    (stable_baselines3, "TD3", "Pendulum-v1"),
    (sb3_contrib, "QRDQN", "CartPole-v1"),
    (sb3_contrib, "TQC", "Pendulum-v1"),
]


@pytest.mark.parametrize(("module", "name", "env_id"), OFF_POLICY)
def test_off_policy_algorithms_learn_from_one_step_returns(module, name, env_id) -> None:  # noqa: ANN001
    """algo.n_steps is PPO's rollout length; SB3's off-policy algorithms read an argument of
    that name as n-step returns, so it must not reach them (it once made SAC's and DQN's
    targets 128-step returns). Asked for by its SB3 name in algo.kwargs, it does."""
    cls = getattr(module, name)
    algo = AlgoConfig(name=name.lower(), n_steps=128)
    kwargs = algorithm_kwargs(types.SimpleNamespace(algo=algo), cls)
    assert "n_steps" not in kwargs
    model = cls("MlpPolicy", gym.make(env_id), learning_starts=0, **kwargs)
    assert model.n_steps == 1
    algo.kwargs = {"n_steps": 3}
    assert algorithm_kwargs(types.SimpleNamespace(algo=algo), cls)["n_steps"] == 3


def test_on_policy_algorithms_take_the_rollout_length() -> None:
    algo = AlgoConfig(name="ppo", n_steps=96)
    ppo = algorithm_kwargs(types.SimpleNamespace(algo=algo), stable_baselines3.PPO)
    a2c = algorithm_kwargs(types.SimpleNamespace(algo=algo), stable_baselines3.A2C)
    assert ppo["n_steps"] == a2c["n_steps"] == 96
