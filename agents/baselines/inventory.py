"""Baselines for the inventory env: base-stock (static and time-aware), (s, S), and rollout
(one step of policy iteration on a base-stock policy).

Policies read the simulator (``env.unwrapped.sim``, a ``SupplyChains`` batch) and order for
every path at once, so they are evaluated on many demand paths in one lockstep simulation.
Levels are **echelon** levels: stage ``i`` orders up to ``levels[i]`` counted over its echelon
(stock and transit of stages 0..i, plus what its supplier still owes it, minus customer
backlog; ``SupplyChains.echelon_position``).

Tuning uses common random numbers: every candidate is scored on the same demand paths (the
paths ``InventoryEnv.reset(seed=s)`` draws for the training seeds), so differences between
candidates are differences between policies, not between demand draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.utils import seeding

from envs.warehouse.inventory import base_stock_orders, draw_demand, shippable
from envs.warehouse.supply import SupplyChains


class BaseStockPolicy:
    """Order up to echelon ``levels``; ``time_aware`` stops orders that cannot reach a
    customer before the horizon; ``capped`` asks no more than the supplier can ship
    (``envs.warehouse.inventory.base_stock_orders``, the rule residual actions adjust)."""

    def __init__(
        self, levels: Sequence[float], time_aware: bool = False, capped: bool = False
    ) -> None:
        self.levels = np.asarray(levels, dtype=np.float64)
        self.time_aware, self.capped = time_aware, capped

    def orders(self, sim: SupplyChains) -> np.ndarray:
        """(B, S) orders for the current period of every path."""
        return base_stock_orders(sim, self.levels, self.time_aware, self.capped)


class SsPolicy:
    """(s, S): when the echelon position of stage i is at or below ``s[i]``, order up to
    ``S[i]``; otherwise order nothing."""

    def __init__(self, reorder: Sequence[float], order_up_to: Sequence[float]) -> None:
        self.reorder = np.asarray(reorder, dtype=np.float64)
        self.order_up_to = np.maximum(np.asarray(order_up_to, dtype=np.float64), self.reorder)

    def orders(self, sim: SupplyChains) -> np.ndarray:
        """(B, S) orders for the current period of every path."""
        position = sim.echelon_position()
        return np.where(position <= self.reorder, self.order_up_to - position, 0.0)


class RolloutPolicy:
    """One step of policy iteration on ``base`` (rollout, Bertsekas): each period and path,
    try ``base``'s orders shifted by every combination of ``adjustments`` (units per stage; cut
    to what the supplier can ship when ``base`` is capped), score each by the mean profit of
    following ``base`` from then on over ``futures`` demand continuations drawn from the
    chain's distribution (the same continuations for every candidate: common random numbers),
    and order the best. With exact scores it never does worse than ``base``; when it does no
    better either, no local change of ``base``'s orders pays, which measures how close
    ``base`` is to optimal. Costs ``len(adjustments) ** stages * futures`` simulated
    continuations per decision (about 3 s per 30-period path with the defaults)."""

    def __init__(
        self,
        chain: dict[str, Any],
        base: BaseStockPolicy,
        adjustments: Sequence[float] = (-15, -5, 0, 5, 15),
        futures: int = 256,
        seed: int = 0,
    ) -> None:
        if 0 not in adjustments or futures < 1:
            raise ValueError(
                f"adjustments must include 0 and futures must be >= 1, got {adjustments!r}, "
                f"{futures!r}"
            )
        stages = len(chain["initial_stock"])
        grid = np.meshgrid(*[np.asarray(adjustments, dtype=np.float64)] * stages, indexing="ij")
        self.shifts = np.stack([g.ravel() for g in grid], axis=1)
        self.chain, self.base, self.futures = chain, base, futures
        self.rng = np.random.default_rng(seed)

    def orders(self, sim: SupplyChains) -> np.ndarray:
        """(B, S) the best candidate orders of every path, one lookahead per path."""
        planned, limit = self.base.orders(sim), shippable(sim)
        return np.stack([self._best(sim, k, planned[k], limit[k]) for k in range(sim.batch)])

    def _best(
        self, sim: SupplyChains, path: int, planned: np.ndarray, limit: np.ndarray
    ) -> np.ndarray:
        candidates = np.maximum(planned + self.shifts, 0.0)
        if self.base.capped:
            candidates = np.minimum(candidates, limit)
        candidates = np.unique(np.floor(candidates), axis=0)  # orders are whole units
        count, futures = len(candidates), self.futures
        continuations = draw_demand(self.chain, self.rng, futures)
        trial = sim.branch(path, count * futures, np.tile(continuations, (count, 1)))
        value = trial.step(np.repeat(candidates, futures, axis=0)).sum(axis=1)
        while trial.period < trial.periods:
            value += trial.step(self.base.orders(trial)).sum(axis=1)
        return candidates[np.argmax(value.reshape(count, futures).mean(axis=1))]


def demand_paths(chain: dict[str, Any], seeds: Sequence[int]) -> np.ndarray:
    """(len(seeds), periods) demand: what ``InventoryEnv.reset(seed=s)`` draws for each seed."""
    return np.concatenate([draw_demand(chain, seeding.np_random(int(s))[0], 1) for s in seeds])


def evaluate(chain: dict[str, Any], policy: Any, demand: np.ndarray) -> dict[str, np.ndarray]:
    """Run ``policy`` on every demand path; per-path returns and service levels."""
    sim = SupplyChains(chain, batch=len(demand))
    sim.reset(demand)
    returns = np.zeros(len(demand))
    for _ in range(sim.periods):
        returns += sim.step(policy.orders(sim)).sum(axis=1)
    service = sim.totals[:, 1] / np.maximum(sim.totals[:, 0], 1e-9)
    return {"return": returns, "service_level": service}


def _pattern_search(score: Any, start: np.ndarray, steps: Sequence[int]) -> np.ndarray:
    """Integer coordinate search: try +/- each step on each coordinate while it improves."""
    best, best_score = start.copy(), score(start)
    for step in steps:
        improved = True
        while improved:
            improved = False
            for i in range(len(best)):
                for sign in (1, -1):
                    candidate = best.copy()
                    candidate[i] = max(0.0, candidate[i] + sign * step)
                    value = score(candidate)
                    if value > best_score + 1e-9:
                        best, best_score, improved = candidate, value, True
    return best


def tune_base_stock(
    chain: dict[str, Any], seeds: Sequence[int], time_aware: bool = False, capped: bool = False
) -> BaseStockPolicy:
    """Echelon levels maximising the mean return on ``seeds``' demand paths."""
    demand = demand_paths(chain, seeds)
    mean_demand = float(demand.mean())
    cover = np.cumsum(chain["lead_time"]) + np.arange(1, len(chain["lead_time"]) + 1)
    start = np.round(mean_demand * cover)

    def score(levels: np.ndarray) -> float:
        policy = BaseStockPolicy(levels, time_aware, capped)
        return float(evaluate(chain, policy, demand)["return"].mean())

    return BaseStockPolicy(_pattern_search(score, start, (32, 8, 2, 1)), time_aware, capped)


