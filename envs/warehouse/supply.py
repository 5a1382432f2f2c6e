"""A serial multi-echelon supply chain, simulated for B demand paths at once.

Vocabulary. Stage 0 is the retailer and sells to customers; stage ``i`` orders from stage
``i + 1``; the last stage (the factory) has unlimited raw material and no stock of its own.
``S`` stocking stages hold inventory and place orders; with the factory that makes ``S + 1``
stages, OR-Gym's ``m``. A **shipment** leaves the supplier's stock in the period it is ordered
and arrives ``lead_time[i]`` periods later. **Owed** quantities are unfilled orders (backlog
mode: customers' and downstream stages' orders still to fill; lost-sales mode: none, as
unfilled orders vanish at a goodwill cost).

One period, in OR-Gym InvManagement's order:

1. every stocking stage orders; with backlog, what its supplier still owes it is ordered again;
   the supplier ships ``min(order, capacity, the supplier's stock at the start of the period)``
2. shipments ordered ``lead_time`` periods ago arrive
3. customer demand (plus customer backlog) is met from the retailer's stock
4. unfilled orders are backlogged or lost; stocks left over pay holding costs

Profit of stage ``m`` in period ``n``: ``discount**n * (price_m * sold_m - cost_m * bought_m -
unfilled_cost_m * unfilled_m - holding_m * stock_m)``, where stage ``m`` sells at the cost its
customer pays (the retailer at ``price``) and the factory buys raw material at ``cost[-1]``.
The rewards are the sum over stages, so internal transfers cancel.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def advance(
    period, orders, stock, shipped, owed, demand, capacity, lead_time, price, cost,
    unfilled_cost, holding, backlog, discount, stage_profit, totals,
):  # fmt: skip
    """One period of every path; False (and nothing changed) if an order is not finite.

    ``totals[k]`` accumulates (demand, sold, produced, lost)."""
    paths, stages = stock.shape
    for k in range(paths):
        for i in range(stages):
            if not np.isfinite(orders[k, i]):
                return False
    factor = discount**period
    bought = np.empty(stages + 1)
    asked = np.empty(stages + 1)
    for k in range(paths):
        for i in range(stages):
            ask = np.floor(max(orders[k, i], 0.0))  # OR-Gym orders whole units
            if backlog:
                ask += owed[k, i + 1]
            supply = stock[k, i + 1] if i + 1 < stages else np.inf
            shipped[k, period, i] = min(ask, capacity[i], supply)
            asked[i + 1], bought[i] = ask, shipped[k, period, i]
        bought[stages] = bought[stages - 1]  # the factory buys what it ships, as raw material
        for i in range(stages):
            if period - lead_time[i] >= 0:
                stock[k, i] += shipped[k, period - lead_time[i], i]
        wanted = demand[k, period] + (owed[k, 0] if backlog else 0.0)
        sold = min(stock[k, 0], wanted)
        stock[k, 0] -= sold
        for i in range(stages - 1):
            stock[k, i + 1] -= bought[i]
        asked[0] = wanted
        totals[k, 0] += demand[k, period]
        totals[k, 1] += sold
        totals[k, 2] += bought[stages - 1]
        for m in range(stages + 1):
            sales = sold if m == 0 else bought[m - 1]
            unfilled = asked[m] - sales
            owed[k, m] = unfilled if backlog else 0.0
            if not backlog:
                totals[k, 3] += unfilled
            held = stock[k, m] if m < stages else 0.0
            stage_profit[k, m] = factor * (
                price[m] * sales - cost[m] * bought[m] - unfilled_cost[m] * unfilled
                - holding[m] * held
            )  # fmt: skip
    return True


@numba.njit(cache=True)
def in_transit(period, shipped, lead_time, out):
    """Shipments on their way at the start of ``period``: for stage i, ``lead_time[i]`` slots,
    the first arriving this period. ``out`` is (B, sum(lead_time))."""
    paths = shipped.shape[0]
    for k in range(paths):
        slot = 0
        for i in range(lead_time.shape[0]):
            for d in range(lead_time[i]):
                source = period - lead_time[i] + d
                out[k, slot] = shipped[k, source, i] if source >= 0 else 0.0
                slot += 1


@numba.njit(cache=True)
def observe_into(period, periods, stock, owed, shipped, lead_time, scale, with_period, out):
    """Path 0's observation: stock, owed, in transit (divided by ``scale``), then the period."""
    stages = stock.shape[1]
    for i in range(stages):
        out[i] = stock[0, i] / scale
    for m in range(stages + 1):
        out[stages + m] = owed[0, m] / scale
    slot = 2 * stages + 1
    for i in range(stages):
        for d in range(lead_time[i]):
            source = period - lead_time[i] + d
            out[slot] = (shipped[0, source, i] if source >= 0 else 0.0) / scale
            slot += 1
    if with_period:
        out[slot] = period / periods


