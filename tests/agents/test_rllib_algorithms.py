"""backend=rllib beyond PPO: DQN and SAC knob tables, image tasks on flattened boxes, and a2c's error.

Training tests share the session's one local Ray (tests/ray_fixtures.py) and run tiny budgets;
they check what a user sees (metric names, checkpoints, resume, a loadable agent), not learning.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.optional import require

require("ray.rllib")

from agents.backends.rllib import BACKEND  # noqa: E402
from agents.backends.rllib_algorithms import FlatBoxes, knob_values  # noqa: E402
from agents.backends.rllib_config import build_config  # noqa: E402
from tasks.run import main  # noqa: E402
from tests.agents.test_rllib_backend import context, metric_lines  # noqa: E402


def latest_checkpoint(run: Path) -> Path:
    return run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()


# -- the knob tables (no Ray needed) ------------------------------------------------------------


def test_drive_highway_dqn_settings_reach_rllib_under_its_own_names(tmp_path: Path) -> None:
    require("highway_env")
    ctx = context("drive_highway", ["backend=rllib"], tmp_path)
    config = build_config(ctx, ctx.make_env(0), "unused")
    algo, kwargs = ctx.algo, ctx.algo.kwargs  # configs/drive_highway.yaml's tuned values
    assert config.algo_class.__name__ == "DQN"
    assert (config.lr, config.gamma, config.grad_clip) == (0.0005, algo.gamma, 10.0)
    assert algo.gamma == 0.9
    assert config.train_batch_size_per_learner == algo.batch_size == 32
    capacity = kwargs["buffer_size"]
    assert config.replay_buffer_config == {"type": "EpisodeReplayBuffer", "capacity": capacity}
    assert config.num_steps_sampled_before_learning_starts == kwargs["learning_starts"] == 200
    assert config.target_network_update_freq == kwargs["target_update_interval"] == 500
    assert config.rollout_fragment_length == kwargs["train_freq"] == 1
    decay_end = int(kwargs["exploration_fraction"] * ctx.total_steps)
    assert config.epsilon == [[0, 1.0], [decay_end, 0.05]]  # SB3's decay
    assert config.tau == 1.0 and config.double_q and config.dueling  # as algo.double_q, dueling
    assert config.model_config["fcnet_hiddens"] == algo.net_arch == [256, 256]
    # the task's network (ego-attention, then net_arch), not RLlib's MLP over the flat rows
    assert config.model_config["features_extractor_class"].__name__ == "EgoAttention"
    from ray.rllib.algorithms.dqn.dqn import calculate_rr_weights

    # One sampling round steps each of the n_envs once, then gradient_steps updates, as SB3.
    assert config.num_envs_per_env_runner * config.rollout_fragment_length == algo.n_envs == 2
    assert calculate_rr_weights(config) == [1, kwargs["gradient_steps"]] == [1, 2]


def test_dqn_options_reach_rllibs_double_q_and_dueling_module(tmp_path: Path) -> None:
    """algo.double_q / algo.dueling map to RLlib's own double_q and dueling; its module then
    has the value stream beside the advantages."""
    require("highway_env")
    overrides = ["backend=rllib", "algo.double_q=true", "algo.dueling=true"]
    ctx = context("drive_highway", overrides, tmp_path)
    env = FlatBoxes(ctx.make_env(0))
    config = build_config(ctx, env, "unused")
    assert config.double_q and config.dueling
    module = config.get_rl_module_spec(env=env).build()
    assert {"encoder", "af", "vf"} <= {name for name, _ in module.named_children()}


def test_a_task_network_reaches_rllibs_ppo_and_dqn_and_sac_refuses_it(tmp_path: Path) -> None:
    """network.kind=ego_attention is the features extractor of PPO's module and of DQN's encoder
    (and of its target copy) under RLlib; the DQN module saves and loads back with it. RLlib's
    SAC module here is its own MLP, so SAC refuses a task's network instead of dropping it."""
    require("highway_env")
    import torch
    from ray.rllib.core.rl_module.rl_module import RLModule

    from agents.backends.rllib_config import check_network
    from agents.networks import EgoAttention

    overrides = ["backend=rllib", "network.kind=ego_attention", "network.embed_dim=16"]
    ppo = ["algo.name=ppo", "algo.double_q=false", "algo.dueling=false"]  # DQN's options off
    ctx = context("drive_highway", [*overrides, *ppo], tmp_path)
    env = ctx.make_env(0)
    module = build_config(ctx, env, "unused").get_rl_module_spec(env=env).build()
    assert type(module.features).__name__ == "EgoAttention"
    assert module.features.features_dim == 16

    ctx = context("drive_highway", [*overrides, "algo.dueling=true"], tmp_path)
    env = FlatBoxes(ctx.make_env(0))
    module = build_config(ctx, env, "unused").get_rl_module_spec(env=env).build()
    module.make_target_networks()
    for encoder in (module.encoder, module._target_encoder):
        assert isinstance(encoder.features, EgoAttention) and encoder.features.features_dim == 16
    obs = torch.as_tensor(np.stack([env.reset(seed=seed)[0] for seed in range(3)]))
    q_values = module.compute_q_values({"obs": obs})["qf_preds"]
    assert q_values.shape == (3, env.action_space.n)
    module.save_to_path(tmp_path / "module")
    loaded = RLModule.from_checkpoint(tmp_path / "module")
    assert torch.equal(loaded.compute_q_values({"obs": obs})["qf_preds"], q_values)

    with pytest.raises(ValueError, match="algo.name=sac under backend=rllib .* EgoAttention"):
        check_network("sac", {"features_extractor_class": EgoAttention})


