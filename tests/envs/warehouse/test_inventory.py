"""The inventory env: OR-Gym fidelity, stock conservation, cost accounting, API compliance."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test

import envs  # noqa: F401 - registers learnloop/Inventory-v0
from envs.warehouse.inventory import InventoryEnv, InventoryStagesEnv
from tests.envs.warehouse.orgym_reference import OrGymInvManagement


def random_orders(rng: np.random.Generator) -> np.ndarray:
    return (rng.uniform(0, 120, size=3) * (rng.random(3) < 0.7)).astype(np.float32)


@pytest.mark.parametrize("preset", ["orgym_v0", "orgym_v1"])
def test_periods_match_a_transcription_of_orgym(preset: str) -> None:
    rng = np.random.default_rng(0)
    for seed in range(40):
        env = InventoryEnv(preset)
        env.reset(seed=seed)
        reference = OrGymInvManagement(backlog=preset == "orgym_v0")
        for n in range(30):
            action = random_orders(rng)
            expected = reference.step(action.astype(np.float64), env.sim.demand[0, n])
            _, reward, terminated, truncated, _ = env.step(action)
            assert reward == pytest.approx(expected, abs=1e-9)
            np.testing.assert_allclose(env.sim.stock[0], reference.I[n + 1])
            np.testing.assert_allclose(env.sim.in_transit_total()[0], reference.T[n + 1])
            np.testing.assert_allclose(env.sim.owed[0], reference.B[n])
            assert terminated == (n == 29) and not truncated


@pytest.mark.parametrize("backlog", [True, False])
def test_units_are_conserved(backlog: bool) -> None:
    env = InventoryEnv(backlog=backlog, lead_time=(0, 2, 4))
    rng = np.random.default_rng(1)
    for seed in range(20):
        env.reset(seed=seed)
        start = env.sim.stock.sum()
        for _ in range(30):
            env.step(random_orders(rng))
            demanded, sold, produced, lost = env.sim.totals[0]
            on_hand = env.sim.stock.sum() + env.sim.in_transit_total().sum()
            assert on_hand + sold == pytest.approx(start + produced)
            assert (env.sim.stock >= 0).all() and sold <= demanded
            if backlog:
                assert lost == 0 and sold + env.sim.owed[0, 0] == pytest.approx(demanded)
            else:
                assert (env.sim.owed == 0).all()


def test_profit_is_revenue_less_raw_material_unfilled_and_holding_costs() -> None:
    env = InventoryEnv("orgym_v0")
    env.reset(seed=3)
    rng = np.random.default_rng(3)
    for n in range(30):
        before = env.sim.totals[0].copy()
        _, reward, _, _, info = env.step(random_orders(rng))
        sold, produced = env.sim.totals[0, 1:3] - before[1:3]
        owed, stock = env.sim.owed[0], env.sim.stock[0]
        costs = 0.5 * produced + np.dot([0.10, 0.075, 0.05, 0.025], owed)
        costs += np.dot([0.15, 0.10, 0.05], stock)
        assert reward == pytest.approx(0.97**n * (2.0 * sold - costs))
        assert info["stage_profit"].sum() == pytest.approx(reward)


def test_same_seed_same_demand_whatever_the_orders() -> None:
    env = InventoryEnv()
    env.reset(seed=5)
    first = env.sim.demand.copy()
    env.step(np.zeros(3, dtype=np.float32))
    env.reset(seed=5)
    np.testing.assert_array_equal(env.sim.demand, first)
    assert abs(first.mean() - 20) < 5
    env.reset(options={"demand": np.arange(30)})
    np.testing.assert_array_equal(env.sim.demand[0], np.arange(30))


def test_gymnasium_checks_and_registered_id() -> None:
    check_env(InventoryEnv(action="scaled", normalize=True, observe_period=True))
    env = gym.make("learnloop/Inventory-v0")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3 + 4 + 18,) and obs[:3].tolist() == [100, 100, 200]
    env = InventoryEnv(observe_period=True, normalize=True)
    obs, _ = env.reset(seed=0)
    obs, *_ = env.step(np.full(3, 20, dtype=np.float32))
    assert obs[-1] == pytest.approx(1 / 30) and obs[0] <= 1.0


def test_scaled_actions_span_zero_to_capacity() -> None:
    env = InventoryEnv(action="scaled")
    np.testing.assert_allclose(env.orders(np.array([-1, 0, 1])), [[0, 45, 80]])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"preset": "v9"}, "preset"), ({"lead_time": (1, 2)}, "lead_time"),
     ({"initial_stock": (-1, 0, 0)}, "initial_stock"), ({"demand": "normal"}, "demand"),
     ({"action": "units"}, "action"), ({"capacity": (0, 1, 1)}, "capacity"),
     ({"colour": 1}, "unknown")],
)  # fmt: skip
def test_bad_settings_raise_value_errors_naming_them(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        InventoryEnv(**kwargs)


def test_bad_orders_and_steps_past_the_horizon_raise() -> None:
    env = InventoryEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="finite"):
        env.step(np.array([np.nan, 0, 0]))
    for _ in range(30):
        env.step(np.zeros(3))
    with pytest.raises(ValueError, match="reset"):
        env.step(np.zeros(3))


@pytest.mark.parametrize("kind", ["binomial", "uniform", "geometric"])
def test_other_demand_distributions(kind: str) -> None:
    params = {"binomial": {"n": 40, "p": 0.5}, "uniform": {"low": 10, "high": 31},
              "geometric": {"p": 0.05}}[kind]  # fmt: skip
    env = InventoryEnv(demand=kind, demand_params=params)
    env.reset(seed=0)
    assert 10 <= env.sim.demand.mean() <= 30


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_stages_env_passes_the_parallel_api_test_and_splits_profit() -> None:
    parallel_api_test(InventoryStagesEnv(observe_period=True), num_cycles=100)
    stages = InventoryStagesEnv(reward="stage")
    whole = InventoryEnv()
    stages.reset(seed=2)
    whole.reset(seed=2)
    orders = {"stage_0": [30.0], "stage_1": [25.0], "stage_2": [20.0]}
    _, rewards, *_ = stages.step(orders)
    _, total, *_ = whole.step(np.array([30.0, 25.0, 20.0]))
    assert sum(rewards.values()) == pytest.approx(total)
