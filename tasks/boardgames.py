"""Two-player board games trained by self-play: the shared task behind go_small,
connect_four and tictactoe.

Training: sb3-contrib's MaskablePPO plays one seat of the game (either colour) against an
opponent pool of its own snapshots plus fixed players (agents/selfplay.py); the network is a
small residual CNN with policy and value heads (agents/networks.py). Optionally, rounds of
expert iteration (``expert.every``) train the policy head on MCTS self-play visit counts.

Evaluation: the trained network alone ("policy") and with tree search on top ("search",
agents/search) against every opponent in ``eval.opponents``, both colours, games paired over
random openings, with win/draw/loss, a 95% Wilson interval, an Elo difference, and the games
saved where the game has a record format. A subclass says which game, which opponents, and
how to record games.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.base import Periodic
from tasks.base import EvalResult, Task
from tasks.config import AlgoConfig, ConfigError, EvalConfig, TaskConfig, describe, section
from tasks.evaluation import wilson_interval


@dataclass
class SelfPlayConfig:
    """The opponent pool."""

    fixed_opponents: list[str] = describe(
        "Fixed players in the pool besides the learner's snapshots.", factory=lambda: ["random"]
    )
    fixed_share: float = describe(
        "Share of games against a fixed player once snapshots exist.", 0.3, min=0.0, max=1.0
    )
    snapshot_every: int = describe(
        "Add a snapshot of the learner every this many steps.", 20_000, min=1
    )
    max_snapshots: int = describe("Snapshots kept in the pool (newest).", 8, min=1)


@dataclass
class NetworkConfig:
    """The policy-value network."""

    kind: str = describe(
        "'cnn': a residual CNN trunk; 'mlp': a plain MLP over the flattened planes (faster on CPU).",
        "cnn",
        choices=("cnn", "mlp"),
    )
    channels: int = describe("Channels of the residual CNN.", 32, min=1)
    blocks: int = describe("Residual blocks.", 2, min=0)
    value_hidden: int = describe("Hidden units of the value head.", 64, min=1)
    mlp_layers: list[int] = describe(
        "Hidden layers of the policy and value MLPs when kind is 'mlp'.", factory=lambda: [256, 256]
    )


@dataclass
class SearchSection:
    """Tree search (MCTS with PUCT) used by evaluation, play and gtp."""

    simulations: int = describe("Simulations per move (0: no search).", 64, min=0)
    c_puct: float = describe("Exploration constant of PUCT.", 1.5, min=0.0)
    batch_size: int = describe("Leaves evaluated per network call.", 8, min=1)
    prior_mix: float = describe(
        "Share of a uniform prior mixed into the network's priors at every node.",
        0.0, min=0.0, max=1.0,
    )  # fmt: skip
    rollout_weight: float = describe(
        "AlphaGo's mixing: leaf value = (1 - w) * network + w * a random playout's result.",
        0.0, min=0.0, max=1.0,
    )  # fmt: skip


@dataclass
class ExpertSection:
    """Expert iteration: rounds of MCTS self-play whose visit counts train the policy head."""

    every: int = describe("Run a round every this many environment steps (0: never).", 0, min=0)
    games: int = describe("Self-play games per round.", 8, min=1)
    simulations: int = describe(
        "Simulations per move of the teacher search (PUCT; Go's RAVE search: playouts).",
        64, min=1,
    )  # fmt: skip
    sample_moves: int = describe(
        "Moves of each game sampled in proportion to the visits (then the most visited).",
        8, min=0,
    )  # fmt: skip
    noise_fraction: float = describe(
        "Share of Dirichlet noise in the root priors.", 0.25, min=0.0, max=1.0
    )
    epochs: int = describe("Passes over a round's positions.", 2, min=1)
    batch_size: int = describe("Positions per gradient step.", 64, min=1)
    learning_rate: float = describe("Adam step size of the policy-head training.", 3e-4, min=0.0)


@dataclass
class BoardEvalConfig(EvalConfig):
    """Evaluation against fixed opponents."""

    opponents: list[str] = describe(
        "Opponents of the final evaluation.", factory=lambda: ["random"]
    )
    periodic_opponents: list[str] = describe(
        "Opponents of the periodic evaluation during training.", factory=lambda: ["random"]
    )
    opening_moves: int = describe(
        "Random moves at the start of each evaluation game (pairs share the opening).", 2, min=0
    )
    with_search: bool = describe("Also evaluate the network with tree search.", True)


def _selfplay_algo() -> AlgoConfig:
    return AlgoConfig(
        name="maskable_ppo", n_envs=8, n_steps=128, batch_size=256, n_epochs=4,
        gamma=1.0, gae_lambda=0.95, learning_rate=3e-4, ent_coef=0.01,
    )  # fmt: skip


@dataclass
class BoardGameConfig(TaskConfig):
    """Fields shared by every self-play board-game task."""

    algo: AlgoConfig = section(_selfplay_algo, "Algorithm and hyperparameters.")
    eval: BoardEvalConfig = section(BoardEvalConfig, "Evaluation.")
    selfplay: SelfPlayConfig = section(SelfPlayConfig, "Self-play opponent pool.")
    network: NetworkConfig = section(NetworkConfig, "Policy-value network.")
    search: SearchSection = section(SearchSection, "Tree search.")
    expert: ExpertSection = section(ExpertSection, "Expert iteration during training (SB3).")


def elo_difference(score: float, games: int) -> float:
    """The Elo gap that predicts ``score`` (clipped half a game from 0 and 1)."""
    clipped = min(max(score, 0.5 / games), 1 - 0.5 / games)
    return 400 * math.log10(clipped / (1 - clipped))


class BoardGameTask(Task):
    """Self-play training and honest evaluation for a two-player AEC game with masks."""

    headline = "charts/win_rate/random"
    curves = ("charts/episode_length", "losses/value_loss", "losses/entropy_loss")

    def validate(self, cfg: Any) -> None:
        if cfg.expert.every and cfg.backend == "rllib":
            raise ConfigError(
                "expert.every: expert iteration trains SB3 policies; use backend=sb3 or "
                "expert.every=0"
            )

    # -- what a game supplies -----------------------------------------------------------------

    def make_game(self, cfg: Any) -> Any:
        """A fresh AEC env of the game."""
        raise NotImplementedError

    def obs_transform(self, obs: np.ndarray) -> np.ndarray:
        """The network's input from the env's ``observation`` (channels first, float32)."""
        return np.asarray(obs, dtype=np.float32)

    def player(self, cfg: Any, name: str, seed: int) -> Any:
        """A fixed player by name (``random`` here; games add theirs)."""
        from agents.selfplay import RandomPolicy

        if name == "random":
            return RandomPolicy(seed)
        raise ValueError(f"unknown opponent {name!r} for task {self.name}")

    def record_game(self, cfg: Any, run: Any, label: str, record: Any, index: int) -> None:
        """Save one evaluation game (Go writes SGF); nothing by default."""

    def search_state(self, cfg: Any) -> Any:
        """A fresh game position for the tree search."""
        from agents.search.states import AECState

        game = self.make_game(cfg)
        game.reset(seed=0)
        return AECState(game, self.obs_transform)

    # -- training -----------------------------------------------------------------------------

    def _pool(self, cfg: Any) -> Any:
        from agents.selfplay import OpponentPool

        if getattr(self, "pool", None) is None:
            fixed = {name: functools.partial(self.player, cfg, name)
                     for name in cfg.selfplay.fixed_opponents}  # fmt: skip
            self.pool = OpponentPool(
                fixed, cfg.selfplay.fixed_share, cfg.selfplay.max_snapshots, seed=cfg.seed
            )
        return self.pool

    def make_env(self, cfg: Any, index: int) -> Any:
        if cfg.backend == "rllib":  # both seats in one MultiAgentEnv; snapshots are RLlib modules
            from agents.backends.rllib_selfplay import SelfPlayMultiAgentEnv

            fixed = {name: functools.partial(self.player, cfg, name)
                     for name in cfg.selfplay.fixed_opponents}  # fmt: skip
            return SelfPlayMultiAgentEnv(
                functools.partial(self.make_game, cfg), self.obs_transform, fixed,
                cfg.selfplay.fixed_share, cfg.selfplay.max_snapshots, seed=cfg.seed * 1000 + index,
            )  # fmt: skip
        from agents.selfplay import SelfPlayEnv

        return SelfPlayEnv(lambda: self.make_game(cfg), self._pool(cfg), self.obs_transform)

    def policy_kwargs(self, cfg: Any) -> dict[str, Any]:
        from agents.networks import board_policy_kwargs

        net = cfg.network
        if net.kind == "mlp":
            return {"net_arch": {"pi": list(net.mlp_layers), "vf": list(net.mlp_layers)}}
        return board_policy_kwargs(net.channels, net.blocks, net.value_hidden)

    def periodic(self, cfg: Any, run: Any) -> list[Periodic]:
        def snapshot(step: int, agent: Any) -> dict[str, float]:
            from agents.players import NetworkPlayer

            if hasattr(agent, "add_snapshot"):  # RLlib: weights go to the env runners' modules
                return {"charts/pool_size": float(agent.add_snapshot(f"step_{step}"))}
            pool = self._pool(cfg)
            pool.add_snapshot(f"step_{step}", NetworkPlayer.frozen_copy(agent.model.policy))
            return {"charts/pool_size": float(len(pool.snapshots))}

        def evaluate(step: int, agent: Any) -> dict[str, float]:
            player = self.network_player(agent)
            metrics = {}
            for name in cfg.eval.periodic_opponents:
                result = self.match(cfg, player, name, cfg.eval.periodic_episodes, seed=step)
                metrics[f"charts/win_rate/{name}"] = result["score"]
            return metrics

        if cfg.resume and cfg.backend != "rllib":
            self._restore_pool(cfg, run)
        hooks = [Periodic(cfg.selfplay.snapshot_every, snapshot, at_end=False)]
        if cfg.expert.every:
            hooks.append(Periodic(cfg.expert.every, functools.partial(self.expert_round, cfg),
                                  at_end=False))  # fmt: skip
        if cfg.eval.every:
            hooks.append(Periodic(cfg.eval.every, evaluate))
        return hooks

    def expert_search(self, cfg: Any, agent: Any, seed: int) -> Any:
        """The teacher of expert iteration: ``state -> visit counts``. PUCT over the learner's
        network, ``expert.simulations`` a move, with root noise."""
        from agents.expert_iteration import puct_search

        config = self.search_config(cfg, cfg.expert.simulations, cfg.expert.noise_fraction)
        return puct_search(self.policy_value(agent), config, seed)

    def expert_round(self, cfg: Any, step: int, agent: Any) -> dict[str, float]:
        """One round of expert iteration (see agents/expert_iteration.py) on the learner."""
        from agents.expert_iteration import distill, self_play_targets

        expert = cfg.expert
        seed = cfg.seed * 1_000_003 + step
        obs, masks, targets = self_play_targets(
            lambda: self.search_state(cfg), self.expert_search(cfg, agent, seed), expert.games,
            expert.sample_moves, seed,
        )  # fmt: skip
        before, after = distill(agent.model.policy, obs, masks, targets, expert.epochs,
                                expert.batch_size, expert.learning_rate, seed=step)  # fmt: skip
        return {
            "expert/positions": float(len(obs)),
            "expert/cross_entropy_before": before,
            "expert/cross_entropy_after": after,
        }

    def _restore_pool(self, cfg: Any, run: Any) -> None:
        """Refill the opponent pool of a resumed run from its kept checkpoints: the snapshots
        themselves live in memory only, and a resumed learner facing no past selves would
        train against the fixed players alone until the next snapshots."""
        from agents.players import NetworkPlayer
        from tasks.runs import list_checkpoints, read_meta
        from tasks.session import load_context

        pool = self._pool(cfg)
        backend = self.backend(cfg)
        ctx = load_context(self, cfg, device="cpu")
        for checkpoint in list_checkpoints(run.checkpoints_dir)[-cfg.selfplay.max_snapshots :]:
            agent = backend.load(checkpoint, ctx)
            name = f"step_{read_meta(checkpoint)['step']}"
            pool.add_snapshot(name, NetworkPlayer.frozen_copy(agent.model.policy))

    # -- evaluation ---------------------------------------------------------------------------

    def network_player(self, agent: Any) -> Any:
        from agents.players import NetworkPlayer

        if hasattr(agent, "player"):  # RLlib agents act through their own module
            return agent.player(deterministic=True)
        return NetworkPlayer(agent.model.policy, deterministic=True)

    def policy_value(self, agent: Any) -> Any:
        """The agent's network as ``(obs, masks) -> (priors, values)`` (RLlib or SB3)."""
        from agents.networks import sb3_policy_value

        return getattr(agent, "policy_value", None) or sb3_policy_value(agent.model.policy)

    def search_config(self, cfg: Any, simulations: int, noise_fraction: float = 0.0) -> Any:
        """PUCT settings from the ``search`` section, with this many simulations a move."""
        from agents.search.mcts import SearchConfig

        search = cfg.search
        return SearchConfig(
            simulations, search.c_puct, search.batch_size, noise_fraction=noise_fraction,
            rollout_weight=search.rollout_weight, prior_mix=search.prior_mix,
        )  # fmt: skip

    def search_player(self, cfg: Any, agent: Any, seed: int = 0) -> Any:
        from agents.players import SearchPlayer

        config = self.search_config(cfg, cfg.search.simulations)
        return SearchPlayer(self.policy_value(agent), lambda: self.search_state(cfg), config, seed)

    def match(
        self, cfg: Any, player: Any, opponent: str, games: int, seed: int, on_game: Any = None
    ) -> dict[str, float]:
        """``player`` against the named opponent, both colours."""
        from agents.selfplay import play_match

        rival = self.player(cfg, opponent, seed)
        try:
            return play_match(
                lambda: self.make_game(cfg), player, rival, games, seed,
                names=("learnloop", opponent), on_game=on_game,
                opening_moves=cfg.eval.opening_moves, obs_transform=self.obs_transform,
            )  # fmt: skip
        finally:
            if hasattr(rival, "close"):
                rival.close()

    def evaluate(self, cfg: Any, agent: Any, run: Any) -> EvalResult:
        from tasks.logging import ProgressDisplay

        players = {"policy": self.network_player(agent)}
        if cfg.eval.with_search and cfg.search.simulations > 0:
            players["search"] = self.search_player(cfg, agent, cfg.seed)
        rows, notes, metrics = [], [], {}
        pairs = [(p, o) for p in players for o in cfg.eval.opponents]
        progress = ProgressDisplay(
            len(pairs), f"{self.name} evaluation", log_every_s=0, unit="matches"
        )
        for done, (label, opponent) in enumerate(pairs):

            def save(record: Any, index: int, tag: str = f"{label}_vs_{opponent}") -> None:
                self.record_game(cfg, run, tag, record, index)

            try:
                result = self.match(cfg, players[label], opponent, cfg.eval.episodes,
                                    seed=10_000 + cfg.seed, on_game=save)  # fmt: skip
            except RuntimeError as error:  # a missing outside engine (GNU Go)
                notes.append(f"{opponent}: not evaluated: {error}")
                continue
            rows.append(self._row(label, opponent, result))
            metrics[f"{label}/score/{opponent}"] = result["score"]
            progress.update(done + 1)
        progress.close()
        return EvalResult(metrics=metrics, tables={"matches": rows}, notes=notes)

    def _row(self, label: str, opponent: str, result: dict[str, float]) -> dict[str, Any]:
        games = int(result["games"])
        low, high = wilson_interval(result["wins"] + 0.5 * result["draws"], games)
        return {
            "player": label,
            "opponent": opponent,
            "games": games,
            "wins": int(result["wins"]),
            "draws": int(result["draws"]),
            "losses": int(result["losses"]),
            "score": result["score"],
            "score_ci95": f"{low:.2f}-{high:.2f}",
            "elo_diff": round(elo_difference(result["score"], games)),
            **({"mean_margin": result["mean_margin"]} if "mean_margin" in result else {}),
        }
