"""Robots warehouse rules, one per test, written as ASCII warehouses (see envs.warehouse.layout).

``.`` corridor, ``x``/``X`` shelf / requested shelf, ``_`` empty slot, ``g`` goal; robots
``^ > v <`` (empty-handed) and ``N E S W`` (carrying), numbered in reading order. Every rule is
checked under both rule sets, which agree on all of these cases.
"""

from __future__ import annotations

import numpy as np
import pytest

from envs.warehouse.robots import RobotsEnv

NOOP, FORWARD, LEFT, RIGHT, TOGGLE = range(5)
RULES = ["learnloop", "rware"]


def warehouse(layout: str, rules: str, **kwargs) -> RobotsEnv:  # noqa: ANN003
    """A reset env with ``layout``; the caller's keyword arguments go to the env."""
    options = kwargs.pop("options", None)
    kwargs.setdefault("request_queue", 1)
    env = RobotsEnv(layout=layout, rules=rules, render_mode="ansi", **kwargs)
    env.reset(seed=0, options=options)
    return env


def step(env: RobotsEnv, *actions: int) -> dict:
    """One step with robot i taking ``actions[i]``; returns the rewards."""
    _, rewards, _, _, _ = env.step(dict(zip(env.agents, actions, strict=True)))
    return rewards


def picture(text: str) -> str:
    return "\n".join(line.strip() for line in text.strip().splitlines())


@pytest.mark.parametrize("rules", RULES)
def test_a_chain_of_robots_moves_together(rules: str) -> None:
    env = warehouse(">>.\nXxg", rules)
    step(env, FORWARD, FORWARD)
    assert env.render() == picture(".>>\nXxg")


@pytest.mark.parametrize("rules", RULES)
def test_a_chain_behind_a_standing_robot_does_not_move(rules: str) -> None:
    env = warehouse(">>^\nXxg", rules)
    step(env, FORWARD, FORWARD, NOOP)
    assert env.render() == picture(">>^\nXxg")


@pytest.mark.parametrize("rules", RULES)
def test_a_head_on_swap_is_blocked(rules: str) -> None:
    env = warehouse("><.\nXxg", rules)
    step(env, FORWARD, FORWARD)
    assert env.render() == picture("><.\nXxg")


@pytest.mark.parametrize("rules", RULES)
def test_a_cycle_of_four_robots_rotates(rules: str) -> None:
    env = warehouse(">v.\n^<.\nXxg", rules)
    step(env, FORWARD, FORWARD, FORWARD, FORWARD)
    assert env.render() == picture("^>.\n<v.\nXxg")
    assert env.core.x[0].tolist() == [1, 1, 0, 0]


@pytest.mark.parametrize("rules", RULES)
def test_two_robots_into_one_free_cell_the_lower_index_goes(rules: str) -> None:
    env = warehouse(">.<\nXxg", rules)
    step(env, FORWARD, FORWARD)
    assert env.render() == picture(".><\nXxg")


@pytest.mark.parametrize("rules", RULES)
def test_into_one_free_cell_the_longer_chain_goes(rules: str) -> None:
    env = warehouse(">.<<\nXx.g", rules)
    step(env, FORWARD, FORWARD, FORWARD)
    assert env.render() == picture("><<.\nXx.g")


@pytest.mark.parametrize("rules", RULES)
def test_an_empty_robot_drives_under_shelves_a_loaded_one_does_not(rules: str) -> None:
    env = warehouse(">x\nEx\n.g", rules)
    step(env, FORWARD, FORWARD)
    assert env.core.x[0].tolist() == [1, 0]  # robot 0 moved under the shelf, robot 1 stayed
    assert env.action_masks()[1, FORWARD] == 0


@pytest.mark.parametrize("rules", RULES)
def test_a_loaded_robot_may_follow_a_loaded_robot(rules: str) -> None:
    env = warehouse("EE.\nXxg", rules)
    step(env, FORWARD, FORWARD)
    assert env.render() == picture(".EE\nXxg")
    step(env, NOOP, LEFT)  # robot 1 faces up and stands: robot 0 cannot follow it now
    step(env, FORWARD, NOOP)
    assert env.core.x[0].tolist() == [1, 2]


@pytest.mark.parametrize("rules", RULES)
def test_forward_at_the_edge_of_the_map_stays(rules: str) -> None:
    env = warehouse("<..\nXxg", rules)
    assert env.action_masks()[0, FORWARD] == 0
    step(env, FORWARD)
    assert env.render() == picture("<..\nXxg")


