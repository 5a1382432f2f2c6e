"""Inventory action options: residual actions on top of base-stock, and orders cut to supply."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from agents.baselines import inventory as stock
from envs.warehouse.inventory import PRESETS, InventoryEnv, shippable

LEVELS = [90, 209, 417]  # capped time-aware levels tuned on seeds 20000-20099 (orgym_v0)


def play(env: InventoryEnv, policy, seeds: range) -> np.ndarray:
    returns = []
    for seed in seeds:
        env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            _, reward, done, _, _ = env.step(policy(env))
            total += reward
        returns.append(total)
    return np.array(returns)


@pytest.mark.parametrize("preset", ["orgym_v0", "orgym_v1"])
@pytest.mark.parametrize("cap", [False, True])
def test_zero_residual_is_the_time_aware_base_stock_policy(preset: str, cap: bool) -> None:
    env = InventoryEnv(preset, action="residual", base_levels=LEVELS, cap_orders=cap)
    found = play(env, lambda env: np.zeros(3, dtype=np.float32), range(20))
    policy = stock.BaseStockPolicy(LEVELS, time_aware=True, capped=cap)
    expected = stock.evaluate(
        PRESETS[preset], policy, stock.demand_paths(PRESETS[preset], range(20))
    )
    np.testing.assert_array_equal(found, expected["return"])


def test_residual_actions_add_scaled_units_and_observe_the_base_orders() -> None:
    env = InventoryEnv(action="residual", base_levels=LEVELS, residual_scale=10, normalize=True)
    check_env(env)
    obs, _ = env.reset(seed=0)
    base = env.base_orders()
    np.testing.assert_allclose(obs[-3:], base / 100)
    np.testing.assert_allclose(env.orders(np.array([1.0, -0.5, 0.0])), [base + [10, -5, 0]])
    np.testing.assert_allclose(env.orders(np.full(3, -1.0)), [np.maximum(base - 10, 0)])


def test_residual_actions_need_base_levels_and_a_positive_scale() -> None:
    with pytest.raises(ValueError, match="base_levels"):
        InventoryEnv(action="residual")
    with pytest.raises(ValueError, match="base_levels"):
        InventoryEnv(action="residual", base_levels=[1, 2])
    with pytest.raises(ValueError, match="residual_scale"):
        InventoryEnv(action="residual", base_levels=LEVELS, residual_scale=0)
    with pytest.raises(ValueError, match="residual"):
        InventoryEnv().base_orders()


def test_capped_orders_never_leave_a_supplier_owing() -> None:
    env = InventoryEnv(cap_orders=True)
    rng = np.random.default_rng(0)
    for seed in range(5):
        env.reset(seed=seed)
        for _ in range(30):
            action = rng.uniform(0, 100, size=3).astype(np.float32)
            limit = shippable(env.sim)[0]
            assert (env.orders(action)[0] <= limit).all()
            env.step(action)
            assert (env.sim.owed[0, 1:] == 0).all()  # no unfilled internal orders, no costs


def test_capping_beats_the_plain_time_aware_policy() -> None:
    chain, demand = PRESETS["orgym_v0"], stock.demand_paths(PRESETS["orgym_v0"], range(100))
    plain = stock.evaluate(chain, stock.BaseStockPolicy(LEVELS, True), demand)["return"]
    capped = stock.evaluate(chain, stock.BaseStockPolicy(LEVELS, True, True), demand)["return"]
    assert capped.mean() == pytest.approx(530.8, abs=0.1)
    assert capped.mean() > plain.mean() + 10
