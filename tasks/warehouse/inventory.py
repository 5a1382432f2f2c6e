"""warehouse_inventory: PPO on ``learnloop/Inventory-v0``; evaluated on discounted profit and
service level against base-stock (static, time-aware, and time-aware with orders capped at what
the supplier can ship) and (s, S) policies tuned by simulation with common random numbers, and
a perfect-information bound. With ``env.action=residual`` the agent learns adjustments to the
time-aware base-stock policy (residual policy learning), whose levels are tuned the same way
before training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tasks.config import EvalConfig, TaskConfig, describe, section
from tasks.runner.base import EvalResult, Task

INVENTORY_PLOT = "inventory.png"
TUNING_SEED = 20_000  # first demand path the inventory baselines are tuned on


@dataclass
class InventoryEnvConfig:
    """The supply chain (``learnloop/Inventory-v0``)."""

    preset: str = describe(
        "OR-Gym InvManagement settings: v0 backlogs unfilled orders, v1 loses them.",
        "orgym_v0",
        choices=("orgym_v0", "orgym_v1"),
    )
    observe_period: bool = describe("Observe the fraction of the horizon elapsed.", True)
    normalize: bool = describe("Divide observed quantities by the largest capacity.", True)
    action: str = describe(
        "Actions as units ordered, scaled to [-1, 1], or residual: [-1, 1] times residual_scale "
        "units added to the time-aware base-stock order.",
        "scaled",
        choices=("quantity", "scaled", "residual"),
    )
    base_levels: list[float] = describe(
        "Echelon levels of the base-stock policy residual actions adjust; [] tunes them by "
        "simulation on the eval.tuning_seeds paths.",
        factory=list,
    )
    cap_orders: bool = describe(
        "Cut orders to what the supplier can ship now (more only adds unfilled-order costs); "
        "the residual's base-stock levels are then tuned with the cut.",
        False,
    )
    residual_scale: float = describe("Units of order per unit of residual action.", 20.0, min=0.0)
    reward_scale: float = describe(
        "Training rewards are profits times this (evaluation reports profits).", 0.01, min=0.0
    )


@dataclass
class InventoryEvalConfig(EvalConfig):
    """Evaluation against base-stock and (s, S) policies on the same demand paths."""

    episodes: int = describe("Demand paths (seeds) in the final evaluation.", 100, min=1)
    tuning_seeds: int = describe(
        "Demand paths the baselines' levels are tuned on (common random numbers).", 100, min=1
    )


@dataclass
class InventoryPolicyConfig:
    """Policy network settings beyond algo.net_arch."""

    log_std_init: float = describe(
        "Initial log standard deviation of the Gaussian actions (scaled actions span 2).", -1.0
    )


@dataclass
class InventoryConfig(TaskConfig):
    """Config of the warehouse_inventory task."""

    env: InventoryEnvConfig = section(InventoryEnvConfig, "The supply chain.")
    eval: InventoryEvalConfig = section(InventoryEvalConfig, "Evaluation.")
    policy: InventoryPolicyConfig = section(InventoryPolicyConfig, "The policy network.")


class _Scale:
    """Multiply rewards by a constant (a class, not a lambda, so subprocess envs pickle)."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def __call__(self, reward: float) -> float:
        return reward * self.factor


