"""The ``zero`` backend: AlphaZero for two-player board games (``algo.name=alphazero``).

It trains from a :class:`~agents.base.TrainContext` whose ``game`` gives the compiled positions
(``Positions``) and whose ``settings`` is a :class:`~agents.zero.config.ZeroConfig`; the
network's size comes from ``network`` (channels, blocks, value_hidden). Self-play runs in this
process, or with ``ray.num_selfplay_workers`` > 0 in Ray actors (agents/zero/workers.py).
Checkpoints hold the network (the trained agent: the weights' moving average with
``zero.ema``), the learner's own state (newest weights, average, optimizer), the loop's
counters and the replay buffer, so ``resume`` continues where the run stopped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.base import Agent, Backend, Player, TrainContext, resolve_device
from agents.schedule import Schedule, crossed
from agents.zero.loop import ZeroLoop
from agents.zero.network import NetworkShape, ZeroNet, make_evaluate

NETWORK_FILE = "network.pt"
TRAINER_FILE = "trainer.pt"
REPLAY_FILE = "replay.npz"


class ZeroAgent(Agent):
    """A trained AlphaZero network: acts alone (argmax of its policy) or guides a search."""

    def __init__(self, net: ZeroNet, device: str = "cpu") -> None:
        self.net = net.to(device).eval()
        self.device = device
        self.refresh()

    def refresh(self) -> None:
        """Act with the network's current weights (after training changed them), compiled:
        searches send it several leaves at a time, where that is ~20% faster on a CPU."""
        self._evaluate = make_evaluate(self.net, self.device, compiled=True)

    def evaluate(self, planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Log priors (``-inf`` on illegal moves) and values, batched: the search's input."""
        return self._evaluate(np.asarray(planes, dtype=np.float32), np.asarray(masks, bool))

    def policy_value(
        self, observations: np.ndarray, masks: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(priors, values)``: the policy over legal moves and the value, batched."""
        logits, values = self.evaluate(observations, masks)
        return np.exp(logits), values

    def score_policy_value(self, weight: float, scale: float) -> Any:
        """``policy_value`` whose values mix in the score head (``make_evaluate``'s
        ``score_utility``): ``weight`` of ``tanh(margin / scale)``, the margin in points."""
        evaluate = make_evaluate(self.net, self.device, compiled=True, score_utility=weight,
                                 score_scale=scale)  # fmt: skip

        def policy_value(observations: np.ndarray, masks: np.ndarray) -> Any:
            logits, values = evaluate(np.asarray(observations, np.float32), np.asarray(masks, bool))
            return np.exp(logits), values

        return policy_value

    def snapshot(self) -> Player:
        """A sampling player on a copy of the network, which later training does not change."""
        import copy

        return ZeroAgent(copy.deepcopy(self.net), self.device).player(deterministic=False)

    def act(
        self, obs: Any, action_mask: np.ndarray | None = None, deterministic: bool = True
    ) -> Any:
        planes = np.asarray(obs, dtype=np.float32)[None]
        mask = np.ones((1, self.net.shape.num_actions), bool)
        if action_mask is not None:
            mask = np.asarray(action_mask, dtype=bool)[None]
        logits, _ = self.evaluate(planes, mask)
        if deterministic:
            return int(np.argmax(logits[0]))
        probs = np.exp(logits[0].astype(np.float64))
        return int(np.random.default_rng().choice(len(probs), p=probs / probs.sum()))

    def action_probabilities(
        self, obs: np.ndarray, action_masks: np.ndarray | None = None
    ) -> np.ndarray:
        masks = action_masks
        if masks is None:
            masks = np.ones((len(obs), self.net.shape.num_actions), dtype=bool)
        logits, _ = self.evaluate(obs, masks)
        return np.exp(logits)

    def save(self, path: Path) -> None:
        torch.save({"shape": self.net.shape.to_dict(), "net": self.net.state_dict()},
                   path / NETWORK_FILE)  # fmt: skip


def load_network(path: Path, device: str) -> ZeroNet:
    """The network saved in checkpoint folder ``path``; ValueError when missing or corrupt."""
    file = path / NETWORK_FILE
    if not file.is_file():
        raise ValueError(f"checkpoint {path} has no {NETWORK_FILE}")
    try:
        saved = torch.load(file, map_location=device, weights_only=True)
        net = ZeroNet(NetworkShape(**saved["shape"]))
        net.load_state_dict(saved["net"])
    except Exception as error:  # torch raises many kinds on a damaged file
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ValueError(f"checkpoint {file} could not be loaded: {first}") from None
    return net.to(device)


class ZeroBackend(Backend):
    """AlphaZero's self-play and learning behind the runner's interface."""

    name = "zero"

    def train(self, ctx: TrainContext) -> Agent:
        if ctx.game is None or ctx.game.positions is None:
            raise ValueError("alphazero trains two-player board games with compiled positions")
        device = resolve_device(ctx.device)
        if ctx.ray.num_gpus_per_learner > 0 and not device.startswith("cuda"):
            raise ValueError(
                f"ray.num_gpus_per_learner={ctx.ray.num_gpus_per_learner:g}: alphazero's "
                f"learner is this process, which sees no GPU (device={ctx.device}); on a "
                "cluster submit with `ray job submit --entrypoint-num-gpus 1 ...`"
            )
        torch.manual_seed(ctx.seed)
        positions = ctx.game.positions()
        settings = ctx.settings
        if ctx.resume_from is not None:
            net = load_network(ctx.resume_from, device)
        else:
            net = ZeroNet(network_shape(positions, ctx.network))
        loop = ZeroLoop(positions, net, settings, ctx.seed, device)
        if ctx.resume_from is not None:
            self._resume(loop, ctx.resume_from)
        agent = ZeroAgent(loop.learner.trained_net, device)
        _Training(ctx, loop, agent).run()
        return agent

    def _resume(self, loop: ZeroLoop, checkpoint: Path) -> None:
        state = torch.load(checkpoint / TRAINER_FILE, map_location=loop.device, weights_only=False)
        loop.learner.load_state(state["learner"])
        loop.step, loop.recorded = int(state["step"]), int(state["recorded"])
        loop.trained, loop.games = int(state["trained"]), int(state["games"])
        if (checkpoint / REPLAY_FILE).is_file():
            loop.buffer.load(checkpoint / REPLAY_FILE)
        loop.refresh()

    def load(self, path: Path, ctx: TrainContext | None = None) -> Agent:
        device = resolve_device(ctx.device if ctx is not None else "cpu")
        return ZeroAgent(load_network(path, device), device)


def network_shape(positions: Any, network: Any) -> NetworkShape:
    """The network for a game's planes and actions, sized by the task's ``network`` section."""
    planes, height, width = positions.obs_shape
    return NetworkShape(
        planes, height, width, positions.num_actions, channels=network.channels,
        blocks=network.blocks, value_hidden=network.value_hidden,
        ownership=positions.has_ownership,
    )  # fmt: skip


def write_checkpoint(folder: Path, loop: ZeroLoop, agent: ZeroAgent) -> None:
    """Fill a checkpoint folder: network, learner and loop state, replay buffer."""
    agent.save(folder)
    state = {
        "learner": loop.learner.state(),
        "step": loop.step,
        "recorded": loop.recorded,
        "trained": loop.trained,
        "games": loop.games,
    }
    torch.save(state, folder / TRAINER_FILE)
    loop.buffer.save(folder / REPLAY_FILE)


class _Training:
    """Self-play, learning, logging, periodic hooks and checkpoints until the step budget.

    With ``ray.num_selfplay_workers`` > 0, Ray actors play too; this process still plays
    between gradient steps unless ``zero.learner_selfplay`` is off (a GPU learner's time is
    better spent learning).
    """

    def __init__(self, ctx: TrainContext, loop: ZeroLoop, agent: ZeroAgent) -> None:
        self.ctx, self.loop, self.agent = ctx, loop, agent
        workers = ctx.ray.num_selfplay_workers if ctx.ray is not None else 0
        self.remote = None
        if workers > 0:
            from agents.zero.workers import RemoteSelfPlay

            self.remote = RemoteSelfPlay(
                workers, ctx.game.positions, loop.net.shape.to_dict(), loop.config, ctx.seed,
                address=ctx.ray.address,
            )  # fmt: skip
            self.push()
        self.local = self.remote is None or loop.config.learner_selfplay
        self.refresh = loop.config.refresh_every

    def push(self) -> None:
        """The newest weights to the workers."""
        weights = {k: v.detach().cpu() for k, v in self.loop.net.state_dict().items()}
        self.remote.push(weights, self.loop.learner.steps)
        self.pushed = self.loop.learner.steps

    def run(self) -> None:
        try:
            self._run()
        finally:
            if self.remote is not None:
                self.remote.close()

    def _run(self) -> None:
        ctx, loop = self.ctx, self.loop
        started = time.monotonic()
        schedule = Schedule(ctx, loop.step)
        # zero.precision=auto's choice on this machine, beside the resolved config
        ctx.logger.log_text("zero/precision", str(loop.dtype).removeprefix("torch."), loop.step)
        while loop.step < ctx.total_steps:
            previous = loop.step
            if self.remote is not None:
                for result in self.remote.collect(timeout=0.0 if self.local else 1.0):
                    loop.add(result.samples, result.stats, result.moves)
            if self.local:
                loop.play()
            loop.train(loop.step / ctx.total_steps)
            if self.remote is not None and loop.learner.steps - self.pushed >= self.refresh:
                self.push()
            ctx.logger.progress(loop.step)
            if crossed(previous, loop.step, loop.config.log_every):
                ctx.logger.log(loop.step, loop.metrics())
            schedule.advance(loop.step, self.current, self.write)
        ctx.logger.log(loop.step, loop.metrics())
        ctx.logger.log(loop.step, {"time/train_minutes": (time.monotonic() - started) / 60})
        schedule.finish(loop.step, self.current, self.write)

    def current(self) -> ZeroAgent:
        """The agent on the newest weights."""
        self.agent.refresh()
        return self.agent

    def write(self, folder: Path) -> None:
        """Fill a checkpoint folder with the newest state."""
        write_checkpoint(folder, self.loop, self.current())


BACKEND = ZeroBackend()