class SupplyChains:
    """B demand paths of one supply chain, advanced in lockstep (see the module docstring)."""

    def __init__(self, chain: dict, batch: int = 1) -> None:
        self.chain, self.batch = chain, batch
        self.stages = len(chain["initial_stock"])
        self.periods = chain["periods"]
        self.capacity = np.asarray(chain["capacity"], dtype=np.float64)
        self.lead_time = np.asarray(chain["lead_time"], dtype=np.int64)
        self.price = np.concatenate([[chain["price"]], chain["cost"][:-1]]).astype(np.float64)
        self.cost = np.asarray(chain["cost"], dtype=np.float64)
        self.unfilled_cost = np.asarray(chain["unfilled_cost"], dtype=np.float64)
        self.holding = np.append(chain["holding_cost"], 0.0).astype(np.float64)
        self.stock = np.zeros((batch, self.stages))
        self.shipped = np.zeros((batch, self.periods, self.stages))
        self.owed = np.zeros((batch, self.stages + 1))
        self.demand = np.zeros((batch, self.periods))
        self.stage_profit = np.zeros((batch, self.stages + 1))
        self.totals = np.zeros((batch, 4))
        self.period = 0

    def reset(self, demand: np.ndarray) -> None:
        """Start every path afresh with its (B, periods) demand."""
        self.stock[:] = self.chain["initial_stock"]
        self.shipped[:] = 0.0
        self.owed[:] = 0.0
        self.demand[:] = demand
        self.totals[:] = 0.0
        self.period = 0

    def branch(self, path: int, copies: int, demand: np.ndarray) -> SupplyChains:
        """A new batch of ``copies`` paths, each in path ``path``'s current state, that will
        meet ``demand`` ((copies, periods); the periods already played are ignored): the
        simulations a lookahead policy runs from where it stands."""
        if not 0 <= path < self.batch:
            raise ValueError(f"path must be in [0, {self.batch}), got {path}")
        branched = SupplyChains(self.chain, copies)
        for name in ("stock", "shipped", "owed", "totals"):
            getattr(branched, name)[:] = getattr(self, name)[path]
        branched.demand[:] = demand
        branched.demand[:, : self.period] = self.demand[path, : self.period]
        branched.period = self.period
        return branched

    def step(self, orders: np.ndarray) -> np.ndarray:
        """Advance one period with (B, S) orders; returns the (B, S + 1) stage profits."""
        if self.period >= self.periods:
            raise ValueError(f"the horizon of {self.periods} periods is over; reset first")
        finite = advance(
            self.period, np.asarray(orders, dtype=np.float64), self.stock, self.shipped,
            self.owed, self.demand, self.capacity, self.lead_time, self.price, self.cost,
            self.unfilled_cost, self.holding, self.chain["backlog"], self.chain["discount"],
            self.stage_profit, self.totals,
        )  # fmt: skip
        if not finite:
            raise ValueError(f"orders must be finite numbers, got {orders!r}")
        self.period += 1
        return self.stage_profit

    def pipeline(self) -> np.ndarray:
        """(B, sum(lead_time)) shipments in transit, per stage and arrival period."""
        out = np.zeros((self.batch, int(self.lead_time.sum())))
        in_transit(self.period, self.shipped, self.lead_time, out)
        return out

    def in_transit_total(self) -> np.ndarray:
        """(B, S) units in transit to each stage."""
        out, start = np.zeros((self.batch, self.stages)), 0
        pipeline = self.pipeline()
        for i, lead in enumerate(self.lead_time):
            out[:, i] = pipeline[:, start : start + lead].sum(axis=1)
            start += lead
        return out

    def echelon_position(self) -> np.ndarray:
        """(B, S) echelon inventory positions: stock and transit of stages 0..i, plus what
        stage i's supplier still owes it, minus customer backlog."""
        local = self.stock + self.in_transit_total()
        return np.cumsum(local, axis=1) + self.owed[:, 1:] - self.owed[:, :1]
