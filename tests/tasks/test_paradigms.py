"""The paradigm tasks end to end: run folders, metric names, SB3 on every env, the comparison."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tasks.run import main

TINY = ["train.total_steps=256", "eval.every=128", "eval.baselines=false", "env.num_envs=32"]
METRICS = {
    "digits_supervised": {"test_accuracy"},
    "digits_bandit": {"test_accuracy"},
    "digits_semi": {"test_accuracy"},
    "digits_selfsup": {"mse", "test_accuracy"},
    "digits_cluster": {"ari", "nmi"},
    "digits_anomaly": {"roc_auc"},
    "diabetes_regression": {"r2", "mse"},
}


def results(runs_dir: Path, task: str) -> dict:
    (run,) = sorted((runs_dir / task).iterdir())[-1:]
    return json.loads((run / "eval" / "results.json").read_text())


def run_task(runs_dir: Path, *args: str) -> int:
    return main([*args, f"runs_dir={runs_dir}"])


@pytest.mark.parametrize("task", list(METRICS))
def test_each_task_trains_with_its_own_learner_and_reports_its_metrics(task, runs_dir):
    extra: list[str] = []
    assert run_task(runs_dir, task, *TINY, *extra) == 0
    run = next((runs_dir / task).iterdir())
    assert "-learnloop-s0" in run.name
    assert {"report.md", "metrics.jsonl", "config.yaml", "curves.png"} <= {
        p.name for p in run.iterdir()
    }
    assert METRICS[task] <= set(results(runs_dir, task)["metrics"])
    learner = yaml.safe_load((run / "config.yaml").read_text())["learner"]["name"]
    assert f"Backend `learnloop`, algorithm `{learner}`" in (run / "report.md").read_text()
    assert any(
        "eval_periodic/val_" in line for line in (run / "metrics.jsonl").read_text().splitlines()
    )


ENVS = {  # one task per env
    "classify": "digits_bandit",
    "regress": "diabetes_regression",
    "reconstruct": "digits_selfsup",
    "cluster": "digits_cluster",
    "anomaly": "digits_anomaly",
}
SB3_TINY = ["backend=sb3", "train.total_steps=128", "eval.every=0", "eval.baselines=false",
            "algo.n_envs=2", "algo.n_steps=32", "algo.batch_size=32"]  # fmt: skip


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
@pytest.mark.parametrize("env", list(ENVS))
def test_sb3_trains_on_every_env_through_the_same_runner(env, algo, runs_dir, capsys):
    task = ENVS[env]
    extra = ["env.action_bins=11"] if env == "regress" and algo == "dqn" else []
    extra += ["algo.kwargs={learning_starts: 32}"] if algo == "dqn" else []
    code = run_task(runs_dir, task, *SB3_TINY, f"algo.name={algo}", *extra)
    if env == "reconstruct" and algo == "dqn":
        assert code == 2 and "needs discrete actions" in capsys.readouterr().err
        return
    assert code == 0
    run = next((runs_dir / task).iterdir())
    assert f"Backend `sb3`, algorithm `{algo}`" in (run / "report.md").read_text()
    assert METRICS[task] - {"test_accuracy" if env == "reconstruct" else ""} <= set(
        results(runs_dir, task)["metrics"]
    )


def test_backend_learnloop_is_resolved_through_the_registry(runs_dir, capsys):
    """learnloop's algorithms are its learners: a paradigm config trains learner.name under it,
    and a config whose algorithm it does not run gets backend_for's one-line error."""
    from tasks.config import load_config
    from tasks.paradigms.labelled import DigitsBanditConfig
    from tasks.registry import task_yaml

    yaml_path = task_yaml("digits_bandit")
    cfg = load_config(DigitsBanditConfig, "digits_bandit", yaml_path, [])
    assert (cfg.backend, cfg.algorithm()) == ("learnloop", "reward")
    cfg = load_config(DigitsBanditConfig, "digits_bandit", yaml_path, ["backend=sb3"])
    assert (cfg.backend, cfg.algorithm()) == ("sb3", "ppo")
    assert run_task(runs_dir, "cartpole", "backend=learnloop") == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: algo.name='ppo' is not available under backend=learnloop; use one of: "
        "supervised, reward, semi, autoencoder, cluster, anomaly, gan, fraud"
    ]
    member = "members={odd: {task: digits_bandit, overrides: {backend: rllib, algo.name: a2c}}}"
    assert run_task(runs_dir, "paradigms", member) == 2
    assert "members.odd: algo.name='a2c' is not available under backend=rllib" in (
        capsys.readouterr().err
    )
    assert not (runs_dir / "cartpole").exists() and not (runs_dir / "paradigms").exists()


