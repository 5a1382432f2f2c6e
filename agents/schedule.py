"""When periodic hooks and checkpoints fall due: one schedule shared by every backend.

A backend calls :meth:`Schedule.advance` after each unit of training (an SB3 step, an RLlib
iteration, a self-play move) with the new global step; every hook and the checkpoint whose
multiple of ``every`` was crossed since the previous call runs once. :meth:`Schedule.finish`
runs the hooks marked ``at_end`` that did not just run and writes the last checkpoint unless
one was written at that step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents.base import Agent, Periodic, TrainContext


def crossed(previous: int, step: int, every: int) -> bool:
    """Whether a multiple of ``every`` lies in (previous, step] (never when ``every`` is 0)."""
    return every > 0 and step // every > previous // every


class Schedule:
    """The task's periodic hooks, a backend's own (``extra``), and checkpoints."""

    def __init__(self, ctx: TrainContext, start: int, extra: Sequence[Periodic] = ()) -> None:
        self.ctx = ctx
        self.hooks = [*ctx.periodic, *extra]
        self.previous = start
        self.ran_at = [-1] * len(self.hooks)
        self.saved_at = -1
        self.checkpoint: Path | None = None

    def advance(self, step: int, agent: Callable[[], Agent], write: Callable[[Path], None]) -> None:
        """Run what fell due between the previous call and ``step``. ``agent()`` gives the
        agent on the current weights; ``write(folder)`` fills a checkpoint folder."""
        for i, periodic in enumerate(self.hooks):
            if crossed(self.previous, step, periodic.every):
                self._run(i, step, agent)
        if crossed(self.previous, step, self.ctx.checkpoint_every):
            self.save(step, write)
        self.previous = step

    def finish(
        self,
        step: int,
        agent: Callable[[], Agent],
        write: Callable[[Path], None],
        checkpoint: bool = True,
        trained_since_save: bool = False,
    ) -> Path | None:
        """The end of training: the ``at_end`` hooks, then (unless the backend writes its own
        last one) the final checkpoint; returns the newest checkpoint's path.
        ``trained_since_save``: the agent may have learned after a checkpoint at this very
        step (SB3 updates after its last callback), so that one is written again."""
        for i, periodic in enumerate(self.hooks):
            if periodic.at_end and periodic.every and self.ran_at[i] != step:
                self._run(i, step, agent)
        if checkpoint and (trained_since_save or self.saved_at != step or self.checkpoint is None):
            self.save(step, write)
        return self.checkpoint

    def save(self, step: int, write: Callable[[Path], None]) -> None:
        """Write a checkpoint at ``step`` now."""
        self.checkpoint = self.ctx.save_checkpoint(step, write)
        self.saved_at = step

    def _run(self, index: int, step: int, agent: Callable[[], Agent]) -> None:
        metrics = self.hooks[index].hook(step, agent())
        self.ran_at[index] = step
        if metrics:
            self.ctx.logger.log(step, metrics)
