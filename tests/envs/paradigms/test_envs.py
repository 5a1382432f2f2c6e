"""The paradigm envs: registered ids, Gymnasium's checker, rules, episodes, bad input."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers the ids)
from envs.paradigms.datasets import get_split

IDS = {
    "learnloop/Classify-v0": {},
    "learnloop/Regress-v0": {"dataset": "diabetes"},
    "learnloop/Reconstruct-v0": {},
    "learnloop/Cluster-v0": {},
    "learnloop/Anomaly-v0": {},
}


def make_vec(env_id: str, num_envs: int = 8, **kwargs):
    return gymnasium.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs
    )


@pytest.mark.parametrize("env_id", list(IDS))
def test_each_env_passes_gymnasiums_checker(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded tabular Boxes draw advice, not errors
        check_env(gymnasium.make(env_id, **IDS[env_id]).unwrapped, skip_render_check=True)


@pytest.mark.parametrize(
    "kwargs", [{"corruption": "mask"}, {"dataset": "wine"}, {"obs_format": "flat"}]
)
def test_reconstruct_variants_pass_the_checker(kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(
            gymnasium.make("learnloop/Reconstruct-v0", **kwargs).unwrapped, skip_render_check=True
        )


@pytest.mark.parametrize("env_id", list(IDS))
def test_batched_twin_has_batched_spaces_and_same_step_episodes(env_id):
    env = make_vec(env_id, 16, episode_length=3, **IDS[env_id])
    obs, _ = env.reset(seed=0)
    assert obs.shape == (16, *env.single_observation_space.shape)
    for step in range(3):
        obs, rewards, terminated, truncated, _ = env.step(env.action_space.sample())
        assert rewards.shape == (16,) and not truncated.any()
        assert terminated.all() == (step == 2)
    assert env.observation_space.contains(obs)


def test_classify_rewards_right_answers_and_tells_the_label():
    env = gymnasium.make("learnloop/Classify-v0")
    env.reset(seed=1)
    _, reward, _, _, info = env.step(0)
    label = info["label"]
    assert reward == float(label == 0) and info["feedback"]
    env.reset(seed=1)
    _, reward, _, _, info = env.step(label)  # same seed: the same first sample
    assert reward == 1.0 and info["label"] == label


def test_single_and_batched_env_follow_the_same_rules():
    single = gymnasium.make("learnloop/Classify-v0", label_fraction=0.3).unwrapped
    batched = make_vec("learnloop/Classify-v0", 1, label_fraction=0.3)
    single.reset(seed=5)
    batched.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(50):
        action = int(rng.integers(10))
        obs_a, reward_a, _, _, info_a = single.step(action)
        obs_b, reward_b, _, _, info_b = batched.step(np.array([action]))
        assert np.array_equal(obs_a, obs_b[0]) and reward_a == reward_b[0]
        assert ("label" in info_a) == bool(info_b.get("_label", [False])[0])


def test_a_scoring_pass_visits_the_whole_part_once_and_reports_scores():
    split = get_split("digits")
    env = make_vec("learnloop/Classify-v0", 64, part="test")
    obs, _ = env.reset(seed=0)
    truth = {
        tuple(row): y for row, y in zip(split.features("test"), split.targets("test"), strict=True)
    }
    steps = 0
    while True:
        # A perfect classifier, looking the answer up from the split (a test may).
        actions = np.array([truth[tuple(o.reshape(-1))] for o in obs])
        obs, _, terminated, _, info = env.step(actions)
        steps += 1
        if terminated[0]:
            break
    assert info["summary"] == {"accuracy": 1.0, "samples": float(len(split.targets("test")))}
    assert steps == -(-len(truth) // 64)


def test_regression_summary_reports_r2_and_mse_in_original_units():
    split = get_split("diabetes")
    env = gymnasium.make("learnloop/Regress-v0", part="test").unwrapped
    env.reset(seed=0)
    done = False
    while not done:
        _, reward, done, _, info = env.step(np.zeros(1, np.float32))  # predict the train mean
    assert info["summary"]["r2"] < 0.05
    expected = np.mean((split.dataset.targets[split.part_indices("test")] - split.target_mean) ** 2)
    assert info["summary"]["mse"] == pytest.approx(expected, rel=1e-6)


def test_regress_with_bins_offers_discrete_actions():
    env = gymnasium.make("learnloop/Regress-v0", action_bins=21)
    assert env.action_space == gymnasium.spaces.Discrete(21)


def test_cluster_reward_prefers_the_nearer_centroid():
    feed = gymnasium.make("learnloop/Cluster-v0", n_clusters=3, balance=0.0).unwrapped.feed
    rng = np.random.default_rng(0)
    feed.reset(rng)
    position = np.array([0])
    distances = ((feed.flat[0] - feed.centroids) ** 2).sum(axis=1)
    near, far = int(distances.argmin()), int(distances.argmax())
    centroids = feed.centroids.copy()
    reward_near, _ = feed.respond(position, np.array([near]), rng)
    feed.centroids = centroids
    reward_far, _ = feed.respond(position, np.array([far]), rng)
    assert reward_near[0] > reward_far[0]


def test_anomaly_stream_mixes_in_the_held_out_class_at_the_asked_share():
    env = make_vec("learnloop/Anomaly-v0", 500, anomaly_fraction=0.3)
    env.reset(seed=0)
    flagged = env.step(np.ones(500, dtype=np.int64))[4]
    assert flagged["anomaly"].mean() == pytest.approx(0.3, abs=0.07)


@pytest.mark.parametrize(
    ("env_id", "kwargs", "message"),
    [("learnloop/Classify-v0", {"feedback": "labels"}, "feedback"),
     ("learnloop/Classify-v0", {"part": "holdout"}, "part"),
     ("learnloop/Classify-v0", {"label_fraction": 1.5}, "label_fraction"),
     ("learnloop/Classify-v0", {"dataset": "diabetes"}, "classification dataset"),
     ("learnloop/Regress-v0", {"dataset": "digits"}, "regression dataset"),
     ("learnloop/Cluster-v0", {"feedback": "label"}, "feedback"),
     ("learnloop/Anomaly-v0", {"held_out": 10}, "held_out"),
     ("learnloop/Reconstruct-v0", {"corruption": "blur"}, "corruption"),
     ("learnloop/Classify-v0", {"obs_format": "image", "dataset": "iris"}, "image dataset")],
)  # fmt: skip
def test_bad_arguments_raise_value_errors_naming_them(env_id, kwargs, message):
    with pytest.raises(ValueError, match=message):
        gymnasium.make(env_id, **kwargs)


def test_bad_actions_raise_value_errors_naming_them():
    env = gymnasium.make("learnloop/Classify-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action 10 is outside 0..9"):
        env.step(10)
    regress = gymnasium.make("learnloop/Regress-v0")
    regress.reset(seed=0)
    with pytest.raises(ValueError, match="finite"):
        regress.step(np.array([np.nan], np.float32))
