"""learnloop's paradigm learners: acting, saving, what feedback they read, and their backend."""

from __future__ import annotations

from pathlib import Path

import gymnasium
import numpy as np
import pytest
import torch

import envs  # noqa: F401
from agents.backends import backend_for, get_backend
from agents.base import TrainContext
from agents.learners import LEARNERS, learner_class
from agents.learners.backend import EarlyStopping, LearnerBackend, LearnerSettings
from agents.learners.base import load_learner
from agents.learners.nets import hide_block

ENV_OF = {
    "supervised": ("learnloop/Classify-v0", {"label_fraction": 0.5}),
    "reward": ("learnloop/Classify-v0", {"feedback": "reward"}),
    "semi": ("learnloop/Classify-v0", {"label_fraction": 0.1}),
    "autoencoder": ("learnloop/Reconstruct-v0", {}),
    "cluster": ("learnloop/Cluster-v0", {}),
    "anomaly": ("learnloop/Anomaly-v0", {}),
    "gan": ("learnloop/Adversarial-v0", {"label_fraction": 0.1}),
    "fraud": (
        "learnloop/Fraud-v0",
        {
            "n_customers": 400,
            "n_terminals": 800,
            "history_days": 8,
            "train_days": 3,
            "delay_days": 2,
            "test_days": 3,
            "daily_budget": 10,
        },
    ),  # fmt: skip
}
SMALL = {"width": 16}  # small networks: these tests check behaviour, not accuracy


def make_vec(env_id: str, num_envs: int = 32, **kwargs):
    return gymnasium.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs
    )


def build(name: str, seed: int = 0):
    env_id, kwargs = ENV_OF[name]
    env = make_vec(env_id, **kwargs)
    hyper = {**SMALL, "memory": 256, "warmup": 32} if name == "cluster" else SMALL
    learner = learner_class(name)(
        env.single_observation_space, env.single_action_space, seed, "cpu", **hyper
    )
    return env, learner


def feed(env, learner, steps: int) -> None:
    obs, _ = env.reset(seed=0)
    for _ in range(steps):
        actions = learner.act_batch(obs, None, deterministic=False)
        next_obs, rewards, _, _, info = env.step(actions)
        learner.observe(obs, actions, rewards, info)
        obs = next_obs


@pytest.mark.parametrize("name", list(LEARNERS))
def test_each_learner_acts_in_its_env_and_reloads_identically(name, tmp_path):
    env, learner = build(name)
    feed(env, learner, 3)
    obs, _ = env.reset(seed=1)
    actions = learner.act_batch(obs, None, deterministic=True)
    if isinstance(actions, dict):  # the GAN's two players answer together (Adversarial-v0)
        assert env.action_space.contains(actions)
    else:
        assert env.action_space.contains(np.asarray(actions, dtype=env.action_space.dtype))
    learner.save(tmp_path)
    again = load_learner(tmp_path)
    assert type(again) is type(learner) and again.hyper == learner.hyper
    assert same(again.act_batch(obs, None, True), actions)
    if not isinstance(actions, dict):
        single = learner.act(obs[0])
        assert np.allclose(np.asarray(single), np.asarray(actions[0]), atol=1e-5)


def same(first, second) -> bool:
    """Equal actions: arrays, or dicts of arrays (a generator's new samples excepted: it draws
    fresh noise for each batch, greedy or not)."""
    if isinstance(first, dict):
        keys = first.keys() - {"generated"}
        return first.keys() == second.keys() and all(same(first[k], second[k]) for k in keys)
    return np.array_equal(first, second)


