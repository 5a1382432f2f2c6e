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


def replacing_save(folder, written: list[int] | None = None):  # noqa: ANN001, ANN201
    """A ``save_checkpoint`` writing ``folder/step_<step>``; a re-save replaces, as
    Checkpoints' does; the steps saved go to ``written``."""

    def save(step: int, write) -> object:  # noqa: ANN001
        target = folder / f"step_{step}"
        target.mkdir(exist_ok=True)
        write(target)
        if written is not None:
            written.append(step)
        return target

    return save


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


def test_the_last_checkpoint_holds_the_agent_training_returned(tmp_path) -> None:  # noqa: ANN001
    """SB3 runs its last update after its last callback: a checkpoint written by the callback
    at the final step must be written again, or `eval` of it is not the run's own agent."""
    import torch

    from agents.backends.sb3 import BACKEND
    from tests.agents.test_episode_metrics import cartpole_context

    overrides = ["algo.n_envs=2", "algo.n_steps=64", "train.total_steps=256",
                 "train.checkpoint_every=128"]  # fmt: skip
    ctx = cartpole_context(overrides, tmp_path)
    written: list[int] = []
    ctx.save_checkpoint = replacing_save(tmp_path, written)
    agent = BACKEND.train(ctx)
    assert written == [128, 256, 256]
    saved = BACKEND.load(tmp_path / "step_256", ctx)
    trained, loaded = agent.model.policy.state_dict(), saved.model.policy.state_dict()
    assert all(torch.equal(trained[key], loaded[key]) for key in trained)


def test_qrdqn_is_an_algorithm_of_sb3_only_and_acts_on_the_mean_of_its_quantiles() -> None:
    """algo.name=qrdqn trains sb3-contrib's QR-DQN; its action probabilities rank actions by
    the mean of the quantiles (the Q-value), as its greedy action does; RLlib has no QR-DQN and
    says so in one line."""
    import numpy as np

    from agents.backends import backend_for
    from agents.backends.sb3 import SB3Agent, algorithm_class

    assert algorithm_class("qrdqn") is sb3_contrib.QRDQN
    assert backend_for("sb3", "qrdqn") == "sb3"
    with pytest.raises(ValueError, match="algo.name='qrdqn' is not available under backend=rllib"):
        backend_for("rllib", "qrdqn")
    model = sb3_contrib.QRDQN("MlpPolicy", gym.make("CartPole-v1"), seed=0,
                              policy_kwargs={"n_quantiles": 5})  # fmt: skip
    obs = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    probabilities = SB3Agent(model).action_probabilities(obs)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    greedy, _ = model.predict(obs, deterministic=True)
    assert (probabilities.argmax(axis=1) == greedy).all()


def test_double_dqn_bootstraps_from_the_target_value_of_the_online_greedy_action() -> None:
    """algo.double_q: the next state's value is the target network's Q of the action the online
    network prefers, not the target network's maximum (which picks the action it overrates)."""
    import torch

    from agents.backends.sb3_dqn import DQN, _DoubleTarget

    model = DQN("MlpPolicy", gym.make("CartPole-v1"), seed=0, learning_starts=0)
    torch.manual_seed(1)
    for p in model.q_net_target.parameters():  # a target network that differs from the online one
        p.data.normal_()
    obs = torch.randn(64, 4)
    with torch.no_grad():
        online, target = model.q_net(obs), model.q_net_target(obs)
        double = _DoubleTarget(model.q_net, model.q_net_target)(obs).max(dim=1).values
    expected = target.gather(1, online.argmax(dim=1, keepdim=True)).squeeze(1)
    assert torch.equal(double, expected)
    assert (double < target.max(dim=1).values).any()  # differs from plain DQN's target
    # One training round with the stand-in restores the real target network afterwards.
    model.double_q = True
    model.learn(64)
    assert model.q_net_target is model.policy.q_net_target


def test_dqn_options_train_save_and_load_under_the_sb3_backend(tmp_path) -> None:  # noqa: ANN001
    """algo.double_q / algo.dueling reach SB3's DQN; the dueling head is Q = V + A - mean(A);
    both survive a checkpoint; another algorithm with either says so in one line."""
    import torch

    from agents.backends.sb3 import BACKEND
    from agents.backends.sb3_dqn import DuelingHead
    from tests.agents.test_episode_metrics import cartpole_context

    overrides = ["algo.name=dqn", "algo.double_q=true", "algo.dueling=true", "algo.n_envs=1",
                 "train.total_steps=300", "train.checkpoint_every=300",
                 "algo.kwargs={learning_starts: 50}"]  # fmt: skip
    ctx = cartpole_context(overrides, tmp_path)
    ctx.save_checkpoint = replacing_save(tmp_path)
    model = BACKEND.train(ctx).model
    assert model.double_q and model._n_updates > 0
    head = model.q_net.q_net[-1]
    assert isinstance(head, DuelingHead)
    hidden = torch.randn(5, head.value.in_features)
    advantage = head.advantage(hidden)
    expected = head.value(hidden) + advantage - advantage.mean(dim=1, keepdim=True)
    assert torch.allclose(head(hidden), expected)
    loaded = BACKEND.load(tmp_path / "step_300", cartpole_context(overrides, tmp_path / "b")).model
    assert loaded.double_q and isinstance(loaded.q_net.q_net[-1], DuelingHead)
    obs = torch.randn(8, 4)
    assert torch.equal(model.q_net(obs), loaded.q_net(obs))
    with pytest.raises(ValueError, match="algo.dueling=true is a DQN option; algo.name is ppo"):
        cartpole_context(["algo.name=ppo", "algo.dueling=true"], tmp_path / "c")


