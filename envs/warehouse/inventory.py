"""Inventory management of a serial supply chain: ``learnloop/Inventory-v0`` (Gymnasium) and
one agent per stage (PettingZoo ``InventoryStagesEnv``). The rules are ``envs.warehouse.supply``.

Presets ``orgym_v0`` / ``orgym_v1`` are OR-Gym's InvManagement-v0 (backlog) / -v1 (lost sales):
4 stages, initial stock 100/100/200, lead times 3/5/10, capacities 100/90/80, Poisson(20)
demand, 30 periods, price 2, costs 1.5/1.0/0.75/0.5, unfilled-order costs 0.10/0.075/0.05/0.025,
holding 0.15/0.10/0.05, discount 0.97. OR-Gym no longer installs with Gymnasium; its defects,
fixed here:

- ``np.Inf`` (gone in NumPy 2) and the old gym API (no ``reset(seed=...)``, 4-tuple steps);
- demand from NumPy's global RNG, seeded once per process with ``seed_int=0``: every instance
  saw the same demand and ``reset`` never reseeded. Here each episode's demand is drawn at
  reset from the env's ``np_random``, so one seed gives one demand path whatever the actions
  (common random numbers for comparing policies);
- the observation omitted every backlog, so the agent could not see what it owed;
- its "pipeline" was the last ``max(L)`` *ordered* quantities for every stage, not what was
  shipped (after capacity and stock limits, with re-ordered backlog) nor per-stage lead times.
  Here it is the shipments in transit, per stage and arrival period;
- ``base_stock_action`` crashed (it read the return of a function that returns None);
- ``assert np.all(I0) >= 0`` never caught negative stocks; the observation space was int32
  while observations were float64. Bad arguments here raise ValueError naming them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from envs.warehouse.supply import SupplyChains, observe_into

ORGYM = {
    "initial_stock": (100, 100, 200),
    "price": 2.0,
    "cost": (1.5, 1.0, 0.75, 0.5),
    "unfilled_cost": (0.10, 0.075, 0.05, 0.025),
    "holding_cost": (0.15, 0.10, 0.05),
    "capacity": (100, 90, 80),
    "lead_time": (3, 5, 10),
    "demand": "poisson",
    "demand_params": {"mu": 20.0},
    "periods": 30,
    "discount": 0.97,
}
PRESETS = {
    "orgym_v0": {**ORGYM, "backlog": True},
    "orgym_v1": {**ORGYM, "backlog": False},
}
DEMANDS = ("poisson", "binomial", "uniform", "geometric", "sequence")
ACTIONS = ("quantity", "scaled", "residual")


def useful_orders(sim: SupplyChains) -> np.ndarray:
    """(S,) bool: whether an order placed now by each stage can be sold within the horizon.

    An order of stage i placed in period n can first be sold in period ``n + lead_time[0] +
    ... + lead_time[i] + i``: each hop waits a period, as a supplier ships from the stock it
    had when the period began."""
    first_sale = sim.period + np.cumsum(sim.lead_time) + np.arange(sim.stages)
    return first_sale <= sim.periods - 1


def shippable(sim: SupplyChains) -> np.ndarray:
    """(B, S) the most each stage can order now and receive in full: its supplier's stock (the
    factory's is unlimited) up to the stage's capacity, less what the supplier still owes it.
    Asking for more only adds unfilled-order costs: in backlog mode the shortfall is ordered
    again next period anyway, in lost-sales mode it is lost."""
    supply = np.concatenate([sim.stock[:, 1:], np.full((sim.batch, 1), np.inf)], axis=1)
    return np.maximum(np.minimum(supply, sim.capacity) - sim.owed[:, 1:], 0.0)


def base_stock_orders(
    sim: SupplyChains, levels: np.ndarray, time_aware: bool = False, capped: bool = False
) -> np.ndarray:
    """(B, S) orders raising every stage's echelon position to its ``levels``.

    ``time_aware`` orders nothing that cannot be sold before the horizon (``useful_orders``);
    ``capped`` orders no more than ``shippable``: with both, this is the structure of Clark and
    Scarf's optimal policy for serial systems (echelon base-stock, limited by the upstream
    stock)."""
    wanted = np.maximum(levels - sim.echelon_position(), 0.0)
    if time_aware:
        wanted[:, ~useful_orders(sim)] = 0.0
    return np.minimum(wanted, shippable(sim)) if capped else wanted


def chain_settings(preset: str | None, overrides: dict[str, Any]) -> dict[str, Any]:
    """A preset updated by keyword overrides, checked; ValueError names a bad setting."""
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"preset must be one of {tuple(PRESETS)} or None, got {preset!r}")
    chain = dict(PRESETS[preset or "orgym_v0"])
    unknown = set(overrides) - set(chain)
    if unknown:
        raise ValueError(f"unknown supply chain settings: {sorted(unknown)}")
    chain.update(overrides)
    stages = len(chain["initial_stock"])
    lengths = {"cost": stages + 1, "unfilled_cost": stages + 1, "holding_cost": stages}
    lengths.update({"capacity": stages, "lead_time": stages})
    for name, length in lengths.items():
        if len(chain[name]) != length:
            raise ValueError(f"{name} needs {length} values, got {chain[name]!r}")
    for name in ("initial_stock", "cost", "unfilled_cost", "holding_cost", "lead_time"):
        if min(chain[name]) < 0:
            raise ValueError(f"{name} must not be negative, got {chain[name]!r}")
    if stages < 1 or min(chain["capacity"]) <= 0:
        raise ValueError(f"capacity must be positive, got {chain['capacity']!r}")
    if chain["demand"] not in DEMANDS:
        raise ValueError(f"demand must be one of {DEMANDS}, got {chain['demand']!r}")
    if not 0 < chain["discount"] <= 1 or chain["periods"] < 1:
        raise ValueError("discount must be in (0, 1] and periods >= 1")
    return chain


def draw_demand(chain: dict[str, Any], rng: np.random.Generator, paths: int) -> np.ndarray:
    """(paths, periods) customer demand from the chain's distribution."""
    kind, params, shape = chain["demand"], chain["demand_params"], (paths, chain["periods"])
    if kind == "poisson":
        return rng.poisson(params["mu"], size=shape).astype(np.float64)
    if kind == "binomial":
        return rng.binomial(params["n"], params["p"], size=shape).astype(np.float64)
    if kind == "uniform":  # scipy's randint: high is excluded
        return rng.integers(params["low"], params["high"], size=shape).astype(np.float64)
    if kind == "geometric":
        return rng.geometric(params["p"], size=shape).astype(np.float64)
    values = np.asarray(params["values"], dtype=np.float64)
    if values.shape != (chain["periods"],) or values.min() < 0:
        raise ValueError(f"demand values must be {chain['periods']} numbers >= 0")
    return np.broadcast_to(values, shape).copy()