@pytest.mark.parametrize("rules", RULES)
def test_turns_go_round_the_compass(rules: str) -> None:
    env = warehouse("^..\nXxg", rules)
    headings = []
    for _ in range(4):
        step(env, RIGHT)
        headings.append(int(env.core.heading[0, 0]))
    assert headings == [3, 1, 2, 0]  # right, down, left, up in RWARE's numbering
    step(env, LEFT)
    assert int(env.core.heading[0, 0]) == 2


@pytest.mark.parametrize("rules", RULES)
def test_lift_a_shelf_and_put_it_down_only_on_a_slot(rules: str) -> None:
    env = warehouse("xX\n..\n.g", rules, n_robots=1, options={"robots": [(0, 0, "down")]})
    assert env.action_masks()[0, TOGGLE] == 1
    step(env, TOGGLE)
    assert env.core.shelf[0, 0] == 0
    step(env, FORWARD)  # carries the shelf into the corridor
    assert (env.core.shelf_x[0, 0], env.core.shelf_y[0, 0]) == (0, 1)
    assert env.action_masks()[0, TOGGLE] == 0
    step(env, TOGGLE)  # a corridor: the shelf stays on the robot
    assert env.core.shelf[0, 0] == 0
    step(env, RIGHT)
    step(env, RIGHT)
    step(env, FORWARD)  # back onto its empty slot
    step(env, TOGGLE)
    assert env.core.shelf[0, 0] == -1 and env.render().splitlines()[0] == "^X"


@pytest.mark.parametrize("rules", RULES)
@pytest.mark.parametrize(
    ("reward", "on_delivery", "on_return"),
    [("individual", [1.0, 0.0], [0.0, 0.0]), ("global", [1.0, 1.0], [0.0, 0.0]),
     ("two_stage", [0.5, 0.0], [0.5, 0.0])],
)  # fmt: skip
def test_delivering_a_requested_shelf_pays_and_draws_a_new_request(
    rules: str, reward: str, on_delivery: list, on_return: list
) -> None:
    layout = "_x\nS.\ng^\nxx"
    env = warehouse(layout, rules, reward=reward, options={"requests": [(0, 1)]})
    rewards = step(env, FORWARD, NOOP)
    assert list(rewards.values()) == on_delivery
    assert env.deliveries == 1 and env.core.requested[0].sum() == 1
    assert not env.core.requested[0, env.core.shelf[0, 0]]
    for action in (RIGHT, RIGHT, FORWARD, FORWARD):
        step(env, action, NOOP)
    rewards = step(env, TOGGLE, NOOP)  # put down on the empty slot
    assert list(rewards.values()) == on_return
    assert all(isinstance(value, float) for value in rewards.values())


def test_orders_group_requests_and_the_pick_rate_counts_lines_per_hour() -> None:
    env = warehouse("_x\nS.\ngx\nxx", "learnloop", order_lines=2, options={"requests": [(0, 1)]})
    step(env, FORWARD)
    assert env.deliveries == 1 and env.orders_completed == 0  # its order has a second line
    assert env.pick_rate() == pytest.approx(3600.0)
    env.seconds_per_step = 2.0
    assert env.pick_rate() == pytest.approx(1800.0)


def test_render_reads_back_as_the_same_warehouse() -> None:
    env = RobotsEnv(size="tiny", n_robots=3, render_mode="ansi")
    robots = [(0, 0, "up"), (3, 4, "down"), (5, 5, "left")]  # corridors: robots are drawn
    env.reset(seed=3, options={"robots": robots})
    text = env.render()
    again = RobotsEnv(layout=text, render_mode="ansi")
    again.reset(seed=0)
    assert again.render() == text
    assert again.core.requested[0].sum() == 3
    image = RobotsEnv(size="tiny", render_mode="rgb_array")
    image.reset(seed=0)
    frame = image.render()
    assert frame.dtype == np.uint8 and frame.shape == (11 * 24, 10 * 24, 3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"size": "huge"}, "size"), ({"layout": "x.?\n..g"}, "unknown character"),
     ({"layout": "x.\n.."}, "goal"), ({"rules": "mine"}, "rules"), ({"reward": "x"}, "reward"),
     ({"n_robots": 0}, "n_robots"), ({"request_queue": 40}, "request_queue"),
     ({"difficulty": "brutal"}, "difficulty"), ({"render_mode": "human"}, "render_mode"),
     ({"layout": "x..\n..g"}, "rectangular") if False else ({"layout": "x..\nxg"}, "rectangular")],
)  # fmt: skip
def test_bad_arguments_raise_value_errors_naming_them(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RobotsEnv(**kwargs)


def test_bad_actions_raise_and_stepping_after_the_end_raises() -> None:
    env = RobotsEnv(max_steps=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="0-4"):
        env.step({"robot_0": 7, "robot_1": 0})
    env.step({})
    env.step({})
    with pytest.raises(ValueError, match="reset"):
        env.step({})
