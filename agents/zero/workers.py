"""Self-play in Ray actors (``ray.num_selfplay_workers`` > 0), feeding the learner's buffer.

Each :class:`SelfPlayWorker` runs its own lock-step :class:`~agents.zero.selfplay.SelfPlay`
with the newest weights it was sent, and returns finished games' positions a batch of moves at a
time. :class:`RemoteSelfPlay`, in the learner's process, keeps one request in flight per worker,
collects what is ready without waiting, sends new weights (one object in Ray's store shared by
all workers), and brings back a worker whose actor died: Ray restarts it (on any node with a
free CPU) and it gets the newest weights with its next result.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.zero.game import Positions
from agents.zero.replay import Samples
from agents.zero.selfplay import SelfPlay, SelfPlayStats


@dataclass
class WorkerResult:
    """What one request to a worker brought back."""

    samples: list[Samples]
    moves: int
    stats: SelfPlayStats
    version: int  # the weights it played with (-1: its initial random ones)
    worker: int


class SelfPlayWorker:
    """A self-play process: games in lock step over its copy of the network."""

    def __init__(
        self,
        make_positions: Callable[[], Positions],
        shape: dict[str, Any],
        config: Any,
        seed: int,
        index: int,
    ) -> None:
        import torch

        from agents.zero.network import NetworkShape, ZeroNet, compute_dtype, make_evaluate

        torch.set_num_threads(1)
        self.index = index
        self.net = ZeroNet(NetworkShape(**shape)).eval()
        dtype = compute_dtype(config.precision, "cpu")
        self.make_evaluate = lambda net: make_evaluate(net, compiled=True, dtype=dtype)
        positions = make_positions()
        self.selfplay = SelfPlay(
            positions, self.make_evaluate(self.net), config.search_settings(), config.games,
            config.simulations, config.fast_simulations, config.full_share, seed=seed,
            forbid=None if config.first_pass else positions.first_pass_forbidden,
            value_q=config.value_q, opening_moves=config.opening_moves,
        )  # fmt: skip
        self.version = -1

    def node(self) -> str:
        """The Ray node this worker runs on."""
        import ray

        return ray.get_runtime_context().get_node_id()

    def set_weights(self, weights: dict[str, Any], version: int) -> None:
        """Play with these weights from the next move on."""
        self.net.load_state_dict(weights)
        self.selfplay.set_evaluate(self.make_evaluate(self.net))
        self.version = version

    def play(self, steps: int) -> WorkerResult:
        """``steps`` moves of every game; the games that finished meanwhile."""
        samples, moves = [], 0
        for _ in range(steps):
            played, finished = self.selfplay.step()
            moves += played
            samples.extend(finished)
        stats, self.selfplay.stats = self.selfplay.stats, SelfPlayStats()
        return WorkerResult(samples, moves, stats, self.version, self.index)


class RemoteSelfPlay:
    """``count`` self-play workers as Ray actors (see the module docstring)."""

    def __init__(
        self,
        count: int,
        make_positions: Callable[[], Positions],
        shape: dict[str, Any],
        config: Any,
        seed: int,
        address: str = "",
        steps_per_request: int = 4,
    ) -> None:
        import ray

        from agents.backends.ray_cluster import ensure_ray

        self.started_ray = ensure_ray(address)
        actor = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=0)(SelfPlayWorker)
        self.workers = [
            actor.remote(make_positions, shape, config, seed + 7919 * (i + 1), i)
            for i in range(count)
        ]
        nodes = ray.get([w.node.remote() for w in self.workers])
        print(f"self-play workers: {count} on {len(set(nodes))} node(s)", file=sys.stderr,
              flush=True)  # fmt: skip
        self.steps = steps_per_request
        self.weights: Any = None
        self.version = -1
        self.pending = {w.play.remote(self.steps): i for i, w in enumerate(self.workers)}

    def push(self, weights: dict[str, Any], version: int) -> None:
        """Send new weights to every worker (they apply them between requests)."""
        import ray

        self.weights, self.version = ray.put(weights), version
        for worker in self.workers:
            worker.set_weights.remote(self.weights, version)

    def collect(self, timeout: float = 0.0) -> list[WorkerResult]:
        """Results ready now (or the first within ``timeout`` seconds, with any others ready by
        then); each worker that answered gets a new request."""
        import ray
        from ray.exceptions import RayActorError, RayTaskError

        # Wait for the first result only: a worker whose node died (its actor waiting for Ray
        # to place it again) must not hold up the others' results for the whole timeout.
        ready, rest = ray.wait(list(self.pending), num_returns=1, timeout=timeout)
        if ready and rest:
            ready += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
        results = []
        for ref in ready:
            index = self.pending.pop(ref)
            worker = self.workers[index]
            try:
                result = ray.get(ref)
            except (RayActorError, RayTaskError) as error:
                warnings.warn(
                    f"self-play worker {index} failed ({type(error).__name__}); Ray restarts "
                    "it and it continues with the newest weights",
                    stacklevel=2,
                )
                result = None
            if result is not None:
                results.append(result)
            if (result is None or result.version < self.version) and self.weights is not None:
                worker.set_weights.remote(self.weights, self.version)
            self.pending[worker.play.remote(self.steps)] = index
        return results

    def close(self) -> None:
        """Stop the workers (and Ray, if this object started it)."""
        import ray

        for worker in self.workers:
            ray.kill(worker)
        self.pending = {}
        if self.started_ray:
            ray.shutdown()