class InventoryEnv(gym.Env):
    """Order stock along a serial supply chain to maximise discounted profit over a horizon.

    ## Actions
    ``action="quantity"``: Box(0, capacity) float32, units each stocking stage orders from its
    supplier (rounded down, as OR-Gym); ``action="scaled"``: Box(-1, 1), mapped linearly onto
    [0, capacity] (easier for Gaussian policies); ``action="residual"`` (residual policy
    learning, Silver et al. 2018): Box(-1, 1) times ``residual_scale`` units added to what the
    time-aware base-stock policy with echelon ``base_levels`` orders (``base_stock_orders``), so
    a zero action is that policy. ``cap_orders=True`` cuts every order to ``shippable``: what
    the supplier can ship now (ordering more only adds unfilled-order costs; the dynamics are
    unchanged, the agent just cannot ask for the excess).

    ## Observation
    float32: stock per stocking stage (S); owed quantities (S + 1: customers' backlog, then what
    each stage's supplier still owes it); shipments in transit per stage and arrival period
    (sum of lead times, soonest first); with ``observe_period``, the fraction of the horizon
    elapsed; with ``action="residual"``, the base-stock orders (S). ``normalize=True`` divides
    quantities by the largest capacity.

    ## Reward
    The period's discounted profit summed over stages (see ``envs.warehouse.supply``);
    ``info["stage_profit"]`` has the parts, ``info["service_level"]`` the units sold per unit
    demanded so far this episode.

    ## Episode end
    ``terminated`` after the last period (the problem ends there; nothing is cut off).

    ## Arguments
    ``preset`` (orgym_v0, orgym_v1), any supply chain setting as a keyword (``backlog``,
    ``lead_time``, ``demand``, ``demand_params`` ...), ``action``, ``observe_period``,
    ``normalize``, ``base_levels`` and ``residual_scale`` (residual actions), ``cap_orders``.
    ``reset(options={"demand": [...]})`` fixes the demand path.

    ## Version history
    v0: first version, OR-Gym InvManagement's dynamics with its defects fixed (module doc);
    later, residual actions and ``cap_orders`` (options; the defaults and dynamics unchanged).
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(
        self,
        preset: str | None = "orgym_v0",
        action: str = "quantity",
        observe_period: bool = False,
        normalize: bool = False,
        render_mode: str | None = None,
        base_levels: Sequence[float] | None = None,
        cap_orders: bool = False,
        residual_scale: float = 20.0,
        **settings: Any,
    ) -> None:
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}, got {action!r}")
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.chain = chain_settings(preset, settings)
        self.sim = SupplyChains(self.chain)
        self.action_mode, self.observe_period = action, observe_period
        self.render_mode = render_mode
        self.base_levels = self._base_levels(action, base_levels)
        self.cap_orders, self.residual_scale = cap_orders, float(residual_scale)
        if action == "residual" and not residual_scale > 0:
            raise ValueError(f"residual_scale must be positive, got {residual_scale!r}")
        capacity = self.sim.capacity.astype(np.float32)
        self.scale = float(capacity.max()) if normalize else 1.0
        if action == "quantity":
            self.action_space = spaces.Box(np.zeros_like(capacity), capacity, dtype=np.float32)
        else:
            self.action_space = spaces.Box(-1.0, 1.0, (self.sim.stages,), np.float32)
        size = 2 * self.sim.stages + 1 + int(self.sim.lead_time.sum()) + int(observe_period)
        size += self.sim.stages if action == "residual" else 0
        self.observation_space = spaces.Box(0.0, math.inf, (size,), np.float32)

    def _base_levels(self, action: str, levels: Sequence[float] | None) -> np.ndarray | None:
        if action != "residual":
            return None
        found = np.asarray(levels if levels is not None else [], dtype=np.float64).reshape(-1)
        if found.shape != (self.sim.stages,) or not np.all(found >= 0):
            raise ValueError(
                f"action='residual' needs base_levels: {self.sim.stages} echelon levels >= 0, "
                f"got {levels!r}"
            )
        return found

    def base_orders(self) -> np.ndarray:
        """(S,) what the time-aware base-stock policy under residual actions orders now."""
        if self.base_levels is None:
            raise ValueError("base_orders() needs action='residual'")
        return base_stock_orders(self.sim, self.base_levels, True, self.cap_orders)[0]

    def orders(self, action: np.ndarray) -> np.ndarray:
        """Order quantities (units) for an action of this env's action space, now."""
        action = np.asarray(action, dtype=np.float64).reshape(1, self.sim.stages)
        if self.action_mode == "scaled":
            action = (np.clip(action, -1.0, 1.0) + 1.0) * (0.5 * self.sim.capacity)
        elif self.action_mode == "residual":
            adjustment = np.clip(action, -1.0, 1.0) * self.residual_scale
            action = np.maximum(self.base_orders() + adjustment, 0.0)
        return np.minimum(action, shippable(self.sim)) if self.cap_orders else action

    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict]:
        """Draw this episode's demand and start at the initial stocks."""
        super().reset(seed=seed)
        demand = (options or {}).get("demand")
        if demand is None:
            demand = draw_demand(self.chain, self.np_random, 1)
        else:
            demand = np.asarray(demand, dtype=np.float64).reshape(1, -1)
            if demand.shape[1] != self.sim.periods:
                raise ValueError(f"options['demand'] needs {self.sim.periods} values")
        self.sim.reset(demand)
        return self._observe(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        """One period: orders, arrivals, sales; returns the discounted profit."""
        if self.sim.period >= self.sim.periods:
            raise ValueError("step() after the horizon; call reset() first")
        profit = self.sim.step(self.orders(action))[0]
        demanded, sold = self.sim.totals[0, :2].tolist()
        info = {
            "stage_profit": profit.copy(),
            "service_level": sold / demanded if demanded else 1.0,
        }
        terminated = self.sim.period >= self.sim.periods
        return self._observe(), float(profit.sum()), terminated, False, info

    def _observe(self) -> np.ndarray:
        sim, obs = self.sim, np.empty(self.observation_space.shape, dtype=np.float32)
        observe_into(
            sim.period, sim.periods, sim.stock, sim.owed, sim.shipped, sim.lead_time,
            self.scale, self.observe_period, obs,
        )  # fmt: skip
        if self.base_levels is not None:
            obs[-self.sim.stages :] = self.base_orders() / self.scale
        return obs

    def render(self) -> str | None:
        """``ansi``: one line per stage with stock, what it is owed, and goods in transit."""
        if self.render_mode is None:
            return None
        sim, lines = self.sim, [f"period {self.sim.period}/{self.sim.periods}"]
        transit = sim.in_transit_total()[0]
        for i in range(sim.stages):
            lines.append(
                f"stage {i}: stock {sim.stock[0, i]:.0f}, owed to it {sim.owed[0, i + 1]:.0f}, "
                f"in transit {transit[i]:.0f}"
            )
        lines.append(f"customer backlog {sim.owed[0, 0]:.0f}")
        return "\n".join(lines)


class InventoryStagesEnv(ParallelEnv):
    """The supply chain with one agent per stocking stage, ``stage_0`` (retailer) upwards.

    Each agent orders from its own supplier: ``Box(0, capacity_i, (1,))`` (or ``(-1, 1)`` with
    ``action="scaled"``). It sees its stock, what it owes downstream, what its supplier owes
    it, its supplier's stock (0 for the factory), its shipments in transit (padded to the
    longest lead time, soonest first) and, with ``observe_period``, the horizon elapsed.
    ``reward="global"`` gives every agent the chain's profit; ``"stage"`` each its own (the
    factory's share goes to the last stage, which orders from it). All agents terminate
    together after the last period. Other arguments as ``InventoryEnv``.
    """

    metadata = {"name": "inventory_stages_v0", "render_modes": []}

    def __init__(
        self,
        preset: str | None = "orgym_v0",
        action: str = "quantity",
        observe_period: bool = False,
        normalize: bool = False,
        reward: str = "global",
        **settings: Any,
    ) -> None:
        if reward not in ("global", "stage"):
            raise ValueError(f"reward must be 'global' or 'stage', got {reward!r}")
        self.chain_env = InventoryEnv(preset, action, observe_period, normalize, **settings)
        sim = self.chain_env.sim
        self.reward_mode = reward
        self.possible_agents = [f"stage_{i}" for i in range(sim.stages)]
        self.agents: list[str] = []
        self.longest = int(sim.lead_time.max()) if sim.stages else 0
        size = 4 + self.longest + int(observe_period)
        self._observation_space = spaces.Box(0.0, math.inf, (size,), np.float32)
        whole = self.chain_env.action_space
        self._action_spaces = {
            a: spaces.Box(whole.low[i : i + 1], whole.high[i : i + 1], dtype=np.float32)
            for i, a in enumerate(self.possible_agents)
        }

    def observation_space(self, agent: str) -> spaces.Box:
        """Every stage's observation space (one shared object)."""
        return self._observation_space

    def action_space(self, agent: str) -> spaces.Box:
        """The order space of ``agent``'s stage."""
        return self._action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        """Draw the demand path and start every stage at its initial stock."""
        self.chain_env.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        return self._observe(), {a: {} for a in self.agents}

    def step(self, actions: dict[str, np.ndarray]) -> tuple[dict, dict, dict, dict, dict]:
        """All stages order at once; a missing stage orders nothing."""
        if not self.agents:
            raise ValueError("step() after the horizon; call reset() first")
        low = self.chain_env.action_space.low
        joint = np.array(
            [np.asarray(actions.get(a, low[i])).reshape(-1)[0] for i, a in enumerate(self.agents)]
        )
        _, total, terminated, _, info = self.chain_env.step(joint)
        parts = info["stage_profit"]
        if self.reward_mode == "global":
            rewards = dict.fromkeys(self.agents, total)
        else:
            own = parts[:-1].copy()
            own[-1] += parts[-1]
            rewards = dict(zip(self.agents, own.tolist(), strict=True))
        agents = self.agents
        if terminated:
            self.agents = []
        observations = self._observe(agents)
        infos = {a: {"service_level": info["service_level"]} for a in agents}
        return (
            observations, rewards, dict.fromkeys(agents, terminated),
            dict.fromkeys(agents, False), infos,
        )  # fmt: skip

    def _observe(self, agents: list[str] | None = None) -> dict[str, np.ndarray]:
        env = self.chain_env
        sim, scale = env.sim, env.scale
        pipeline, start, out = sim.pipeline()[0], 0, {}
        for i, agent in enumerate(self.possible_agents):
            lead = int(sim.lead_time[i])
            obs = np.zeros(self._observation_space.shape, dtype=np.float32)
            supplier = sim.stock[0, i + 1] if i + 1 < sim.stages else 0.0
            obs[:4] = (sim.stock[0, i], sim.owed[0, i], sim.owed[0, i + 1], supplier)
            obs[4 : 4 + lead] = pipeline[start : start + lead]
            obs[: 4 + self.longest] /= scale
            if env.observe_period:
                obs[-1] = sim.period / sim.periods
            start += lead
            out[agent] = obs
        return {a: out[a] for a in (self.agents if agents is None else agents)}
