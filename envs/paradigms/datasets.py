"""Datasets for the paradigm envs, and the fixed, seeded splits every paradigm shares.

Vocabulary:

- **dataset**: all samples of one source (features and the hidden targets), as loaded.
- **split**: a seeded partition of a dataset into ``train`` / ``val`` / ``test`` parts, with
  feature scaling fitted on ``train`` only. Every paradigm built from the same split sees the
  same samples, so their test numbers compare.
- **labelled pool**: the training samples whose labels may reach an agent at a given
  ``label_fraction``; chosen per class, and nested (the 5% pool lies inside the 10% pool).

Bundled sources (no download): ``digits`` (8x8 images, 10 classes), ``iris``, ``wine``,
``breast_cancer`` (classification) and ``diabetes`` (regression). Their files ship with
scikit-learn; they are read here with numpy, so using them does not import scikit-learn (which
must still be installed). ``mnist`` and ``fashion_mnist`` read local IDX files (as published,
optionally gzipped) from ``data_dir``; their official test set stays the test part.
Generated sources (code, no files): ``phantoms`` (64x64 CT-like head phantoms, unlabelled).
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BUNDLED = ("digits", "iris", "wine", "breast_cancer", "diabetes")
IDX_SOURCES = ("mnist", "fashion_mnist")
GENERATED = ("phantoms",)
DATASETS = BUNDLED + IDX_SOURCES + GENERATED
PHANTOM_COUNT, PHANTOM_SIZE, PHANTOM_SEED = 1200, 64, 0
PARTS = ("train", "val", "test")
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass(frozen=True)
class Dataset:
    """All samples of one source: features (N, D) float64 and targets (N,), as loaded.

    ``image_shape`` is (channels, height, width) for image sources (features are the pixels
    flattened in that order) and None for tabular ones; ``pixel_max`` scales pixels to [0, 1].
    ``fixed_test`` holds the indices of an official test set (MNIST), or None.
    """

    name: str
    features: np.ndarray
    targets: np.ndarray
    kind: str  # "classification", "regression" or "unlabelled" (targets all 0)
    class_names: tuple[str, ...] = ()
    image_shape: tuple[int, int, int] | None = None
    pixel_max: float = 1.0
    fixed_test: np.ndarray | None = None

    @property
    def n_classes(self) -> int:
        """Number of classes (0 for regression)."""
        return len(self.class_names)


def _sklearn_data_dir() -> Path:
    # find_spec locates the package without importing it (importing sklearn takes seconds).
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        raise ValueError(
            "the bundled datasets ship with scikit-learn; install it (pip install scikit-learn)"
        )
    return Path(spec.origin).parent / "datasets" / "data"


def _read_counted_csv(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """scikit-learn's 'n_samples,n_features,class names...' CSV: features and integer labels."""
    with open(path) as handle:
        header = handle.readline().strip().split(",")
        table = np.loadtxt(handle, delimiter=",", dtype=np.float64)
    n_features = int(header[1])
    return table[:, :n_features], table[:, n_features].astype(np.int64), tuple(header[2:])


@functools.lru_cache(maxsize=8)
def _load_bundled(name: str) -> Dataset:
    folder = _sklearn_data_dir()
    if name == "digits":
        table = np.loadtxt(folder / "digits.csv.gz", delimiter=",", dtype=np.float64)
        names = tuple(str(i) for i in range(10))
        labels = table[:, -1].astype(np.int64)
        return Dataset(name, table[:, :-1], labels, "classification", names, (1, 8, 8), 16.0)
    if name == "diabetes":
        features = np.loadtxt(folder / "diabetes_data_raw.csv.gz", dtype=np.float64)
        targets = np.loadtxt(folder / "diabetes_target.csv.gz", dtype=np.float64)
        return Dataset(name, features, targets, "regression")
    files = {"iris": "iris.csv", "wine": "wine_data.csv", "breast_cancer": "breast_cancer.csv"}
    features, labels, names = _read_counted_csv(folder / files[name])
    return Dataset(name, features, labels, "classification", names)


