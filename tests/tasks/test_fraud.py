"""fraud_detection end to end: the run folder, the metrics, the baselines and a learning bar."""

from __future__ import annotations

import json
from pathlib import Path

from tasks.run import main

SMALL_WORLD = ["env.n_customers=2000", "env.n_terminals=4000", "env.daily_budget=40",
               "env.num_envs=512"]  # fmt: skip


def results(runs_dir: Path) -> tuple[Path, dict]:
    (run,) = sorted((runs_dir / "fraud_detection").iterdir())[-1:]
    return run, json.loads((run / "eval" / "results.json").read_text())["metrics"]


def test_a_short_run_writes_the_metrics_baselines_and_daily_plot(tmp_path):
    code = main(["fraud_detection", f"runs_dir={tmp_path}", "train.total_steps=4000",
                 "env.n_customers=500", "env.n_terminals=1000", "env.history_days=10",
                 "env.daily_budget=10", "env.num_envs=256",
                 "eval.baselines=[rule,logistic_regression,isolation_forest]"])  # fmt: skip
    assert code == 0
    run, metrics = results(tmp_path)
    assert "-learnloop-s0" in run.name
    for name in ("card_precision_at_10", "roc_auc", "average_precision", "investigations"):
        assert name in metrics
    assert 0 < metrics["investigations"] <= metrics["labels_used"]
    for baseline in ("rule", "logistic_regression", "isolation_forest"):
        assert f"baseline/{baseline}/card_precision_at_10" in metrics
    assert (run / "eval" / "daily_card_precision.png").is_file()
    report = (run / "report.md").read_text()
    assert "![daily_card_precision.png](eval/daily_card_precision.png)" in report
    assert "Backend `learnloop`, algorithm `fraud`" in report
    assert "handbook" in report  # the published figures beside ours


def test_the_learner_beats_the_rule_at_a_fixed_seed(tmp_path):
    code = main(["fraud_detection", f"runs_dir={tmp_path}", "seed=0", "train.total_steps=110000",
                 "eval.baselines=[rule]", *SMALL_WORLD])  # fmt: skip
    assert code == 0
    _, metrics = results(tmp_path)
    rule = metrics["baseline/rule/card_precision_at_40"]  # 0.425 at this seed
    assert metrics["card_precision_at_40"] >= rule + 0.02  # 0.464 measured
    assert metrics["frozen/card_precision_at_40"] >= rule  # 0.454 without test-week learning
    assert metrics["average_precision"] > metrics["baseline/rule/average_precision"] + 0.1


def test_bad_settings_exit_with_one_line(tmp_path, capsys):
    assert main(["fraud_detection", f"runs_dir={tmp_path}", "eval.baselines=[oracle]"]) == 2
    assert "unknown baseline 'oracle'" in capsys.readouterr().err
    assert main(["fraud_detection", f"runs_dir={tmp_path}", "env.daily_budget=0"]) == 2
    assert "env.daily_budget" in capsys.readouterr().err
