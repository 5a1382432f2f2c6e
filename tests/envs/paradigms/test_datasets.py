"""Datasets and splits: fixed, seeded, disjoint parts; nested labelled pools; IDX files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from envs.paradigms.datasets import (
    IDX_FILES,
    get_split,
    load_dataset,
    load_idx,
    load_idx_dataset,
    make_split,
)


@pytest.mark.parametrize(
    ("name", "samples", "features", "classes"),
    [("digits", 1797, 64, 10), ("iris", 150, 4, 3), ("wine", 178, 13, 3),
     ("breast_cancer", 569, 30, 2), ("diabetes", 442, 10, 0)],
)  # fmt: skip
def test_bundled_datasets_load_without_download(name, samples, features, classes):
    data = load_dataset(name)
    assert data.features.shape == (samples, features)
    assert data.n_classes == classes


def test_split_parts_are_disjoint_cover_everything_and_are_stratified():
    split = get_split("digits", seed=0)
    parts = [set(split.part_indices(p).tolist()) for p in ("train", "val", "test")]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert len(parts[0] | parts[1] | parts[2]) == 1797
    assert len(parts[2]) == pytest.approx(0.2 * 1797, abs=10)
    assert len(parts[1]) == pytest.approx(0.1 * 1797, abs=10)
    shares = np.bincount(split.targets("test")) / len(parts[2])
    assert np.all(np.abs(shares - 0.1) < 0.02)  # each digit about a tenth of the test part


def test_split_is_fixed_by_its_seed():
    a, b = make_split(load_dataset("digits"), seed=3), make_split(load_dataset("digits"), seed=3)
    c = make_split(load_dataset("digits"), seed=4)
    assert np.array_equal(a.part_indices("test"), b.part_indices("test"))
    assert not np.array_equal(a.part_indices("test"), c.part_indices("test"))


def test_images_are_scaled_to_unit_range_and_tables_standardised_on_train():
    assert get_split("digits").features("train").max() == 1.0
    wine = get_split("wine")
    assert np.allclose(wine.features("train").mean(axis=0), 0.0, atol=1e-5)
    assert not np.allclose(wine.features("test").mean(axis=0), 0.0, atol=1e-3)
    diabetes = get_split("diabetes")
    assert abs(diabetes.targets("train").mean()) < 1e-9


def test_labelled_pools_take_each_class_and_nest():
    split = get_split("digits")
    ten, five = split.labelled_mask(0.1), split.labelled_mask(0.05)
    assert ten.sum() == pytest.approx(0.1 * len(ten), abs=10)
    assert np.all(ten[five])  # the 5% pool lies inside the 10% pool
    assert set(split.targets("train")[five].tolist()) == set(range(10))
    assert split.labelled_mask(0.0).sum() == 0


def test_a_learner_with_few_labels_validates_on_the_same_share_of_val():
    import gymnasium

    import envs  # noqa: F401

    split = get_split("digits")
    val = split.labelled_mask(0.1, "val")
    assert val.sum() == 20 and set(split.targets("val")[val].tolist()) == set(range(10))
    kwargs = {"dataset": "digits", "part": "val", "label_fraction": 0.1}
    assert gymnasium.make("learnloop/Classify-v0", **kwargs).unwrapped.feed.size == 20
    # Reward-only feedback holds no labels to hold out: the whole val part scores its curves.
    env = gymnasium.make("learnloop/Classify-v0", **kwargs, feedback="reward")
    assert env.unwrapped.feed.size == 179


def test_bad_names_and_fractions_raise_value_errors():
    with pytest.raises(ValueError, match="unknown dataset 'digitz'"):
        load_dataset("digitz")
    with pytest.raises(ValueError, match="data_dir"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="test_fraction"):
        make_split(load_dataset("iris"), test_fraction=1.5)
    with pytest.raises(ValueError, match="label_fraction"):
        get_split("iris").labelled_mask(1.2)


def write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_files_load_as_mnist_with_the_official_test_set_kept(tmp_path, compress):
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (40, 6, 6)),
        "train_labels": np.arange(40) % 10,
        "test_images": rng.integers(0, 256, (20, 6, 6)),
        "test_labels": np.arange(20) % 10,
    }
    for key, stem in IDX_FILES.items():
        write_idx(tmp_path / stem, arrays[key], compress)
    assert np.array_equal(load_idx(next(tmp_path.glob("t10k-images*"))), arrays["test_images"])
    data = load_idx_dataset("mnist", tmp_path)
    assert data.image_shape == (1, 6, 6) and data.n_classes == 10
    split = make_split(data, seed=0)
    assert sorted(split.part_indices("test").tolist()) == list(range(40, 60))
    assert split.features("train").max() <= 1.0


def test_a_damaged_idx_file_names_itself(tmp_path):
    bad = tmp_path / "broken"
    bad.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        load_idx(bad)
