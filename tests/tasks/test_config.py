"""Config layering and every config error a user can make."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.cartpole import CartPoleConfig
from tasks.config import ConfigError, help_rows, load_config
from tasks.registry import task_yaml


def load(overrides: list[str], yaml_path: Path | None = None) -> CartPoleConfig:
    return load_config(CartPoleConfig, "cartpole", yaml_path, overrides)


def test_defaults_then_yaml_then_overrides(tmp_path: Path) -> None:
    yaml_file = tmp_path / "c.yaml"
    yaml_file.write_text(
        "task: cartpole\nseed: 4\ntrain:\n  total_steps: 1234\nalgo:\n  n_envs: 2\n"
    )
    cfg = load(["train.total_steps=99", "algo.net_arch=[32, 16]"], yaml_file)
    assert cfg.seed == 4  # from YAML
    assert cfg.algo.n_envs == 2  # from YAML
    assert cfg.train.total_steps == 99  # override beats YAML
    assert cfg.algo.net_arch == [32, 16]
    assert cfg.algo.gamma == 0.99  # typed default
    assert cfg.task == "cartpole"


def test_packaged_yaml_is_valid() -> None:
    cfg = load([], task_yaml("cartpole"))
    assert cfg.algo.n_envs == 8 and cfg.train.total_steps == 60_000


def test_int_given_to_float_field_and_strings_kept() -> None:
    cfg = load(["algo.learning_rate=1", "ray.address=10", "device=cpu"])
    assert cfg.algo.learning_rate == 1.0 and isinstance(cfg.algo.learning_rate, float)
    assert cfg.ray.address == "10"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "train.total_step=5",
            "unknown config key 'train.total_step'; did you mean 'train.total_steps'?",
        ),
        ("sed=3", "unknown config key 'sed'; did you mean 'seed'?"),
        ("train.total_steps=abc", "train.total_steps: expected int, got 'abc'"),
        ("train.total_steps=1.5", "train.total_steps: expected int, got 1.5"),
        ("seed=-1", "seed: -1 is below the minimum 0"),
        ("algo.gamma=1.5", "algo.gamma: 1.5 is above the maximum 1.0"),
        (
            "algo.name=foo",
            "algo.name: 'foo' is not one of: ppo, maskable_ppo, a2c, dqn, qrdqn, sac, alphazero, "
            "supervised, reward, semi, autoencoder, cluster, anomaly, gan, fraud",
        ),
        ("eval.deterministic=maybe", "eval.deterministic: expected bool, got 'maybe'"),
        ("algo.net_arch=[64, x]", "algo.net_arch[1]: expected int, got 'x'"),
        ("train=5", "train: expected a section (a mapping), got 5"),
        ("seed.x=1", "seed is a value, not a section"),
        ("noequals", "expected key=value, got 'noequals'"),
        ("algo.double_q=true", "algo.double_q=true is a DQN option; algo.name is ppo"),
    ],
)
def test_bad_values_name_the_key(override: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        load([override])
    assert str(error.value) == expected


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: cartpole\ntrain:\n  total_steps: [1, 2\nseed: 1\n")
    with pytest.raises(ConfigError, match=rf"^{bad}:4: YAML syntax error"):
        load([], bad)


def test_yaml_unknown_key_and_wrong_task(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("task: cartpole\nalgo:\n  lerning_rate: 0.1\n")
    with pytest.raises(ConfigError, match="did you mean 'algo.learning_rate'"):
        load([], path)
    path.write_text("task: go_small\n")
    with pytest.raises(ConfigError, match="does not match the task 'cartpole'"):
        load([], path)


def test_help_rows_cover_every_field() -> None:
    rows = {row[0]: row for row in help_rows(CartPoleConfig)}
    assert rows["train.total_steps"][1] == "int"
    assert rows["algo.net_arch"][1] == "list[int]"
    assert rows["env.max_episode_steps"][2] == "500"
    assert all(row[3] for row in rows.values()), "every field needs a description"


def test_a_removed_key_in_an_old_config_is_ignored_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tasks.boardgames.go import GoSmallConfig

    old = tmp_path / "config.yaml"
    old.write_text("search:\n  rollout_weight: 1.0\n  simulations: 7\nexpert:\n  every: 100\n")
    cfg = load_config(GoSmallConfig, "go_small", old, [])
    assert cfg.search.simulations == 7
    err = capsys.readouterr().err
    assert "'search.rollout_weight' is ignored" in err and "'expert' is ignored" in err
