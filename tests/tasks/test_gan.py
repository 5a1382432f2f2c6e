"""digits_gan end to end: the run folder with its grids of generated digits, the labels it
counts, that it learns, and its config errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from envs.paradigms.datasets import get_split
from tasks.run import main

SHORT = ["eval.baselines=false", "env.num_envs=64", "eval.grid=4"]


def run(runs_dir: Path, *args: str) -> int:
    return main(["digits_gan", *args, f"runs_dir={runs_dir}"])


def only_run(runs_dir: Path) -> Path:
    (folder,) = (runs_dir / "digits_gan").iterdir()
    return folder


def results(folder: Path) -> dict:
    return json.loads((folder / "eval" / "results.json").read_text())


def test_a_short_run_writes_grids_of_generated_digits_and_counts_the_labels(runs_dir):
    args = ["train.total_steps=2560", "eval.every=1280", "eval.samples_every=1280"]
    assert run(runs_dir, *SHORT, *args, "env.label_fraction=0.05") == 0
    folder = only_run(runs_dir)
    grid = folder / "eval" / "generated.png"
    assert grid.stat().st_size > 0
    assert sorted(p.name for p in (folder / "samples").iterdir()) == [
        "step_00001280.png",
        "step_00002560.png",
    ]
    assert "![Generated digits" in (folder / "report.md").read_text()
    assert "(eval/generated.png)" in (folder / "report.md").read_text()
    assert list((folder / "tb").glob("*.samples"))  # the grids as TensorBoard images
    split = get_split("digits", 0)
    pool = int(split.labelled_mask(0.05).sum())
    validation = int(split.labelled_mask(0.05, "val").sum())
    assert pool == 60 and validation == 10  # 5% of each class: 6 of ~126 train, 1 of ~18 val
    metrics = results(folder)["metrics"]
    assert metrics["labels_used"] == pool + validation
    assert 0.0 <= metrics["test_accuracy"] <= 1.0


def test_it_learns_from_five_percent_of_the_labels(runs_dir):
    # 400 updates, averaging over the last ~100; the untrained discriminator is at chance.
    args = ["train.total_steps=25600", "eval.every=0", "eval.samples_every=0"]
    args.append("learner.kwargs={average: 0.99}")
    assert run(runs_dir, *SHORT, *args, "env.label_fraction=0.05", "seed=3") == 0
    assert results(only_run(runs_dir))["metrics"]["test_accuracy"] >= 0.8


def test_the_untrained_discriminator_is_at_chance():
    from agents.learners.gan import GanLearner
    from envs.paradigms.adversarial import AdversarialVectorEnv

    env = AdversarialVectorEnv(num_envs=8, label_fraction=0.05)
    learner = GanLearner(env.single_observation_space, env.single_action_space, seed=3)
    split = get_split("digits", 0)
    guesses = learner.act_batch(split.features("test").reshape(-1, 1, 8, 8))
    assert np.mean(guesses == split.targets("test")) < 0.3


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("learner.name=semi", "digits_gan trains the gan learner"),
        ("backend=sb3", "digits_gan trains the gan learner"),
        ("env.feedback=reward", "learns from labels, but env.feedback=reward"),
        ("env.label_fraction=1.0", "env.label_fraction must be between 0 and 1"),
        ("env.dataset=iris", "env.dataset must be one of"),
        ("learner.arch=linear", "arch must be 'auto', 'cnn' or 'mlp'"),
        ("learner.kwargs={temperature: 2}", "no hyperparameter 'temperature'"),
    ],
)
def test_bad_config_is_refused_with_one_line(override, message, runs_dir, capsys):
    assert run(runs_dir, "train.total_steps=64", *SHORT, override) == 2
    assert message in capsys.readouterr().err


def test_the_gan_is_a_member_of_the_paradigms_comparison(runs_dir):
    members = "only=[gan_5pct]"
    assert main(["paradigms", members, "steps_scale=0.02", "baselines=false",
                 f"runs_dir={runs_dir}"]) == 0  # fmt: skip
    (folder,) = (runs_dir / "paradigms").iterdir()
    metrics = results(folder)["metrics"]
    assert metrics["gan_5pct/labels_used"] == 70  # 60 in the pool, 10 for validation
    report = (folder / "report.md").read_text()
    assert "| gan_5pct | semi-supervised GAN (5% labels) |" in report