def test_the_reward_learner_never_reads_labels():
    """Same rewards with and without labels in info: the same weights, bit for bit."""
    env = make_vec("learnloop/Classify-v0", 32, feedback="label")
    learners = [
        learner_class("reward")(
            env.single_observation_space, env.single_action_space, 0, "cpu", width=16
        )
        for _ in range(2)
    ]
    obs, _ = env.reset(seed=0)
    for _ in range(5):
        actions = learners[0].act_batch(obs, None, deterministic=False)
        next_obs, rewards, _, _, info = env.step(actions)
        assert "label" in info
        stripped = {k: v for k, v in info.items() if k in ("feedback",)}
        state = learners[0].generator.get_state()
        learners[0].observe(obs, actions, rewards, info)
        learners[1].generator.set_state(state)
        learners[1].observe(obs, actions, rewards, stripped)
        obs = next_obs
    for a, b in zip(learners[0].net.parameters(), learners[1].net.parameters(), strict=True):
        assert torch.equal(a, b)


def test_supervised_learner_learns_nothing_without_labels():
    env, learner = build("supervised")
    before = learner.weights()
    obs, _ = env.reset(seed=0)
    metrics = learner.observe(
        obs,
        np.zeros(len(obs), np.int64),
        np.zeros(len(obs)),
        {"feedback": np.zeros(len(obs), bool)},
    )
    assert metrics == {}
    for name, state in learner.weights()["modules"].items():
        for key, value in state.items():
            assert torch.equal(value, before["modules"][name][key])


def test_a_frozen_probe_only_trains_its_head():
    env, autoencoder = build("autoencoder")
    classify = make_vec("learnloop/Classify-v0")
    probe = learner_class("supervised")(
        classify.single_observation_space, classify.single_action_space, 0, "cpu",
        encoder=autoencoder.clean_encoder(), freeze_encoder=True,
    )  # fmt: skip
    encoder_before = {k: v.clone() for k, v in autoencoder.encoder.state_dict().items()}
    feed(classify, probe, 5)
    for key, value in autoencoder.encoder.state_dict().items():
        assert torch.equal(value, encoder_before[key])


class Log:
    def __init__(self) -> None:
        self.rows: list[tuple[int, dict]] = []

    def log(self, step: int, metrics: dict) -> None:
        self.rows.append((step, metrics))

    def progress(self, step: int) -> None:
        pass


def settings(validate=None, every: int = 64, patience: int = 0) -> LearnerSettings:
    def make(obs_space, action_space, seed, device):
        return learner_class("supervised")(obs_space, action_space, seed, device, width=16)

    stopping = EarlyStopping(validate, "score", every, patience) if validate else None
    return LearnerSettings(make, lambda seed: make_vec("learnloop/Classify-v0", 32), stopping)


def context(
    tmp_path: Path,
    total: int,
    every: int = 0,
    resume: Path | None = None,
    learner: LearnerSettings | None = None,
) -> tuple[TrainContext, list[Path]]:
    saved: list[Path] = []

    def save(step: int, write) -> Path:
        folder = tmp_path / f"step_{step}"
        folder.mkdir(exist_ok=True)
        write(folder)
        saved.append(folder)
        return folder

    ctx = TrainContext(
        make_env=lambda i: None, total_steps=total, seed=0, device="cpu", algo=None, logger=Log(),
        save_checkpoint=save, checkpoint_every=every, resume_from=resume,
        settings=learner or settings(),
    )  # fmt: skip
    return ctx, saved


def backend() -> LearnerBackend:
    return LearnerBackend(log_every=64)


def test_backend_checkpoints_logs_and_counts_env_steps(tmp_path):
    ctx, saved = context(tmp_path, total=256, every=128)
    learner = backend().train(ctx)
    assert [p.name for p in saved] == ["step_128", "step_256", "step_256"]
    steps = [step for step, metrics in ctx.logger.rows if "losses/cross_entropy" in metrics]
    assert steps == [64, 128, 192, 256, 256][: len(steps)] and "time/fps" in ctx.logger.rows[0][1]
    assert learner.updates == 8