def test_dqn_on_continuous_predictions_is_refused_before_a_run_folder(runs_dir, capsys):
    assert run_task(runs_dir, "diabetes_regression", *SB3_TINY, "algo.name=dqn") == 2
    assert "needs discrete actions; predictions are continuous: set env.action_bins" in (
        capsys.readouterr().err
    )
    assert not (runs_dir / "diabetes_regression").exists()


def test_a_learner_that_needs_labels_is_refused_without_them(runs_dir, capsys):
    assert run_task(runs_dir, "digits_supervised", "env.feedback=reward", *TINY) == 2
    assert "learns from labels, but env.feedback=reward" in capsys.readouterr().err


def test_eval_reloads_a_learnloop_checkpoint_and_resume_continues(runs_dir):
    assert run_task(runs_dir, "digits_supervised", *TINY) == 0
    first = results(runs_dir, "digits_supervised")["metrics"]["test_accuracy"]
    assert run_task(runs_dir, "digits_supervised", "eval", "eval.baselines=false") == 0
    assert results(runs_dir, "digits_supervised")["metrics"]["test_accuracy"] == first
    assert run_task(runs_dir, "digits_supervised", "resume=latest", "train.total_steps=512") == 0
    assert results(runs_dir, "digits_supervised")["step"] == 512


def test_the_comparison_writes_one_table_and_both_plots(runs_dir):
    members = "only=[supervised,supervised_10pct,reward_only,regression_mse]"
    assert run_task(runs_dir, "paradigms", members, "steps_scale=0.01", "baselines=false") == 0
    (run,) = (runs_dir / "paradigms").iterdir()
    report = (run / "report.md").read_text()
    assert (
        "| member | paradigm | feedback used | labels used | weights chosen by | test metric | value "
        "| env steps | wall s |" in report
    )
    assert "accuracy_vs_labels.png" in report and (run / "eval" / "accuracy_vs_steps.png").is_file()
    assert "algorithm `each member's own (see the table)`" in report
    # The progress bar's total is the members' budgets (digits tasks 200-600 steps at 0.01).
    budget = yaml.safe_load((run / "config.yaml").read_text())["train"]["total_steps"]
    assert 4 * 100 < budget < 4 * 700
    metrics = results(runs_dir, "paradigms")["metrics"]
    assert {"supervised/test_accuracy", "reward_only/test_accuracy", "regression_mse/r2"} <= set(
        metrics
    )
    assert metrics["supervised_10pct/labels_used"] < metrics["supervised/labels_used"]
    assert metrics["reward_only/labels_used"] == 0
    assert run_task(runs_dir, "paradigms", "eval", members, "baselines=false") == 0
    assert (
        results(runs_dir, "paradigms")["metrics"]["regression_mse/r2"]
        == metrics["regression_mse/r2"]
    )


@pytest.mark.slow
def test_supervised_learning_reaches_90_percent_in_4000_steps(runs_dir):
    budget = ["train.total_steps=4000", "env.num_envs=32", "eval.baselines=false"]
    assert run_task(runs_dir, "digits_supervised", *budget) == 0
    assert results(runs_dir, "digits_supervised")["metrics"]["test_accuracy"] >= 0.9