def test_a_network_rllib_would_drop_is_refused_before_a_run_folder(
    capsys: pytest.CaptureFixture[str], runs_dir: Path
) -> None:
    require("highway_env")
    sac = ["backend=rllib", "algo.name=sac", "algo.double_q=false", "algo.dueling=false",
           "eval.ensemble=0"]  # fmt: skip
    assert main(["drive_highway", *sac, f"runs_dir={runs_dir}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "algo.name=sac under backend=rllib" in err[0], err
    assert not (runs_dir / "drive_highway").exists()


def test_sac_knobs_and_gradient_steps(tmp_path: Path) -> None:
    overrides = ["backend=rllib", "algo.name=sac", "algo.n_envs=2", "algo.learning_rate=0.001",
                 "algo.kwargs={gradient_steps: 4, ent_coef: auto_0.2, learning_starts: 7}"]  # fmt: skip
    ctx = context("warehouse_inventory", overrides, tmp_path)
    config = build_config(ctx, ctx.make_env(0), "unused")
    assert config.algo_class.__name__ == "SAC"
    assert config.actor_lr == config.critic_lr == config.alpha_lr == 0.001
    assert (config.initial_alpha, config.tau, config.twin_q) == (0.2, 0.005, True)
    assert config.num_steps_sampled_before_learning_starts == 7
    from ray.rllib.algorithms.dqn.dqn import calculate_rr_weights

    assert calculate_rr_weights(config) == [1, 4]
    # A fixed ent_coef (the common knob, as SB3's backend passes it) is never learned.
    fixed = knob_values(context("warehouse_inventory", overrides[:2], tmp_path).algo, 100, 1)
    assert fixed["alpha_lr"] == 0.0 and fixed["initial_alpha"] == pytest.approx(1e-8)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["algo.name=dqn", "algo.kwargs={buffer_sise: 10}"], "buffer_sise"),
        (["algo.name=dqn", "algo.kwargs={train_freq: [4, episode]}"], "train_freq"),
        (["algo.name=sac", "algo.kwargs={ent_coef: lots}"], "ent_coef='lots'"),
    ],
)
def test_bad_off_policy_kwargs_name_the_key(
    tmp_path: Path, overrides: list[str], message: str
) -> None:
    ctx = context("warehouse_inventory", ["backend=rllib", *overrides], tmp_path)
    with pytest.raises(ValueError, match=message):
        build_config(ctx, ctx.make_env(0), "unused")