def tune_s_s(chain: dict[str, Any], seeds: Sequence[int], start: BaseStockPolicy) -> SsPolicy:
    """(s, S) levels maximising the mean return, starting from a tuned base-stock policy."""
    demand = demand_paths(chain, seeds)
    stages = len(start.levels)

    def score(params: np.ndarray) -> float:
        policy = SsPolicy(params[:stages], params[stages:])
        return float(evaluate(chain, policy, demand)["return"].mean())

    params = np.concatenate([start.levels - 1, start.levels])
    params = _pattern_search(score, params, (16, 4, 1))
    return SsPolicy(params[:stages], params[stages:])


def tuned_baselines(chain: dict[str, Any], seeds: Sequence[int]) -> dict[str, Any]:
    """Every baseline policy, tuned on ``seeds``' demand paths, by the name reports use."""
    static = tune_base_stock(chain, seeds)
    return {
        "base_stock": static,
        "time_aware_base_stock": tune_base_stock(chain, seeds, time_aware=True),
        "capped_base_stock": tune_base_stock(chain, seeds, True, capped=True),
        "s_S": tune_s_s(chain, seeds, static),
    }


def perfect_information_bound(chain: dict[str, Any], demand: np.ndarray) -> np.ndarray:
    """(paths,) the most any policy could earn on each demand path if it knew the path in
    advance: a linear program over shipments and sales (orders not rounded down, no unfilled
    orders between stages). An upper bound on every policy's profit, path by path; the gap to
    the best policy is the price of not knowing the demand plus the bound's slack."""
    from scipy.optimize import linprog

    periods, stages = demand.shape[1], len(chain["initial_stock"])
    lead, initial = np.asarray(chain["lead_time"]), np.asarray(chain["initial_stock"], float)
    ships, size = periods * stages, periods * stages + periods  # x[n, i] then sold[n]
    upto = np.tril(np.ones((periods, periods)))  # upto[n, k]: k <= n
    stock = []  # stock[i] @ v + initial[i]: stage i's stock at the end of each period
    for i in range(stages):
        rows = np.zeros((periods, size))
        rows[:, i:ships:stages] = np.tril(np.ones((periods, periods)), -int(lead[i]))
        outgoing = slice(ships, size) if i == 0 else slice(i - 1, ships, stages)
        rows[:, outgoing] -= upto
        stock.append(rows)
    factor = chain["discount"] ** np.arange(periods)
    gain = np.zeros(size)
    gain[ships:] = chain["price"] * factor
    gain[stages - 1 : ships : stages] -= chain["cost"][-1] * factor
    for i in range(stages):
        gain -= chain["holding_cost"][i] * factor @ stock[i]
    unfilled = chain["unfilled_cost"][0]
    # backlog: each period's backlog costs; a sale in period k clears it from period k on
    gain[ships:] += unfilled * (upto.T @ factor if chain["backlog"] else factor)
    limits = [-s for s in stock]
    for i in range(stages - 1):  # a supplier ships from the stock it had when the period began
        rows = np.zeros((periods, size))
        rows[:, i:ships:stages] = np.eye(periods)
        rows[1:] -= stock[i + 1][:-1]
        limits.append(rows)
    bounds_ships = [(0, c) for _ in range(periods) for c in chain["capacity"]]
    found = []
    for path in demand:
        rhs = [initial[i] * np.ones(periods) for i in range(stages)]
        rhs += [initial[i + 1] * np.ones(periods) for i in range(stages - 1)]
        matrix, bounds = np.vstack(limits), bounds_ships + [(0, None)] * periods
        if chain["backlog"]:
            matrix = np.vstack([matrix, np.hstack([np.zeros((periods, ships)), upto])])
            rhs.append(np.cumsum(path))
            cost = unfilled * factor @ np.cumsum(path)
        else:
            bounds = bounds_ships + [(0, d) for d in path]
            cost = unfilled * factor @ path
        constant = sum(chain["holding_cost"][i] * initial[i] * factor.sum() for i in range(stages))
        result = linprog(-gain, A_ub=matrix, b_ub=np.concatenate(rhs), bounds=bounds)
        found.append(-result.fun - cost - constant)
    return np.array(found)