def test_tabular_data_and_masked_attributes_run_too(runs_dir):
    tabular = ["env.dataset=wine", "learner.arch=auto", *TINY]
    assert run_task(runs_dir, "digits_semi", *tabular) == 0
    assert run_task(runs_dir, "digits_selfsup", "env.corruption=mask", *tabular) == 0
    assert {"mse", "test_accuracy"} <= set(results(runs_dir, "digits_selfsup")["metrics"])


def test_the_selfsup_probe_can_read_every_position_of_the_maps(runs_dir):
    """probe.pool=0: the probe reads the unpooled conv maps (the default pools them 3x3)."""
    assert run_task(runs_dir, "digits_selfsup", *TINY, "probe.pool=0") == 0
    (run,) = (runs_dir / "digits_selfsup").iterdir()
    assert "pool: 0" in (run / "config.yaml").read_text()
    assert results(runs_dir, "digits_selfsup")["metrics"]["test_accuracy"] > 0.5


@pytest.mark.slow
def test_the_denoiser_learns_to_remove_noise(runs_dir):
    """After 30,000 env steps the reconstruction error on the test part is well under the
    error of handing back the noisy input (what an untrained identity would score)."""
    import gymnasium
    import numpy as np

    import envs  # noqa: F401

    budget = ["train.total_steps=30000", "eval.baselines=false", "eval.every=10000"]
    assert run_task(runs_dir, "digits_selfsup", *budget) == 0
    mse = results(runs_dir, "digits_selfsup")["metrics"]["mse"]
    env = gymnasium.make("learnloop/Reconstruct-v0", part="test").unwrapped
    feed = env.feed
    positions = np.arange(feed.size)
    noisy = feed.observe(positions, np.random.default_rng(0))
    clean = super(type(feed), feed).observe(positions, np.random.default_rng(0))
    identity = float(((noisy - clean) ** 2).mean())
    assert mse < 0.7 * identity, (mse, identity)


def test_every_label_a_member_reads_is_counted_validation_included():
    """Training labels plus the val labels its early stopping reads; a learner with 10% of the
    labels validates on 10% of the val part; reward-only and unsupervised members never pick
    weights with labels."""
    from tasks.config import load_config
    from tasks.paradigms.labelled import served_labels
    from tasks.registry import load_task, task_yaml

    def setup(name: str, *overrides: str):
        task = load_task(name)
        return task, load_config(task.config_cls, name, task_yaml(name), list(overrides))

    task, cfg = setup("digits_supervised")
    train, val = served_labels(cfg.env, "train", 1.0), served_labels(cfg.env, "val", 1.0)
    assert (train, val) == (1259, 179)  # digits: 1,797 samples, 70 / 10 / 20 split
    assert task.labels_used(cfg) == train + val
    assert task.selection(cfg) == "best val accuracy (179 labels)"
    task, cfg = setup("digits_semi")
    assert task.validation_labels(cfg) == 20 and task.labels_used(cfg) == 126 + 20
    task, cfg = setup("digits_supervised", "eval.every=0")
    assert task.labels_used(cfg) == train and task.selection(cfg) == "whole budget"
    task, cfg = setup("digits_bandit")
    assert task.labels_used(cfg) == 0 and task.selection(cfg) == "whole budget"
    task, cfg = setup("digits_cluster")
    assert task.labels_used(cfg) == 0
    assert task.selection(cfg) == "best val inertia (no labels)"
    task, cfg = setup("digits_anomaly")
    assert task.labels_used(cfg) == 0 and task.selection(cfg) == "whole budget"
    task, cfg = setup("digits_selfsup")  # the probe: 10% of train, 10% of val for its L2
    assert task.labels_used(cfg) == 126 + 20
    assert task.selection(cfg) == "best val mse (no labels)"


def test_a_reward_only_learner_keeps_its_last_weights_and_still_draws_val_curves(runs_dir):
    assert run_task(runs_dir, "digits_bandit", *TINY) == 0
    (run,) = (runs_dir / "digits_bandit").iterdir()
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in lines if "eval_periodic/val_accuracy" in row] == [128, 256]
    assert results(runs_dir, "digits_bandit")["metrics"]["labels_used"] == 0
