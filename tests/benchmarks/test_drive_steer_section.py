"""drive_steer's BENCHMARKS section judges the goal over all the runs' episodes and says which
weights the trained rows played."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.benchmarks import load_benchmark

CONTROLLER = {"on_road_rate": 1.0, "crash_rate": 0.0, "mean_lateral_offset": 0.54}
RANDOM = {"on_road_rate": 0.0, "crash_rate": 0.02, "mean_lateral_offset": 1.4}


def fake_run(folder: Path, seed: int, on_road: float, selected: int | None) -> Path:
    """A finished drive_steer run folder as the task writes it, with the given trained on-road
    rate (the controller keeps the road every time) and, when validation chose, its step."""
    run = folder / f"seed{seed}"
    (run / "eval").mkdir(parents=True)
    config = {
        "seed": seed,
        "backend": "sb3",
        "algo": {"name": "sac"},
        "env": {"duration": 40},
        "eval": {"episodes": 50, "every": 20000, "validation_episodes": 30},
    }
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    trained = {"on_road_rate": on_road, "crash_rate": 1 - on_road, "mean_lateral_offset": 0.14}
    metrics = {**trained, "meets_goal": float(on_road >= 0.9 and on_road >= 1.0)}
    for prefix, row in (("baseline/pure_pursuit/", CONTROLLER), ("baseline/random/", RANDOM)):
        metrics.update({prefix + key: value for key, value in row.items()})
    if selected is not None:
        metrics["selected_step"] = float(selected)
    results = {"step": 60000, "metrics": metrics}
    (run / "eval" / "results.json").write_text(json.dumps(results))
    lines = [{"time": 0.0, "step": 0}, {"time": 600.0, "step": 60000}]
    (run / "metrics.jsonl").write_text("\n".join(json.dumps(line) for line in lines))
    return run


def test_one_crashing_run_fails_the_pooled_goal(tmp_path: Path) -> None:
    script = load_benchmark("drive_steer")
    runs = [fake_run(tmp_path, 1, 1.0, 40000), fake_run(tmp_path, 2, 0.96, 60000)]
    text = script.section(runs)
    assert "| 2 | sb3 sac | 60,000 | 10.0 | 12000-12049 | 0.96 / 0.04 / 0.14 |" in text
    assert "**not met** (on-road rate 0.980 against the controller's 1.000)" in text
    assert "met by 1 of 2 runs alone" in text
    assert "best mean return on 30 validation episodes" in text
    assert "those of steps 40,000, 60,000" in text


def test_every_run_on_the_road_meets_it_with_the_last_weights(tmp_path: Path) -> None:
    script = load_benchmark("drive_steer")
    runs = [fake_run(tmp_path, seed, 1.0, None) for seed in (1, 2)]
    text = script.section(runs)
    assert "**met** (on-road rate 1.000 against the controller's 1.000)" in text
    assert "The trained rows play the last weights." in text
