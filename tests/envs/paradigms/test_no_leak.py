"""No label leaks where ``feedback`` forbids it: not in info, not in observations, not in the
reward; and training never serves a validation or test sample."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import envs  # noqa: F401
from envs.paradigms.datasets import get_split

LABEL_KEYS = {
    "label",
    "_label",
    "target",
    "_target",
    "clean",
    "_clean",
    "anomaly",
    "_anomaly",
    "summary",
}


def stream(env_id: str, steps: int = 40, num_envs: int = 64, **kwargs):
    """Step a batched env with random actions; yield (obs, actions, rewards, info)."""
    env = gymnasium.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs
    )
    obs, _ = env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(steps):
        actions = env.action_space.sample()
        next_obs, rewards, _, _, info = env.step(actions)
        yield obs, actions, rewards, info
        obs = next_obs


def rows(array: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in array.reshape(len(array), -1).astype(np.float32)}


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [("learnloop/Classify-v0", {"feedback": "reward"}),
     ("learnloop/Classify-v0", {"feedback": "none"}),
     ("learnloop/Regress-v0", {"feedback": "reward"}),
     ("learnloop/Cluster-v0", {}),
     ("learnloop/Anomaly-v0", {"feedback": "none"})],
)  # fmt: skip
def test_no_label_in_info_when_feedback_forbids_it(env_id, kwargs):
    for _, _, rewards, info in stream(env_id, **kwargs):
        assert not LABEL_KEYS & set(info), f"{env_id} {kwargs} leaked {LABEL_KEYS & set(info)}"
        if kwargs.get("feedback") == "none":
            assert not rewards.any() and not info["feedback"].any()


def test_single_env_info_has_no_label_under_reward_feedback():
    env = gymnasium.make("learnloop/Classify-v0", feedback="reward")
    env.reset(seed=0)
    for _ in range(200):
        _, reward, terminated, _, info = env.step(env.action_space.sample())
        assert set(info) == {"feedback"} and reward in (0.0, 1.0)
        if terminated:
            env.reset()


def test_observations_are_training_samples_only():
    split = get_split("digits")
    train, held = (
        rows(split.features("train")),
        rows(split.features("val")) | rows(split.features("test")),
    )
    assert not train & held  # the check below could not tell the parts apart otherwise
    served = set()
    for obs, _, _, _ in stream("learnloop/Classify-v0", steps=60, feedback="reward"):
        served |= rows(obs)
    assert served <= train and not served & held
    assert len(served) == len(train)  # 60 x 64 draws cover every training sample


def test_unlabelled_samples_give_no_label_no_reward_and_no_hidden_value():
    split = get_split("digits")
    pool = split.labelled_mask(0.1)
    labelled_rows = rows(split.features("train")[pool])
    seen_labelled = set()
    for obs, _, rewards, info in stream("learnloop/Classify-v0", label_fraction=0.1):
        present = info.get("_label", np.zeros(len(obs), bool))
        in_pool = np.array(
            [o.astype(np.float32).tobytes() in labelled_rows for o in obs.reshape(len(obs), -1)]
        )
        assert np.array_equal(present, in_pool)
        assert np.array_equal(info["feedback"], in_pool)
        assert not rewards[~in_pool].any()
        if "label" in info:  # absent slots hold -1, never the hidden label
            assert np.all(info["label"][~in_pool] == -1)
        seen_labelled |= {o.tobytes() for o in obs.reshape(len(obs), -1)[in_pool]}
    assert len(seen_labelled) == pool.sum()


def test_reconstruct_never_shows_a_class_and_its_target_is_the_clean_sample():
    split = get_split("digits")
    train = rows(split.features("train"))
    for obs, _, _, info in stream("learnloop/Reconstruct-v0", steps=5):
        assert set(info) == {"feedback", "clean", "_clean"}
        assert rows(info["clean"]) <= train
        assert not rows(obs) & train  # the observation is corrupted


def test_anomaly_outcomes_only_for_investigated_items():
    for _, actions, rewards, info in stream("learnloop/Anomaly-v0"):
        passed = actions == 0
        assert not rewards[passed].any() and not info["investigated"][passed].any()
        if "_anomaly" in info:
            assert np.array_equal(info["_anomaly"], ~passed)
            assert not info["anomaly"][passed].any()  # filled with False, not the truth


def test_training_part_never_reports_label_based_scores():
    env = gymnasium.make("learnloop/Cluster-v0", episode_length=5)
    env.reset(seed=0)
    for _ in range(20):
        _, _, terminated, _, info = env.step(env.action_space.sample())
        assert "summary" not in info
        if terminated:
            env.reset()