def test_early_stopping_restores_the_best_weights_and_stops_on_patience(tmp_path):
    scores = iter([0.5, 0.9, 0.7, 0.6, 0.4, 0.3])
    kept = {}

    def validate(learner):
        value = next(scores)
        kept[value] = learner.weights()
        return {"score": value}

    ctx, _ = context(tmp_path, total=10_000, learner=settings(validate, every=64, patience=3))
    learner = backend().train(ctx)
    logged = [
        m["eval_periodic/val_score"] for _, m in ctx.logger.rows if "eval_periodic/val_score" in m
    ]
    assert logged == [0.5, 0.9, 0.7, 0.6, 0.4]  # stopped 3 validations after the best
    best = kept[0.9]["modules"]["head"]
    for key, value in learner.head.state_dict().items():
        assert torch.equal(value, best[key])


def test_training_resumes_from_a_checkpoint(tmp_path):
    first, saved = context(tmp_path, total=128, every=64)
    backend().train(first)
    second, _ = context(tmp_path / "again", total=256, resume=saved[-1])
    (tmp_path / "again").mkdir()
    learner = backend().train(second)
    assert learner.updates == 8  # 4 before the checkpoint and 4 after it
    assert second.logger.rows[0][0] == 192


def test_learnloop_is_a_registered_backend_whose_algorithms_are_the_learners(tmp_path):
    assert isinstance(get_backend("learnloop"), LearnerBackend)
    assert all(backend_for("learnloop", name) == "learnloop" for name in LEARNERS)
    with pytest.raises(
        ValueError, match=r"algo.name='ppo' is not available under backend=learnloop"
    ):
        backend_for("learnloop", "ppo")
    ctx, _ = context(tmp_path, total=64)
    ctx.settings = None  # a task that describes no learner
    with pytest.raises(ValueError, match="LearnerSettings"):
        get_backend("learnloop").train(ctx)


def test_learners_answer_what_evaluations_ask_or_say_they_have_none():
    _, autoencoder = build("autoencoder")
    assert autoencoder.clean_encoder() is not None
    again = autoencoder.untrained()
    assert type(again) is type(autoencoder) and again.hyper == autoencoder.hyper
    for name, value in autoencoder.weights()["modules"]["encoder"].items():
        assert torch.equal(value, again.weights()["modules"]["encoder"][name])  # same seed
    env, anomaly = build("anomaly")
    feed(env, anomaly, 3)
    obs, _ = env.reset(seed=1)
    assert anomaly.labels_received() == anomaly.investigated
    scores = anomaly.anomaly_scores(obs)
    assert scores.shape == (len(obs),) and len(np.unique(scores)) > 1
    classify, supervised = build("supervised")
    assert supervised.clean_encoder() is None and supervised.labels_received() is None
    digits, _ = classify.reset(seed=0)
    flags = supervised.anomaly_scores(digits)  # no score of its own: its decisions
    assert np.array_equal(flags, supervised.act_batch(digits, None, True).astype(np.float64))


def test_an_unknown_hyperparameter_is_refused_by_name():
    env = make_vec("learnloop/Classify-v0")
    with pytest.raises(ValueError, match="has no hyperparameter 'sil_coeff'; known: .*sil_coef"):
        learner_class("reward")(
            env.single_observation_space, env.single_action_space, sil_coeff=2.0
        )


def test_hide_block_zeros_one_square_per_image_and_size_zero_hides_nothing():
    images = torch.ones(300, 1, 8, 8)
    hidden = (hide_block(images, 4) == 0)[:, 0]
    rows, cols = hidden.any(dim=2), hidden.any(dim=1)
    # One axis-aligned square each: the hidden pixels are exactly its rows x its columns.
    assert torch.equal(hidden, rows[:, :, None] & cols[:, None, :])
    assert rows.sum(1).max() == 4 and rows.sum(1).min() >= 2  # it may hang over an edge
    assert torch.equal(hide_block(images, 0), images)


def test_the_pooled_trunk_reads_a_quarter_of_the_positions():
    env, autoencoder = build("autoencoder")
    obs, _ = env.reset(seed=0)
    full, pooled = autoencoder.clean_encoder(trunk=True), autoencoder.clean_encoder(True, pool=3)
    assert pooled.features * 4 == full.features
    assert pooled(torch.as_tensor(obs)).shape == (len(obs), pooled.features)


