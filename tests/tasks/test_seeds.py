"""seeds=: one run per training seed and their aggregate (mean, bootstrap interval, IQM)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tasks.config import ConfigError
from tasks.run import main
from tasks.runner.seeds import bootstrap_interval, interquartile_mean, parse_seeds

TINY = ["train.total_steps=512", "train.checkpoint_every=256", "eval.episodes=2",
        "algo.n_envs=2", "algo.n_steps=64", "algo.batch_size=128"]  # fmt: skip


def test_seeds_count_from_the_config_seed_or_are_listed() -> None:
    assert parse_seeds("3", first=5) == [5, 6, 7]
    assert parse_seeds("0,2,4", first=5) == [0, 2, 4]
    assert parse_seeds("[1, 3]", first=0) == [1, 3]
    for bad in ("0", "x", "1,1", "-1,2"):
        with pytest.raises(ConfigError, match="seeds="):
            parse_seeds(bad, first=0)


def test_bootstrap_interval_and_iqm() -> None:
    low, high = bootstrap_interval([1.0, 1.0, 1.0])
    assert low == high == 1.0
    low, high = bootstrap_interval([0.0, 1.0, 2.0, 3.0])
    assert 0.0 <= low < 1.5 < high <= 3.0
    assert interquartile_mean([0.0, 1.0, 2.0, 100.0]) == 1.5  # the outlier trimmed
    assert interquartile_mean([4.0, 5.0, 6.0]) == 5.0
    assert np.isclose(interquartile_mean(list(range(8))), 3.5)


def test_seeds_train_a_run_each_write_the_aggregate_and_resume_each(runs_dir: Path) -> None:
    args = ["cartpole", f"runs_dir={runs_dir}", "seeds=2", *TINY]
    assert main(args) == 0
    runs = sorted(p for p in (runs_dir / "cartpole").iterdir() if not p.name.endswith("seeds"))
    assert [p.name[-3:] for p in runs] == ["-s0", "-s1"]
    (folder,) = [p for p in (runs_dir / "cartpole").iterdir() if p.name.endswith("-seeds")]
    summary = json.loads((folder / "results.json").read_text())
    assert summary["seeds"] == [0, 1]
    returns = summary["metrics"]["episode_return"]
    per_seed = [json.loads((r / "eval" / "results.json").read_text())["metrics"]["episode_return"]
                for r in runs]  # fmt: skip
    assert returns["per_seed"] == {"0": per_seed[0], "1": per_seed[1]}
    assert np.isclose(returns["mean"], np.mean(per_seed))
    assert returns["ci95"][0] <= returns["mean"] <= returns["ci95"][1]
    assert "baseline/random/episode_return" in summary["metrics"]
    assert "| episode_return |" in (folder / "report.md").read_text()

    # resume=latest with seeds continues each seed's own run, not the newest of any seed.
    more = [a.replace("total_steps=512", "total_steps=768") for a in args]
    assert main([*more, "resume=latest"]) == 0
    for run in runs:
        steps = json.loads((run / "eval" / "results.json").read_text())["step"]
        assert steps >= 768, run.name
    assert len([p for p in (runs_dir / "cartpole").iterdir() if p.name.endswith("-s0")]) == 1


def test_seeds_is_for_training_only(runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cartpole", "eval", "seeds=2", f"runs_dir={runs_dir}"]) == 2
    assert "several seeds are for training" in capsys.readouterr().err
