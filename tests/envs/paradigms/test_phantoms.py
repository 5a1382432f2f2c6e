"""Generated phantoms and the low-dose corruptions of Reconstruct-v0: rules a user would check."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers the ids)
from envs.paradigms.datasets import get_split, make_phantoms
from envs.paradigms.reconstruct import psnr


def feed(**kwargs):
    env = gymnasium.make("learnloop/Reconstruct-v0", dataset="phantoms", **kwargs)
    return env.unwrapped.feed


def test_phantoms_are_seeded_heads_with_a_skull_a_darker_brain_and_an_empty_background():
    images = make_phantoms(50, 64, seed=3)
    assert images.shape == (50, 64, 64) and images.dtype == np.float32
    assert np.array_equal(images, make_phantoms(50, 64, seed=3))
    assert not np.array_equal(images, make_phantoms(50, 64, seed=4))
    assert images.min() >= 0.0 and images.max() <= 1.0
    corners = images[:, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert np.all(corners == 0.0)  # air outside the head
    assert np.all(images.reshape(50, -1).max(axis=1) >= 0.99)  # every skull is bright
    inside = images[:, 16:48, 16:48].mean(axis=(1, 2))
    assert np.all((inside > 0.05) & (inside < 0.6))  # soft tissue inside, darker than bone
    # Inner structure: more than the two levels of skull and brain inside the head.
    assert all(len(np.unique(image[16:48, 16:48])) > 3 for image in images)


def test_the_phantoms_dataset_splits_without_labels():
    split = get_split("phantoms", 0)
    sizes = {part: len(split.part_indices(part)) for part in ("train", "val", "test")}
    assert sizes == {"train": 840, "val": 120, "test": 240}
    assert split.dataset.kind == "unlabelled" and split.dataset.image_shape == (1, 64, 64)
    with pytest.raises(ValueError, match="classification"):
        gymnasium.make("learnloop/Classify-v0", dataset="phantoms")


@pytest.mark.parametrize(
    "kwargs", [{"corruption": "poisson", "dose": 10.0}, {"corruption": "noise", "clip": False}]
)
def test_phantom_envs_pass_gymnasiums_checker(kwargs):
    check_env(
        gymnasium.make("learnloop/Reconstruct-v0", dataset="phantoms", **kwargs).unwrapped,
        skip_render_check=True,
    )


def test_poisson_scans_are_unbiased_counts_whose_noise_grows_as_the_dose_falls():
    rng = np.random.default_rng(0)
    high, low = feed(corruption="poisson", dose=100.0), feed(corruption="poisson", dose=10.0)
    clean = high.x[:1].reshape(1, 1, 64, 64)
    draws = np.stack([low.corrupt(clean, rng) for _ in range(400)])
    assert abs(draws.mean() - clean.mean()) < 0.01
    bright = clean[0, 0] > 0.9
    variance = draws[:, 0, 0][:, bright].var(axis=0).mean()
    assert variance == pytest.approx(clean[0, 0][bright].mean() / 10.0, rel=0.15)
    counts = draws * 10.0
    assert np.allclose(counts, np.round(counts), atol=1e-4)  # whole photons per dose
    spread = [np.std(f.corrupt(clean, rng) - clean) for f in (high, low)]
    assert spread[0] < spread[1] / 2.5


def test_unclipped_gaussian_noise_keeps_negative_values_and_clipped_noise_does_not():
    clean = feed().x[:4].reshape(4, 1, 64, 64)
    rng = np.random.default_rng(1)
    unclipped = feed(corruption="noise", noise_std=0.2, clip=False).corrupt(clean, rng)
    clipped = feed(corruption="noise", noise_std=0.2).corrupt(clean, rng)
    assert unclipped.min() < -0.3 and clipped.min() == 0.0
    assert abs((unclipped - clean).mean()) < 0.01  # zero-mean noise, unlike the clipped kind


def test_scoring_scans_are_drawn_once_per_split_and_training_scans_afresh():
    def first_obs(part, seed, split_seed=0):
        env = gymnasium.make_vec(
            "learnloop/Reconstruct-v0", num_envs=4, vectorization_mode="vector_entry_point",
            dataset="phantoms", corruption="poisson", part=part, split_seed=split_seed,
        )  # fmt: skip
        return env.reset(seed=seed)[0]

    assert np.array_equal(first_obs("test", 0), first_obs("test", 1))
    assert not np.array_equal(first_obs("test", 0), first_obs("test", 0, split_seed=1))
    assert not np.array_equal(first_obs("train", 0), first_obs("train", 1))


def test_the_test_pass_reports_psnr_of_what_the_agent_answered():
    env = gymnasium.make_vec(
        "learnloop/Reconstruct-v0", num_envs=64, vectorization_mode="vector_entry_point",
        dataset="phantoms", corruption="noise", noise_std=0.1, part="test",
    )  # fmt: skip
    obs, _ = env.reset(seed=0)
    while True:  # answer with the clean-looking zero image: PSNR of the phantoms' power
        obs, _, terminated, _, info = env.step(np.zeros_like(obs))
        if terminated[0]:
            break
    clean = env.feed.x.reshape(len(env.feed.x), -1)
    expected = psnr((clean**2).mean(axis=1)).mean()
    assert info["summary"]["psnr"] == pytest.approx(expected, rel=1e-5)
    assert info["summary"]["samples"] == 240


def test_bad_corruption_options_are_named():
    with pytest.raises(ValueError, match="dose"):
        feed(corruption="poisson", dose=0.0)
    with pytest.raises(ValueError, match="needs an image dataset"):
        gymnasium.make("learnloop/Reconstruct-v0", dataset="wine", corruption="poisson")
    with pytest.raises(ValueError, match="corruption"):
        feed(corruption="salt")