def test_autoencoder_inpaints_blocks_and_decays_its_learning_rate_on_a_cosine(tmp_path):
    env_id, kwargs = ENV_OF["autoencoder"]
    env = make_vec(env_id, **kwargs)
    learner = learner_class("autoencoder")(
        env.single_observation_space, env.single_action_space, 0, "cpu",
        block=4, decay_updates=4, **SMALL,
    )  # fmt: skip
    feed(env, learner, 3)  # the third update ran at half the horizon
    assert learner.opt.param_groups[0]["lr"] == pytest.approx(0.5e-3)
    feed(env, learner, 3)
    assert learner.opt.param_groups[0]["lr"] == 0.0  # and stays there past the horizon
    learner.save(tmp_path)
    again = load_learner(tmp_path)
    assert again.hyper["block"] == 4 and again.updates == learner.updates


def test_cluster_restarts_train_apart_and_the_lowest_inertia_acts(tmp_path):
    """restarts: independent networks; the one whose clusters of the remembered samples are
    tightest in observation space (k-means' criterion, no labels) assigns, and a reload keeps
    that choice."""
    from agents.learners.cluster import inertia

    env = make_vec("learnloop/Cluster-v0")
    cls = learner_class("cluster")
    hyper = {**SMALL, "memory": 256, "warmup": 32, "restarts": 3, "choose_every": 2}
    learner = cls(env.single_observation_space, env.single_action_space, 0, "cpu", **hyper)
    feed(env, learner, 2)  # past warmup: each restart's prototypes seeded by its own k-means
    first, second = (list(net.parameters())[0] for net in learner.network[:2])
    assert not torch.equal(first, second)  # each restart its own weights
    assert learner.chosen in range(3)
    # Collapse the acting restart into one cluster (every prototype the same): it is now the
    # loosest clustering, and the choice moves to the tightest of the other two.
    collapsed = learner.chosen
    with torch.no_grad():
        prototypes = learner.average.module[collapsed][1].prototypes
        prototypes.copy_(prototypes[:1].expand_as(prototypes))
    inertias = learner.choose()
    others = [i for i in range(3) if i != collapsed]
    assert learner.chosen == min(others, key=lambda i: inertias[i])
    assert inertias[collapsed] > max(inertias[i] for i in others)
    # The criterion itself, by hand: points 0 and 2 around their mean 1, point 10 alone.
    points, assigned = torch.tensor([[0.0], [2.0], [10.0]]), torch.tensor([0, 0, 1])
    assert inertia(points, assigned, 2) == pytest.approx(2 / 3)
    chosen_net = learner.average.module[learner.chosen]
    obs, _ = env.reset(seed=3)
    with torch.no_grad():
        expected = chosen_net(learner.tensor(obs)).argmax(dim=1).numpy()
    assert (learner.act_batch(obs) == expected).all()
    (tmp_path / "ck").mkdir()
    learner.save(tmp_path / "ck")
    assert load_learner(tmp_path / "ck").chosen == learner.chosen
    with pytest.raises(ValueError, match="restarts must be at least 1"):
        cls(env.single_observation_space, env.single_action_space, 0, "cpu", restarts=0)


def test_a_checkpoint_of_another_shape_is_refused_in_one_line(tmp_path):
    """A cluster checkpoint from before restarts (one network, not a list) cannot load into
    today's learner: a ValueError naming the file, not a torch traceback."""
    env, learner = build("cluster")
    feed(env, learner, 2)
    (tmp_path / "ck").mkdir()
    learner.save(tmp_path / "ck")
    file = tmp_path / "ck" / "learner.pt"
    payload = torch.load(file, weights_only=False)
    network = payload["state"]["modules"]["network"]
    payload["state"]["modules"]["network"] = {k[2:]: v for k, v in network.items()}  # "0.x"
    torch.save(payload, file)
    with pytest.raises(ValueError, match=r"learner.pt does not fit ClusterLearner") as error:
        load_learner(tmp_path / "ck")
    assert "\n" not in str(error.value)