class WarehouseInventoryTask(Task):
    """Order stock along a 4-stage supply chain; PPO against tuned base-stock policies."""

    name = "warehouse_inventory"
    config_cls = InventoryConfig

    def make_env(self, cfg: Any, index: int) -> Any:
        import gymnasium as gym

        env, scale = self.chain_env(cfg), cfg.env.reward_scale
        return env if scale == 1.0 else gym.wrappers.TransformReward(env, _Scale(scale))

    def chain_env(self, cfg: Any) -> Any:
        """The inventory env of the config, rewards unscaled."""
        from envs.warehouse.inventory import InventoryEnv

        env = cfg.env
        residual = env.action == "residual"
        return InventoryEnv(
            env.preset,
            action=env.action,
            observe_period=env.observe_period,
            normalize=env.normalize,
            base_levels=self.base_levels(cfg) if residual else None,
            cap_orders=env.cap_orders,
            residual_scale=env.residual_scale,
        )

    def base_levels(self, cfg: Any) -> list[float]:
        """env.base_levels, or time-aware base-stock levels tuned on the tuning seeds (once per
        setting: every env of a run shares them)."""
        from agents.baselines import inventory as baselines
        from envs.warehouse.inventory import PRESETS

        if cfg.env.base_levels:
            return list(cfg.env.base_levels)
        key = (cfg.env.preset, cfg.eval.tuning_seeds, cfg.env.cap_orders)
        tuned = self.__dict__.setdefault("tuned_levels", {})  # tuned once per setting
        if key not in tuned:
            seeds = range(TUNING_SEED, TUNING_SEED + cfg.eval.tuning_seeds)
            policy = baselines.tune_base_stock(
                PRESETS[cfg.env.preset], seeds, time_aware=True, capped=cfg.env.cap_orders
            )
            tuned[key] = policy.levels.tolist()
        return tuned[key]

    def policy_kwargs(self, cfg: Any) -> dict[str, Any]:
        return {"log_std_init": cfg.policy.log_std_init}

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:
        from agents.baselines import inventory as baselines

        seeds = [10_000 + cfg.seed * 1_000 + i for i in range(cfg.eval.episodes)]
        tuning = range(TUNING_SEED, TUNING_SEED + cfg.eval.tuning_seeds)
        env = self.chain_env(cfg)
        chain, demand = env.chain, baselines.demand_paths(env.chain, seeds)
        policies = baselines.tuned_baselines(chain, tuning)
        traces = {"trained": _new_trace(), "capped base-stock": _new_trace()}
        found = {"trained": self._play(cfg, agent, env, seeds, traces["trained"])}
        found.update({k: baselines.evaluate(chain, p, demand) for k, p in policies.items()})
        _trace_policy(chain, policies["capped_base_stock"], demand[0], traces["capped base-stock"])
        run.eval_dir.mkdir(parents=True, exist_ok=True)
        plot_inventory(traces, run.eval_dir / INVENTORY_PLOT)
        bound = float(baselines.perfect_information_bound(chain, demand).mean())
        rows = []
        for name, result in found.items():
            rows.append({
                "policy": name, "episodes": len(seeds),
                "profit_mean": float(np.mean(result["return"])),
                "profit_std": float(np.std(result["return"])),
                "service_level_mean": float(np.mean(result["service_level"])),
            })  # fmt: skip
        best = max(rows[1:], key=lambda row: row["profit_mean"])
        metrics = {
            "profit": rows[0]["profit_mean"],
            "service_level": rows[0]["service_level_mean"],
            **{f"baseline/{row['policy']}/profit": row["profit_mean"] for row in rows[1:]},
            **{
                f"baseline/{row['policy']}/service_level": row["service_level_mean"]
                for row in rows[1:]
            },
            "baseline/perfect_information/profit": bound,
            "beats_best_baseline": float(rows[0]["profit_mean"] > best["profit_mean"]),
        }
        levels = {
            k: np.asarray(getattr(p, "levels", getattr(p, "order_up_to", []))).tolist()
            for k, p in policies.items()
        }
        notes = [
            f"preset {cfg.env.preset}; profit is the episode's discounted profit; service level "
            "is units sold per unit demanded",
            f"baselines tuned on {cfg.eval.tuning_seeds} other demand paths; echelon levels "
            f"(order-up-to): {levels}; capped_base_stock is time-aware and orders no more than "
            "the supplier can ship (Clark and Scarf's structure)",
            f"perfect-information bound {bound:.1f}: a linear program that knows each demand "
            "path in advance; no policy earns more on a path, and the trained agent earns "
            f"{rows[0]['profit_mean'] / bound:.1%} of it",
        ]
        caption = (
            "The first evaluation path: customer demand and backlog, stock and orders per stage, "
            "for the trained agent (solid) and capped base-stock (dashed)"
        )
        images = [(caption, f"eval/{INVENTORY_PLOT}")]
        return EvalResult(metrics=metrics, tables={"policies": rows}, notes=notes, images=images)

    @staticmethod
    def _play(
        cfg: Any, agent: Any, env: Any, seeds: list[int], trace: dict[str, list]
    ) -> dict[str, np.ndarray]:
        """The agent on every seed's demand path; ``trace`` records the first path."""
        returns, service = [], []
        for i, seed in enumerate(seeds):
            obs, _ = env.reset(seed=seed)
            total, done, info = 0.0, False, {}
            while not done:
                action = agent.act(obs, deterministic=cfg.eval.deterministic)
                obs, reward, done, _, info = env.step(action)
                total += reward
                if i == 0:
                    _record(env.sim, trace)
            returns.append(total)
            service.append(info["service_level"])
        return {"return": np.array(returns), "service_level": np.array(service)}


def _new_trace() -> dict[str, list]:
    return {"stock": [], "backlog": [], "shipped": [], "demand": []}


def _record(sim: Any, trace: dict[str, list]) -> None:
    """Path 0 of ``sim`` after a period: stocks, customer backlog, shipments, demand."""
    period = sim.period - 1
    trace["stock"].append(sim.stock[0].copy())
    trace["backlog"].append(float(sim.owed[0, 0]))
    trace["shipped"].append(sim.shipped[0, period].copy())
    trace["demand"].append(float(sim.demand[0, period]))


def _trace_policy(chain: dict, policy: Any, demand: np.ndarray, trace: dict[str, list]) -> None:
    from envs.warehouse.supply import SupplyChains

    sim = SupplyChains(chain, batch=1)
    sim.reset(demand[None])
    while sim.period < sim.periods:
        sim.step(policy.orders(sim))
        _record(sim, trace)


def plot_inventory(traces: dict[str, dict[str, list]], path: Path) -> None:
    """Demand and backlog, stock per stage and orders shipped per stage, period by period: one
    line style per policy (the first solid), one colour per stage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(3, 1, figsize=(7.5, 7.5), sharex=True)
    styles = ["-", "--", ":"]
    demand = traces[next(iter(traces))]["demand"]
    periods = np.arange(1, len(demand) + 1)
    axes[0].bar(periods, demand, color="0.85", label="demand")
    for style, (name, trace) in zip(styles, traces.items(), strict=False):
        axes[0].plot(periods, trace["backlog"], style, color="tab:red", label=f"backlog, {name}")
        for stage, colour in zip(range(len(trace["stock"][0])), plt.cm.tab10.colors, strict=False):
            label = f"stage {stage}" if style == "-" else None
            axes[1].plot(
                periods, [s[stage] for s in trace["stock"]], style, color=colour, label=label
            )
            axes[2].plot(periods, [s[stage] for s in trace["shipped"]], style, color=colour)
    axes[0].set_ylabel("units")
    axes[0].legend(fontsize=7, loc="upper left")
    axes[1].set_ylabel("stock at the end")
    axes[1].legend(fontsize=7, loc="upper right", title="stage 0 = retailer", title_fontsize=7)
    axes[2].set_ylabel("shipped to the stage")
    axes[2].set_xlabel("period")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