def load_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (the MNIST format; ``.gz`` allowed) into an array of its shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {data[:4]!r})")
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = offset + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{path}: expected {expected} bytes for shape {shape}, got {len(data)}")
    return (
        np.frombuffer(data, dtype=dtype, offset=offset)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


def _find_idx(folder: Path, stem: str) -> Path:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise ValueError(f"missing IDX file {stem}[.gz] in {folder}")


def load_idx_dataset(name: str, data_dir: str | Path) -> Dataset:
    """MNIST or Fashion-MNIST from the four published IDX files in ``data_dir``."""
    folder = Path(data_dir)
    if not folder.is_dir():
        raise ValueError(f"data_dir {str(folder)!r} is not a folder (needed for {name})")
    parts = {key: load_idx(_find_idx(folder, stem)) for key, stem in IDX_FILES.items()}
    images = np.concatenate([parts["train_images"], parts["test_images"]])
    labels = np.concatenate([parts["train_labels"], parts["test_labels"]]).astype(np.int64)
    if images.ndim != 3 or len(images) != len(labels):
        raise ValueError(f"{folder}: images {images.shape} do not match labels {labels.shape}")
    height, width = images.shape[1:]
    n_train = len(parts["train_images"])
    return Dataset(
        name,
        images.reshape(len(images), -1).astype(np.float64),
        labels,
        "classification",
        tuple(str(i) for i in range(int(labels.max()) + 1)),
        (1, height, width),
        255.0,
        np.arange(n_train, len(images)),
    )


def _add_ellipses(
    images: np.ndarray, grid: tuple[np.ndarray, np.ndarray], centre: tuple[np.ndarray, np.ndarray],
    axes: tuple[np.ndarray, np.ndarray], angle: np.ndarray, value: np.ndarray,
) -> None:  # fmt: skip
    """Add ``value[i]`` inside one ellipse of each image ``i`` (all arguments per image)."""
    yy, xx = grid
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    dx, dy = xx - centre[0][:, None, None], yy - centre[1][:, None, None]
    u = (dx * cos + dy * sin) / axes[0][:, None, None]
    v = (dy * cos - dx * sin) / axes[1][:, None, None]
    images += np.where(u * u + v * v <= 1.0, value[:, None, None], 0.0).astype(np.float32)


def make_phantoms(count: int, size: int = 64, seed: int = 0, features: int = 10) -> np.ndarray:
    """``count`` CT-like head phantoms (count, size, size) in [0, 1], Shepp-Logan style.

    Each is a sum of ellipses, as Shepp and Logan's: a bright skull (1.0) around a brain
    (0.2-0.3), whose centre, axes and tilt vary, and up to ``features`` inner ellipses (each
    present with probability 0.8) anywhere in the brain, of random size, shape and tilt, each
    adding or removing 0.05-0.3 of intensity; the sum is clipped to [0, 1].
    """
    rng = np.random.default_rng([seed, 31])
    axis = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
    grid = np.meshgrid(axis, axis, indexing="ij")
    images = np.zeros((count, size, size), np.float32)
    cx, cy = rng.uniform(-0.08, 0.08, count), rng.uniform(-0.08, 0.08, count)
    a, b = rng.uniform(0.72, 0.9, count), rng.uniform(0.85, 0.95, count)
    tilt = rng.uniform(-0.3, 0.3, count)
    _add_ellipses(images, grid, (cx, cy), (a, b), tilt, np.ones(count))
    rim = rng.uniform(0.04, 0.08, count)
    brain = -rng.uniform(0.7, 0.8, count)
    _add_ellipses(images, grid, (cx, cy - 0.01), (a - rim, b - rim), tilt, brain)
    for _ in range(features):
        present = rng.random(count) < 0.8
        radius, angle = (
            np.sqrt(rng.uniform(0.0, 1.0, count)) * 0.55,
            rng.uniform(0, 2 * np.pi, count),
        )
        centre = (cx + radius * np.cos(angle) * a, cy + radius * np.sin(angle) * b)
        major = rng.uniform(0.03, 0.3, count)
        minor = major * rng.uniform(0.3, 1.0, count)
        value = rng.choice([-1.0, 1.0], count) * rng.uniform(0.05, 0.3, count) * present
        _add_ellipses(images, grid, centre, (major, minor), rng.uniform(0, np.pi, count), value)
    return np.clip(images, 0.0, 1.0)


@functools.lru_cache(maxsize=2)
def _load_generated(name: str) -> Dataset:
    images = make_phantoms(PHANTOM_COUNT, PHANTOM_SIZE, PHANTOM_SEED)
    flat = images.reshape(PHANTOM_COUNT, -1)
    shape = (1, PHANTOM_SIZE, PHANTOM_SIZE)
    return Dataset(name, flat, np.zeros(PHANTOM_COUNT, np.int64), "unlabelled", (), shape, 1.0)


def load_dataset(name: str, data_dir: str | Path | None = None) -> Dataset:
    """The dataset called ``name`` (one of ``DATASETS``); IDX sources need ``data_dir``."""
    if name in BUNDLED:
        return _load_bundled(name)
    if name in GENERATED:
        return _load_generated(name)
    if name in IDX_SOURCES:
        if data_dir is None:
            raise ValueError(f"dataset {name!r} reads local IDX files: pass data_dir")
        return load_idx_dataset(name, data_dir)
    raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")


def _stratified_take(
    indices: np.ndarray, labels: np.ndarray | None, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``indices`` into (taken, rest), taking ``fraction`` of each class (or of all)."""
    groups = [indices] if labels is None else [indices[labels == c] for c in np.unique(labels)]
    taken, rest = [], []
    for group in groups:
        group = rng.permutation(group)
        count = int(round(fraction * len(group)))
        taken.append(group[:count])
        rest.append(group[count:])
    return np.sort(np.concatenate(taken)), np.sort(np.concatenate(rest))


@dataclass(frozen=True)
class Split:
    """A fixed, seeded train / val / test partition with scaling fitted on ``train``.

    Images are scaled to [0, 1] by the source's pixel range; tabular features are standardised
    with the train part's mean and standard deviation; regression targets likewise
    (``target_mean``, ``target_std``), so agents act on a unit scale.
    """

    dataset: Dataset
    seed: int
    indices: dict[str, np.ndarray]
    feature_shift: np.ndarray
    feature_scale: np.ndarray
    target_mean: float = 0.0
    target_std: float = 1.0

    def features(self, part: str) -> np.ndarray:
        """Scaled features of ``part`` as float32 (n, D)."""
        raw = self.dataset.features[self.part_indices(part)]
        return ((raw - self.feature_shift) / self.feature_scale).astype(np.float32)

    def targets(self, part: str) -> np.ndarray:
        """Targets of ``part``: int64 classes, or float64 standardised regression targets."""
        raw = self.dataset.targets[self.part_indices(part)]
        if self.dataset.kind == "regression":
            return (raw - self.target_mean) / self.target_std
        return raw

    def part_indices(self, part: str) -> np.ndarray:
        """Dataset indices of ``part`` ('train', 'val' or 'test')."""
        if part not in self.indices:
            raise ValueError(f"unknown split part {part!r}; known: {', '.join(PARTS)}")
        return self.indices[part]

    def labelled_mask(self, label_fraction: float, part: str = "train") -> np.ndarray:
        """Which samples of ``part`` are in its labelled pool at ``label_fraction`` (bool, per
        sample of the part).

        The pool takes that fraction of every class (at least one sample per class when the
        fraction is above 0), with a permutation fixed by the split seed and the part, so
        smaller pools are subsets of larger ones. On "val" it is the validation labels a
        learner with that share of labels may hold out for itself.
        """
        if not 0.0 <= label_fraction <= 1.0:
            raise ValueError(f"label_fraction must be in [0, 1], got {label_fraction!r}")
        indices = self.part_indices(part)
        targets = self.dataset.targets[indices]
        if self.dataset.kind == "regression":
            groups = [np.arange(len(indices))]
        else:
            groups = [np.flatnonzero(targets == c) for c in np.unique(targets)]
        rng = np.random.default_rng([self.seed, 1 + PARTS.index(part)])
        mask = np.zeros(len(indices), dtype=bool)
        for group in groups:
            order = rng.permutation(group)
            count = int(round(label_fraction * len(group)))
            if label_fraction > 0:
                count = max(1, count)
            mask[order[:count]] = True
        return mask


@functools.lru_cache(maxsize=32)
def _cached_split(
    name: str, seed: int, test_fraction: float, val_fraction: float, data_dir: str | None
) -> Split:
    return make_split(load_dataset(name, data_dir), seed, test_fraction, val_fraction)


def get_split(
    name: str,
    seed: int = 0,
    test_fraction: float = 0.2,
    val_fraction: float = 0.1,
    data_dir: str | None = None,
) -> Split:
    """The split of dataset ``name`` (cached: envs built with the same arguments share it)."""
    return _cached_split(name, seed, test_fraction, val_fraction, data_dir)


def make_split(
    dataset: Dataset, seed: int = 0, test_fraction: float = 0.2, val_fraction: float = 0.1
) -> Split:
    """Partition ``dataset``: ``test_fraction`` and ``val_fraction`` of all samples (stratified
    by class for classification), the rest for training; an official test set is kept as is."""
    for key, value in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{key} must be in (0, 1), got {value!r}")
    if test_fraction + val_fraction >= 1.0:
        raise ValueError(
            f"test_fraction + val_fraction must be below 1, got {test_fraction + val_fraction!r}"
        )
    rng = np.random.default_rng([seed, 0])
    everything = np.arange(len(dataset.targets))
    stratify = dataset.kind == "classification"

    def labels(idx: np.ndarray) -> np.ndarray | None:
        return dataset.targets[idx] if stratify else None

    if dataset.fixed_test is not None:
        test = np.sort(dataset.fixed_test)
        pool = np.setdiff1d(everything, test)
        val, train = _stratified_take(pool, labels(pool), val_fraction / (1 - test_fraction), rng)
    else:
        test, pool = _stratified_take(everything, labels(everything), test_fraction, rng)
        val, train = _stratified_take(pool, labels(pool), val_fraction / (1 - test_fraction), rng)
    train_features = dataset.features[train]
    if dataset.image_shape is not None:
        shift = np.zeros(dataset.features.shape[1])
        scale = np.full(dataset.features.shape[1], dataset.pixel_max)
    else:
        shift = train_features.mean(axis=0)
        scale = train_features.std(axis=0)
        scale[scale == 0] = 1.0
    target_mean, target_std = 0.0, 1.0
    if dataset.kind == "regression":
        target_mean = float(dataset.targets[train].mean())
        target_std = float(dataset.targets[train].std()) or 1.0
    return Split(
        dataset,
        seed,
        {"train": train, "val": val, "test": test},
        shift,
        scale,
        target_mean,
        target_std,
    )
