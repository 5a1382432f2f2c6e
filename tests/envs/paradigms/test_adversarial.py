"""The Adversarial env: the generator's samples come back to the discriminator, labels only
from the pool, judgements scored, bad actions refused."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from envs.paradigms.adversarial import AdversarialEnv, AdversarialVectorEnv
from envs.paradigms.datasets import get_split


def action(count: int, label: int = 0, realness=(0.9, 0.1), fill: float = 0.5) -> dict:
    return {
        "label": np.full(count, label),
        "realness": np.tile(np.asarray(realness, dtype=np.float32), (count, 1)),
        "generated": np.full((count, 1, 8, 8), fill, dtype=np.float32),
    }


def test_passes_gymnasiums_checker():
    check_env(AdversarialEnv(label_fraction=0.05), skip_render_check=True)


def test_the_generators_samples_are_served_back_on_the_next_step():
    env = AdversarialVectorEnv(num_envs=16, label_fraction=0.1)
    obs, _ = env.reset(seed=0)
    assert obs["generated"].shape == obs["real"].shape == (16, 1, 8, 8)
    obs, *_ = env.step(action(16, fill=0.25))
    assert np.all(obs["generated"] == 0.25)


def test_labels_come_only_for_the_labelled_pool_and_judgements_are_scored():
    env = AdversarialVectorEnv(num_envs=64, label_fraction=0.05)
    split = get_split("digits", 0)
    pool = {row.tobytes() for row in split.features("train")[split.labelled_mask(0.05)]}
    obs, _ = env.reset(seed=0)
    labelled = 0
    for _ in range(40):
        real = obs["real"].reshape(64, -1)
        obs, rewards, _, _, info = env.step(action(64))
        present = info.get("_label", np.zeros(64, dtype=bool))
        assert all(real[i].tobytes() in pool for i in np.flatnonzero(present))
        assert np.all(rewards[~present] == 0)
        assert np.all(info["judged_right"] == 1.0) and np.allclose(info["fooled"], 0.1)
        labelled += int(present.sum())
    assert labelled > 0
    _, _, _, _, info = env.step(action(64, realness=(0.2, 0.7)))
    assert np.all(info["judged_right"] == 0.0) and np.allclose(info["fooled"], 0.7)


def test_bad_actions_and_parts_are_refused_with_the_reason():
    env = AdversarialVectorEnv(num_envs=4)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="'label', 'realness' and 'generated'"):
        env.step(np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError, match="label must be in 0..9"):
        env.step(action(4, label=10))
    bad = action(4)
    bad["generated"] = np.full((4, 1, 8, 8), np.nan, dtype=np.float32)
    with pytest.raises(ValueError, match="generated must be"):
        env.step(bad)
    with pytest.raises(ValueError, match="training part only"):
        AdversarialVectorEnv(num_envs=4, part="test")
    with pytest.raises(ValueError, match="image observations"):
        AdversarialVectorEnv(num_envs=4, obs_format="flat")