def test_every_dqn_policy_takes_the_dueling_head() -> None:
    """Image and dict observations get the dueling head too (SB3's CnnPolicy, MultiInputPolicy)."""
    import numpy as np
    from gymnasium import spaces

    from agents.backends.sb3_dqn import DQN, DuelingHead

    class DictEnv(gym.Env):
        observation_space = spaces.Dict({"x": spaces.Box(-1, 1, (3,), np.float32)})
        action_space = spaces.Discrete(3)

    class ImageEnv(gym.Env):
        observation_space = spaces.Box(0, 255, (36, 36, 1), np.uint8)
        action_space = spaces.Discrete(2)

    for policy, env in (("MultiInputPolicy", DictEnv()), ("CnnPolicy", ImageEnv())):
        model = DQN(policy, env, buffer_size=10, policy_kwargs={"dueling": True})
        assert isinstance(model.q_net.q_net[-1], DuelingHead), policy
        assert isinstance(model.q_net_target.q_net[-1], DuelingHead), policy


def test_dqn_greedy_actions_come_from_the_averaged_weights(tmp_path, capsys) -> None:  # noqa: ANN001
    """algo.average_steps: the policy keeps a moving average of the online Q-network's weights
    (the plain mean over the first H gradient steps, then decay 1 - 1/H); greedy actions use
    it, exploration the online weights; it survives a checkpoint and a resumed run goes on
    averaging; another algorithm or backend=rllib says so in one line."""
    import copy

    import torch

    from agents.backends.sb3 import BACKEND, SB3Agent
    from tests.agents.test_episode_metrics import cartpole_context

    overrides = ["algo.name=dqn", "algo.average_steps=100", "algo.n_envs=1",
                 "train.total_steps=300", "train.checkpoint_every=300",
                 "algo.kwargs={learning_starts: 50, train_freq: 1}"]  # fmt: skip
    ctx = cartpole_context(overrides, tmp_path)
    ctx.save_checkpoint = replacing_save(tmp_path)
    model = BACKEND.train(ctx).model
    policy = model.policy
    assert int(policy.average_updates) == model._n_updates > 100
    online = dict(policy.q_net.named_parameters())
    average = dict(policy.q_net_average.named_parameters())
    assert set(online) == set(average)
    assert not any(p.requires_grad for p in average.values())
    assert any(not torch.equal(online[k], average[k]) for k in online)  # it lags the online net
    # The update rule, step by step: the mean over the first H steps, then 1/H per step.
    twin = copy.deepcopy(policy)
    twin.average_updates.zero_()
    for p in twin.q_net_average.parameters():
        p.zero_()
    twin.update_average(1)  # step 1: the mean of one set of weights is those weights
    assert all(torch.equal(a, o) for a, o in zip(twin.q_net_average.parameters(),
                                                   twin.q_net.parameters(), strict=True))  # fmt: skip
    twin.average_updates.fill_(500)
    before = [p.clone() for p in twin.q_net_average.parameters()]
    with torch.no_grad():
        for p in twin.q_net.parameters():
            p.add_(1.0)
    twin.update_average(1)
    for after, old, new in zip(twin.q_net_average.parameters(), before, twin.q_net.parameters(),
                               strict=True):  # fmt: skip
        assert torch.allclose(after, old + (new - old) / 100)
    # Greedy actions read the average, exploring ones the online network.
    obs = torch.randn(64, 4)
    with torch.no_grad():
        greedy = policy.q_net_average(obs).argmax(dim=1)
        exploring = policy.q_net(obs).argmax(dim=1)
    assert not torch.equal(greedy, exploring), "the two networks should disagree somewhere"
    assert torch.equal(policy._predict(obs, deterministic=True), greedy)
    assert torch.equal(policy._predict(obs, deterministic=False), exploring)
    agent = SB3Agent(model)
    assert agent.act(obs[0].numpy(), deterministic=True) == int(greedy[0])
    # Saved with the model: a loaded agent acts from the same average, a resumed run goes on.
    loaded = BACKEND.load(tmp_path / "step_300", cartpole_context(overrides, tmp_path / "b")).model
    assert int(loaded.policy.average_updates) == model._n_updates
    with torch.no_grad():
        assert torch.equal(loaded.policy.q_net_average(obs), policy.q_net_average(obs))
    resumed_ctx = cartpole_context([*overrides[:-3], "train.total_steps=400",
                                    "train.checkpoint_every=400",
                                    "algo.kwargs={learning_starts: 50, train_freq: 1}"], tmp_path / "c")  # fmt: skip
    resumed_ctx.resume_from = tmp_path / "step_300"
    (tmp_path / "c").mkdir()
    resumed_ctx.save_checkpoint = replacing_save(tmp_path / "c")
    resumed = BACKEND.train(resumed_ctx).model
    assert int(resumed.policy.average_updates) == resumed._n_updates > model._n_updates
    with pytest.raises(
        ValueError, match="algo.average_steps=100 is a DQN option; algo.name is ppo"
    ):
        cartpole_context(["algo.name=ppo", "algo.average_steps=100"], tmp_path / "d")
    # backend=rllib refuses it (its DQN acts from its online weights) before a run folder.
    from tasks.run import main

    runs = tmp_path / "runs"
    bad = ["cartpole", "algo.name=dqn", "algo.average_steps=100", "backend=rllib"]
    assert main([*bad, f"runs_dir={runs}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "algo.average_steps=100 runs under backend=sb3 only" in err[0], err
    assert not runs.exists()
