"""The command line as a user meets it: --list, --help, and one clear line for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, run_cli


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {result.stderr}"
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_list_names_every_task_without_heavy_imports() -> None:
    code = (
        "import sys, tasks.run; tasks.run.main(['--list']);"
        "heavy = [m for m in ('torch', 'stable_baselines3', 'ray', 'numba') if m in sys.modules];"
        "sys.exit(f'imported {heavy}' if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert {"cartpole", "tictactoe", "connect_four"} <= set(names)
    assert all(len(line.split(None, 1)) == 2 for line in result.stdout.splitlines())


def test_help_lists_fields_with_type_default_and_description() -> None:
    result = run_cli("cartpole", "--help")
    assert result.returncode == 0
    line = next(x for x in result.stdout.splitlines() if x.startswith("train.total_steps"))
    assert "int" in line and "Environment steps to train for." in line
    assert "actions: train, eval" in result.stdout


def test_unknown_task_lists_known_ones() -> None:
    result = run_cli("cartpol")
    assert_one_line_error(result, "unknown task 'cartpol'", "did you mean 'cartpole'", "; known: ")
    assert "go_small" in result.stderr and "cartpole" in result.stderr


def test_unknown_key_suggests_closest(runs_dir: Path) -> None:
    result = run_cli("cartpole", f"runs_dir={runs_dir}", "train.totl_steps=10")
    assert_one_line_error(
        result, "unknown config key 'train.totl_steps'", "did you mean 'train.total_steps'"
    )
    assert list(runs_dir.iterdir()) == [], "a rejected command must not create a run folder"


def test_wrong_type_names_key_value_and_type() -> None:
    assert_one_line_error(run_cli("cartpole", "seed=three"), "seed: expected int, got 'three'")


def test_unknown_action_and_option() -> None:
    assert_one_line_error(run_cli("cartpole", "fly"), "unknown action 'fly'")
    assert_one_line_error(run_cli("cartpole", "gtp"), "task cartpole has no action 'gtp'")
    assert_one_line_error(run_cli("cartpole", "--verbose"), "unknown option --verbose")


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("task: cartpole\nseed: [\n")
    assert_one_line_error(run_cli(str(bad)), f"{bad}:3: YAML syntax error")


def test_yaml_without_task_key(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("seed: 1\n")
    assert_one_line_error(run_cli(str(path)), "needs a 'task:' key")


def test_missing_and_corrupt_checkpoints(tmp_path: Path, runs_dir: Path) -> None:
    missing = tmp_path / "nope"
    assert_one_line_error(
        run_cli("cartpole", "eval", f"checkpoint={missing}"), f"checkpoint {missing} does not exist"
    )
    assert_one_line_error(
        run_cli("cartpole", "eval", f"runs_dir={runs_dir}"), "no checkpoint of task cartpole"
    )
    corrupt = tmp_path / "step_10"
    corrupt.mkdir()
    (corrupt / "meta.json").write_text('{"step": 10, "task": "cartpole", "backend": "sb3"}')
    (corrupt / "model.zip").write_bytes(b"not a zip")
    assert_one_line_error(run_cli("cartpole", "eval", f"checkpoint={corrupt}"), "is corrupt")
    (corrupt / "meta.json").write_text("{")
    assert_one_line_error(run_cli("cartpole", "eval", f"checkpoint={corrupt}"), "is unreadable")


def test_resume_without_a_run(runs_dir: Path) -> None:
    result = run_cli("cartpole", f"runs_dir={runs_dir}", "resume=latest")
    assert_one_line_error(result, "resume=latest: no run of task cartpole")


def test_runtime_failure_exits_1_and_keeps_run_folder(runs_dir: Path) -> None:
    result = run_cli("cartpole", f"runs_dir={runs_dir}", "algo.kwargs={bogus_knob: 1}")
    assert result.returncode == 1
    assert "bogus_knob" in result.stderr and "Traceback" not in result.stderr
    (run,) = (runs_dir / "cartpole").iterdir()
    assert (run / "config.yaml").read_text().startswith("task: cartpole")
    assert "bogus_knob" in (run / "error.log").read_text()
