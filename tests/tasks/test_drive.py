"""drive_highway: a tiny run through the CLI, the baselines at fixed seeds, a missing extra."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tests.optional import require

# A short scenario keeps every episode under 10 actions (highway-fast runs ~40 steps/s here).
SHORT = ["env.duration=8"]


def test_missing_highway_env_prints_one_line_and_makes_no_run_folder(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], runs_dir: Path
) -> None:
    from tasks import run

    monkeypatch.setitem(sys.modules, "highway_env", None)  # `import highway_env` now fails
    code = run.main(["drive_highway", f"runs_dir={runs_dir}"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and "pip install learnloop[drive]" in lines[0], lines
    assert list(runs_dir.iterdir()) == []


def test_baselines_are_deterministic_at_fixed_seeds() -> None:
    require("highway_env")
    from tasks.config import load_config
    from tasks.drive import DriveConfig, baseline_rows

    cfg = load_config(DriveConfig, "drive_highway", None, SHORT)
    first = baseline_rows(cfg, episodes=3)
    assert first == baseline_rows(cfg, episodes=3)
    assert [row["policy"] for row in first] == ["random", "keep_lane", "idm_mobil"]
    for row in first:
        assert 0.0 <= row["crash_rate"] <= 1.0
        assert 15.0 <= row["mean_speed"] <= 30.0  # m/s; cars start near 25
        assert row["episode_length_mean"] <= 8
    # Another seed set gives other episodes.
    cfg.seed = 1
    assert baseline_rows(cfg, episodes=3) != first


@pytest.mark.parametrize(
    ("yaml_name", "algorithm"), [("drive_highway.yaml", "DQN"), ("drive_highway_ppo.yaml", "PPO")]
)
def test_shipped_configs_build_their_algorithm(yaml_name: str, algorithm: str) -> None:
    import types

    import stable_baselines3

    from agents.backends.sb3 import algorithm_kwargs
    from tasks.config import load_config
    from tasks.drive import DriveConfig

    cfg = load_config(DriveConfig, "drive_highway", REPO / "configs" / yaml_name, [])
    cls = getattr(stable_baselines3, algorithm)
    assert cfg.algo.name == algorithm.lower()
    kwargs = algorithm_kwargs(types.SimpleNamespace(algo=cfg.algo), cls)  # raises on a bad key
    assert kwargs["gamma"] == {"DQN": 0.9, "PPO": 0.8}[algorithm]
    # Both configs pay the same speed reward and collision cost, with a headway cost.
    assert cfg.env.headway_time == 1.0 and cfg.env.reward_speed_range == [20, 26]
    assert cfg.env.collision_reward == -1.5 and cfg.env.headway_cost > 0


@pytest.mark.slow
def test_tiny_run_writes_metrics_results_report_and_frames(runs_dir: Path) -> None:
    require("highway_env")
    result = run_cli(
        "drive_highway",
        f"runs_dir={runs_dir}",
        "train.total_steps=200",
        "train.checkpoint_every=0",
        "eval.episodes=2",
        "report.strip_frames=3",
        "report.frame_every=2",
        *SHORT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (run,) = (runs_dir / "drive_highway").iterdir()
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    driving = [r for r in records if "charts/crash_rate" in r]
    assert driving and all(0 <= r["charts/crash_rate"] <= 1 for r in driving)
    assert all(r["charts/mean_speed"] > 0 for r in driving)
    results = json.loads((run / "eval" / "results.json").read_text())
    assert results["step"] == 200
    for prefix in ("", "baseline/random/", "baseline/keep_lane/", "baseline/idm_mobil/"):
        for name in ("crash_rate", "mean_speed", "distance", "episode_return"):
            assert prefix + name in results["metrics"]
    assert "meets_goal" in results["metrics"]
    policies = json.loads((run / "eval" / "policies.json").read_text())
    assert [row["policy"] for row in policies] == ["trained", "random", "keep_lane", "idm_mobil"]
    report = (run / "report.md").read_text()
    assert "![frames](eval/frames.png)" in report and "| keep_lane |" in report

    import matplotlib.image

    strip = matplotlib.image.imread(run / "eval" / "frames.png")
    assert strip.std() > 0.05, "the frames came out blank"


def test_idm_mobil_driver_brakes_for_traffic_where_keep_lane_crashes() -> None:
    require("highway_env")
    from tasks.config import load_config
    from tasks.drive import DriveConfig, evaluate_policy, idm_mobil_policy, keep_lane_policy

    cfg = load_config(DriveConfig, "drive_highway", None, ["env.duration=20"])
    idm = evaluate_policy(cfg, "idm_mobil", idm_mobil_policy, episodes=4)
    keep = evaluate_policy(cfg, "keep_lane", keep_lane_policy, episodes=4)
    assert idm["crash_rate"] == 0.0
    assert keep["crash_rate"] >= 0.5  # at 25 m/s into slower traffic (21-24 m/s)
    assert 15.0 <= idm["mean_speed"] <= 30.0 and idm["distance"] > 15.0 * 19


def test_headway_cost_charges_closing_in_and_only_that() -> None:
    require("highway_env")
    from tasks.config import load_config
    from tasks.drive import DriveConfig, keep_lane_policy, make_highway

    plain_cfg = load_config(DriveConfig, "drive_highway", None, ["env.duration=20"])
    cost_cfg = load_config(
        DriveConfig, "drive_highway", None,
        ["env.duration=20", "env.headway_time=1.5", "env.headway_cost=0.5"],
    )  # fmt: skip
    plain, costed = make_highway(plain_cfg), make_highway(cost_cfg)
    plain.reset(seed=3)
    obs, _ = costed.reset(seed=3)
    charged = 0
    for _ in range(20):
        action = keep_lane_policy(obs, costed)
        _, reward, done, truncated, _ = plain.step(action)
        obs, cost_reward, cost_done, cost_truncated, info = costed.step(action)
        assert (done, truncated) == (cost_done, cost_truncated)  # same traffic, same seed
        expected = 0.5 * max(0.0, 1.0 - info["headway"] / 1.5)
        assert cost_reward == pytest.approx(reward - expected)
        charged += expected > 0
        if done or truncated:
            break
    assert charged >= 1  # keep-lane driving closes in on the car ahead


def test_lane_change_cost_charges_each_lane_change_started() -> None:
    """env.lane_change_cost comes off the reward of a step that starts a lane change, and only
    then: asking for a lane that does not exist changes nothing and costs nothing."""
    require("highway_env")
    from tasks.config import load_config
    from tasks.drive import DriveConfig, make_highway

    plain_cfg = load_config(DriveConfig, "drive_highway", None, ["env.duration=20"])
    cost_cfg = load_config(
        DriveConfig, "drive_highway", None, ["env.duration=20", "env.lane_change_cost=0.25"]
    )
    plain, costed = make_highway(plain_cfg), make_highway(cost_cfg)
    plain.reset(seed=4)
    costed.reset(seed=4)
    left, idle, right = 0, 1, 2  # highway-env's DiscreteMetaAction
    lanes = costed.unwrapped.config["lanes_count"]
    assert costed.unwrapped.vehicle.lane_index[2] == lanes - 1  # this seed starts on the right
    changes = []
    for action in (right, idle, left, idle, left, idle, left, right):
        target = costed.unwrapped.vehicle.target_lane_index[2]
        _, reward, done, truncated, _ = plain.step(action)
        _, cost_reward, cost_done, cost_truncated, info = costed.step(action)
        assert (done, truncated) == (cost_done, cost_truncated)  # same traffic, same seed
        moved = costed.unwrapped.vehicle.target_lane_index[2] != target
        assert info["lane_change"] == moved
        assert cost_reward == pytest.approx(reward - 0.25 * moved)
        changes.append(moved)
        if done or truncated:
            break
    # right on the right lane: nothing; left, left: two lanes over; left on the left: nothing;
    # right: back one lane (no crash at this seed)
    assert changes == [False, False, True, False, True, False, False, True], changes


@pytest.mark.slow
def test_evaluation_plays_the_weights_that_validated_best(runs_dir: Path) -> None:
    require("highway_env")
    common = [f"runs_dir={runs_dir}", "eval.episodes=3", "report.strip_frames=0", *SHORT]
    result = run_cli(
        "drive_highway", *common, "train.total_steps=300", "train.checkpoint_every=0",
        "eval.every=100", "eval.validation_episodes=2", "eval.ensemble=0", timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (run,) = (runs_dir / "drive_highway").iterdir()
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    validations = {r["step"]: r["eval_periodic/val_return"] for r in records
                   if "eval_periodic/val_return" in r}  # fmt: skip
    assert sorted(validations) == [100, 200, 300]
    best_step = max(validations, key=lambda step: (validations[step], -step))
    (best,) = (run / "best").glob("step_*")  # only the best is kept
    assert best.name == f"step_{best_step}"
    results = json.loads((run / "eval" / "results.json").read_text())
    assert results["metrics"]["selected_step"] == best_step
    assert f"evaluated the weights of step {best_step}" in (run / "report.md").read_text()
    # Evaluating that checkpoint by name plays the same episodes as the run's evaluation did.
    again = run_cli("drive_highway", "eval", *common, f"checkpoint={best}", timeout=120)
    assert again.returncode == 0, again.stderr
    rerun = json.loads((run / "eval" / "results.json").read_text())["metrics"]
    assert "selected_step" not in rerun
    for name in ("crash_rate", "mean_speed", "episode_return"):
        assert rerun[name] == results["metrics"][name]
    # The crash diagnostic replays those weights on the validation episodes: as many crashes.
    from tests.benchmarks import load_benchmark

    replayed = load_benchmark("drive_crashes").replay(run, None, evaluation_seeds=False)
    crash_rate = next(r["eval_periodic/val_crash_rate"] for r in records
                      if r.get("step") == best_step and "eval_periodic/val_crash_rate" in r)  # fmt: skip
    assert (replayed["checkpoint"], replayed["episodes"]) == (best.name, 2)
    assert sum(replayed["kinds"].values()) == round(crash_rate * 2)


@pytest.mark.slow
def test_evaluation_plays_the_mean_q_ensemble_of_the_last_checkpoints(runs_dir: Path) -> None:
    """eval.ensemble=2: evaluation acts on the mean Q-values of the run's last two checkpoints
    (the report says which); its actions are the argmax of the two members' mean Q-values."""
    require("highway_env")
    import numpy as np

    from agents.ensemble import QEnsemble
    from tasks.config import load_config
    from tasks.drive import DriveConfig, make_highway
    from tasks.registry import load_task
    from tasks.runner.session import load_checkpoint

    result = run_cli(
        "drive_highway", f"runs_dir={runs_dir}", "eval.episodes=2", "report.strip_frames=0",
        *SHORT, "train.total_steps=300", "train.checkpoint_every=100", "eval.every=0",
        "eval.validation_episodes=0", "eval.ensemble=2", timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (run,) = (runs_dir / "drive_highway").iterdir()
    metrics = json.loads((run / "eval" / "results.json").read_text())["metrics"]
    assert (metrics["ensemble_size"], metrics["ensemble_first_step"]) == (2, 200)
    assert "mean Q-values of the checkpoints of steps 200, 300" in (run / "report.md").read_text()
    cfg = load_config(DriveConfig, "drive_highway", run / "config.yaml", [])
    task = load_task("drive_highway")
    members = [load_checkpoint(task, cfg, run / "checkpoints" / f"step_{s}") for s in (200, 300)]
    ensemble = QEnsemble(members)
    env = make_highway(cfg)
    observations = [env.reset(seed=seed)[0] for seed in range(20)]
    batch = np.stack(observations)
    q = (members[0].q_values(batch) + members[1].q_values(batch)) / 2
    assert np.allclose(ensemble.q_values(batch), q)
    assert [ensemble.act(obs) for obs in observations] == list(q.argmax(axis=1))
    # The crash diagnostic replays the same ensemble: as many crashes as evaluation counted.
    from tests.benchmarks import load_benchmark

    replayed = load_benchmark("drive_crashes").replay(run, None, evaluation_seeds=True)
    assert (replayed["checkpoint"], replayed["episodes"]) == ("ensemble of 2 from step_200", 2)
    assert sum(replayed["kinds"].values()) == round(metrics["crash_rate"] * 2)


def test_bad_validation_or_ensemble_settings_are_refused(
    capsys: pytest.CaptureFixture[str], runs_dir: Path
) -> None:
    require("highway_env")
    ppo = ["algo.name=ppo", "algo.double_q=false", "algo.dueling=false"]
    assert_refused(
        capsys,
        runs_dir,
        (["eval.validation_episodes=5", "eval.every=0"], "eval.every > 0"),
        (
            ["eval.validation_episodes=5", "eval.every=100", "eval.episodes=600"],
            "eval.episodes=600",
        ),
        ([*ppo, "eval.ensemble=3"], "eval.ensemble=3 averages action values"),
        (["eval.ensemble=4", "train.keep_checkpoints=3"], "train.keep_checkpoints is 3"),
    )


def assert_refused(
    capsys: pytest.CaptureFixture[str], runs_dir: Path, *cases: tuple[list[str], str]
) -> None:
    """Each (overrides, text) case exits 2 with one line of error naming ``text``, and no run
    folder is made."""
    from tasks import run

    for bad, named in cases:
        assert run.main(["drive_highway", *bad, f"runs_dir={runs_dir}"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and named in err[0], err
    assert list(runs_dir.iterdir()) == []


def test_target_speeds_reach_the_action_and_bad_ones_are_refused(
    capsys: pytest.CaptureFixture[str], runs_dir: Path
) -> None:
    require("highway_env")
    from tasks import run
    from tasks.config import load_config
    from tasks.drive import DriveConfig, make_highway

    speeds = [20.0, 22.5, 25.0, 27.5, 30.0]
    cfg = load_config(DriveConfig, "drive_highway", None, [f"env.target_speeds={speeds}"])
    env = make_highway(cfg)
    env.reset(seed=0)
    assert list(env.unwrapped.vehicle.target_speeds) == speeds
    faster = env.unwrapped.action_type.actions_indexes["FASTER"]
    env.step(faster)
    assert env.unwrapped.vehicle.target_speed == 27.5  # one step up from 25, not to 30
    code = run.main(["drive_highway", "env.target_speeds=[25, 20]", f"runs_dir={runs_dir}"])
    assert code == 2
    assert "env.target_speeds=[25.0, 20.0]" in capsys.readouterr().err
    assert list(runs_dir.iterdir()) == []


@pytest.mark.parametrize("extra", [[], ["env.see_behind=true", "env.observed_vehicles=7"]])
def test_numpy_hot_spots_play_highway_envs_own_episodes(extra: list[str]) -> None:
    """With the numpy neighbour search and kinematics observation (the task's env), episodes
    are highway-env's own: every observation, reward, car position and speed, across resets."""
    require("highway_env")
    import numpy as np

    from tasks import driving
    from tasks.config import load_config
    from tasks.drive import DriveConfig, highway_config, make_highway

    overrides = ["env.duration=25", "env.headway_time=0", *extra]  # highway-env's reward
    cfg = load_config(DriveConfig, "drive_highway", None, overrides)
    fast = make_highway(cfg)
    plain = driving.make_highway_env("drive_highway", cfg.env.env_id, highway_config(cfg))
    assert type(fast.unwrapped.observation_type).__name__ == "FastKinematics"
    assert "neighbour_vehicles" in vars(fast.unwrapped.road)
    actions = np.random.default_rng(0)
    steps = 0
    for seed in range(5, 15):
        ours, _ = fast.reset(seed=seed)
        theirs, _ = plain.reset(seed=seed)
        np.testing.assert_array_equal(ours, theirs)
        done = False
        while not done:
            action = int(actions.integers(5))
            ours, mine, done, cut, _ = fast.step(action)
            theirs, reward, *_ = plain.step(action)
            np.testing.assert_array_equal(ours, theirs)
            assert mine == reward
            for a, b in zip(
                fast.unwrapped.road.vehicles, plain.unwrapped.road.vehicles, strict=True
            ):
                np.testing.assert_array_equal(a.position, b.position)
                assert a.speed == b.speed
            steps += 1
            done = done or cut
    assert steps > 50


def test_ego_attention_ignores_the_order_of_other_cars_and_the_absent_ones() -> None:
    import gymnasium as gym
    import numpy as np
    import torch

    from agents.networks import EgoAttention

    torch.manual_seed(0)
    net = EgoAttention(gym.spaces.Box(-1, 1, (5, 5), np.float32), embed_dim=16, heads=2)
    rows = np.random.default_rng(0).uniform(-1, 1, (5, 5)).astype(np.float32)
    rows[:4, 0] = 1.0  # the car and three others present ...
    rows[4] = [0.0, 0.3, -0.2, 0.5, 0.1]  # ... and an absent row holding stale numbers
    shuffled = rows[[0, 3, 1, 2, 4]]
    blanked = rows.copy()
    blanked[4, 1:] = 0.0
    out = net(torch.as_tensor(np.stack([rows, shuffled, blanked])))
    assert out.shape == (3, 16)
    torch.testing.assert_close(out[1], out[0])
    torch.testing.assert_close(out[2], out[0])
    nearer = rows.copy()
    nearer[1, 1] = 0.01  # the car ahead closer: the features change
    assert not torch.allclose(net(torch.as_tensor(nearer[None]))[0], out[0])


def test_ego_attention_trains_checkpoints_and_loads(runs_dir: Path) -> None:
    require("highway_env")
    from tasks.config import load_config
    from tasks.drive import DriveConfig
    from tasks.registry import load_task
    from tasks.runner.runs import resolve_checkpoint
    from tasks.runner.session import Session

    result = run_cli(
        "drive_highway",
        f"runs_dir={runs_dir}",
        "network.kind=ego_attention",
        "network.embed_dim=16",
        "algo.dueling=true",
        "train.total_steps=300",
        "train.checkpoint_every=0",
        "eval.episodes=1",
        "eval.every=0",
        "eval.validation_episodes=0",
        "report.strip_frames=0",
        *SHORT,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    (run,) = (runs_dir / "drive_highway").iterdir()
    task = load_task("drive_highway")
    cfg = load_config(DriveConfig, "drive_highway", run / "config.yaml", [])
    assert cfg.network.kind == "ego_attention"
    cfg.checkpoint = str(resolve_checkpoint(run))
    agent, _ = Session(task, cfg, []).load_agent()
    extractor = agent.model.policy.q_net.features_extractor
    assert type(extractor).__name__ == "EgoAttention" and extractor.features_dim == 16


def test_ego_attention_heads_that_do_not_split_the_embedding_are_refused(
    capsys: pytest.CaptureFixture[str], runs_dir: Path
) -> None:
    require("highway_env")
    assert_refused(
        capsys,
        runs_dir,
        (["network.kind=ego_attention", "network.embed_dim=30", "network.heads=4"], "heads=4"),
    )