def test_a2c_under_rllib_fails_in_one_line_naming_the_alternatives(
    runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cartpole", "backend=rllib", "algo.name=a2c", f"runs_dir={runs_dir}"]) != 0
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error:")]
    assert "algo.name='a2c'" in line and "use one of: ppo, maskable_ppo, dqn, sac" in line


def test_flat_boxes_round_trip_image_actions() -> None:
    import gymnasium as gym

    class Echo(gym.Env):
        observation_space = gym.spaces.Box(0, 1, (1, 2, 3), np.float32)
        action_space = gym.spaces.Box(0, 1, (1, 2, 3), np.float32)

        def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
            return np.arange(6, dtype=np.float32).reshape(1, 2, 3) / 6, {}

        def step(self, action: Any) -> Any:
            assert action.shape == (1, 2, 3)
            return action, 0.0, True, False, {}

    env = FlatBoxes(Echo())
    assert env.observation_space.shape == env.action_space.shape == (6,)
    obs, _ = env.reset()
    assert np.allclose(obs, np.arange(6) / 6)
    assert np.allclose(env.step(np.full(6, 0.5))[0], 0.5)


# -- training -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_dqn_trains_checkpoints_resumes_and_loads_as_a_q_network(
    ray_session: Any, runs_dir: Path
) -> None:
    """cartpole with drive_highway's algorithm: DQN on RLlib, a tiny budget (with Double DQN and
    the dueling head, whose module must load back from the checkpoint as it trained)."""
    common = ["cartpole", "backend=rllib", "algo.name=dqn", f"runs_dir={runs_dir}",
              "algo.double_q=true", "algo.dueling=true",
              "eval.episodes=2", "algo.n_envs=2", "algo.lr_schedule=constant",
              "algo.kwargs={learning_starts: 100, train_freq: 2, target_update_interval: 200}"]  # fmt: skip
    assert main([*common, "train.total_steps=600", "train.checkpoint_every=300"]) == 0
    (run,) = (runs_dir / "cartpole").iterdir()
    train_lines = [m for m in metric_lines(run) if "losses/loss" in m]
    steps = [m["step"] for m in train_lines]  # one line per checkpoint interval
    assert len(steps) == 2 and 300 <= steps[0] < 320 and 600 <= steps[1] < 620
    for name in ("charts/episode_return", "charts/episode_length", "charts/exploration_rate",
                 "charts/learning_rate", "time/fps"):  # fmt: skip
        assert name in train_lines[-1], name
    checkpoint = latest_checkpoint(run)
    assert (checkpoint / "meta.json").is_file() and (checkpoint / "algorithm").is_dir()
    assert (checkpoint / "replay_buffer.pkl").stat().st_size > 10_000  # kept, as SB3 keeps it

    assert main([*common, "train.total_steps=900", "resume=latest"]) == 0
    resumed = [m for m in metric_lines(run) if "losses/loss" in m]
    assert 900 <= resumed[len(train_lines)]["step"] < 920  # the counters carried on

    agent = BACKEND.load(latest_checkpoint(run))
    assert agent.module.uses_dueling and agent.module.uses_double_q
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    import torch

    q_values = agent.module.compute_q_values({"obs": torch.as_tensor(obs)})["qf_preds"]
    assert np.array_equal(agent.act_batch(obs), q_values.argmax(-1).numpy())
    assert agent.act(obs[0], action_mask=np.array([0, 1])) == 1  # masks are honoured
    # Its Q-values, which an evaluation ensemble (eval.ensemble) averages across checkpoints.
    from agents.ensemble import QEnsemble

    assert np.allclose(agent.q_values(obs), q_values.detach().numpy())
    kept = sorted((run / "checkpoints").glob("step_*"), key=lambda p: int(p.name[5:]))
    first = BACKEND.load(kept[-2])  # the checkpoint before the newest
    mean = (first.q_values(obs) + agent.q_values(obs)) / 2
    assert np.array_equal(QEnsemble([first, agent]).act_batch(obs), mean.argmax(-1))


@pytest.mark.slow
def test_image_action_task_trains_on_flat_boxes_and_acts_in_its_shape(
    ray_session: Any, runs_dir: Path
) -> None:
    overrides = ["backend=rllib", "train.total_steps=512", "algo.n_envs=2", "algo.n_steps=128",
                 "algo.n_epochs=1", f"runs_dir={runs_dir}"]  # fmt: skip
    assert main(["digits_selfsup", *overrides]) == 0
    (run,) = (runs_dir / "digits_selfsup").iterdir()
    assert "mse" in json.loads((run / "eval" / "results.json").read_text())["metrics"]
    agent = BACKEND.load(latest_checkpoint(run))
    images = np.random.default_rng(0).random((3, 1, 8, 8), dtype=np.float32)
    actions = agent.act_batch(images)
    assert actions.shape == (3, 1, 8, 8) and actions.min() >= 0 and actions.max() <= 1
    assert agent.act(images[0], deterministic=False).shape == (1, 8, 8)


@pytest.mark.slow
def test_sac_trains_and_acts_inside_the_box(ray_session: Any, tmp_path: Path) -> None:
    overrides = ["backend=rllib", "algo.name=sac", "algo.n_envs=1", "train.total_steps=300",
                 "algo.batch_size=32", "algo.kwargs={learning_starts: 100, ent_coef: auto}"]  # fmt: skip
    ctx = context("warehouse_inventory", overrides, tmp_path)
    agent = BACKEND.train(ctx)
    (last,) = [m for _, m in ctx.logger.lines if "losses/critic_loss" in m]
    assert {"losses/actor_loss", "losses/ent_coef", "charts/learning_rate"} <= set(last)
    size = int(np.prod(agent.module.observation_space.shape))  # the task's config decides it
    obs = np.abs(np.random.default_rng(0).normal(size=(4, size))).astype(np.float32)
    actions = agent.act_batch(obs)
    space = agent.module.action_space
    assert (
        actions.shape == (4, 3) and np.all(actions >= space.low) and np.all(actions <= space.high)
    )
    import torch

    with torch.no_grad():
        out = agent.module.forward_inference({"obs": torch.as_tensor(obs)})
    mean = out["action_dist_inputs"][:, :3].numpy()
    assert np.allclose(actions, np.tanh(mean), atol=1e-5)  # the box is [-1, 1]: no rescaling
    # Its critic values actions (the smaller twin), which an evaluation ensemble compares.
    from agents.ensemble import CriticEnsemble

    with torch.no_grad():
        batch = {"obs": torch.as_tensor(obs), "actions": torch.as_tensor(actions)}
        critic = agent.module.compute_q_values(batch).numpy()
    assert np.allclose(agent.action_values(obs, actions), critic, atol=1e-6)
    assert np.allclose(CriticEnsemble([agent, agent]).act_batch(obs), actions)
