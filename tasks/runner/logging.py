"""One logger for every backend: TensorBoard events, metrics.jsonl and a progress display.

Metric names follow DESIGN.md (``charts/episode_return``, ``losses/<name>``, ``time/fps``,
``eval/<metric>``); the global step is environment steps. Non-finite values are dropped, since
TensorBoard draws them as gaps and JSON cannot hold them.

On a terminal the progress display is a rich bar with steps, fps, ETA and the task's headline
metric; elsewhere (CI, pipes) it prints a plain line every ``log_every_s`` seconds.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any, TextIO


class ProgressDisplay:
    """Shows how far a long job has got: a rich bar on a terminal, plain lines otherwise."""

    def __init__(
        self,
        total: int,
        description: str,
        headline: str | None = None,
        log_every_s: float = 10.0,
        stream: TextIO | None = None,
        start: int = 0,
        unit: str = "steps",
    ) -> None:
        self.total = max(1, total)
        self.unit = unit
        self.description = description
        self.headline = headline
        self.stream = stream or sys.stderr
        self.log_every_s = log_every_s
        self.start_step = start
        self.start_time = time.monotonic()
        self.last_line = self.start_time
        self.step = start
        self.headline_value: float | None = None
        self._bar = None
        self._task = None
        if self.stream.isatty():
            self._start_bar()

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[fps]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[headline]}"),
            console=Console(file=self.stream),
            transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task(
            self.description,
            total=self.total,
            completed=self.step,
            fps=self._rate_text(),
            headline="",
        )

    def fps(self) -> float:
        elapsed = time.monotonic() - self.start_time
        return (self.step - self.start_step) / elapsed if elapsed > 0 else 0.0

    def _rate_text(self) -> str:
        """``N steps/s``, or ``N s each`` when a unit takes longer than a second."""
        fps = self.fps()
        if fps <= 0:
            return f"- {self.unit}/s"
        if fps >= 1:
            return f"{fps:,.0f} {self.unit}/s"
        return f"{1 / fps:,.0f} s each"

    def _headline_text(self) -> str:
        if self.headline is None or self.headline_value is None:
            return ""
        return f"{self.headline.rsplit('/', 1)[-1]} {self.headline_value:.3g}"

    def update(self, step: int, metrics: dict[str, float] | None = None) -> None:
        """Move to ``step``; pick up the headline metric if ``metrics`` has it."""
        self.step = step
        if metrics and self.headline in metrics:
            self.headline_value = metrics[self.headline]
        if self._bar is not None:
            self._bar.update(
                self._task,
                completed=min(step, self.total),
                fps=self._rate_text(),
                headline=self._headline_text(),
            )
            return
        now = time.monotonic()
        if now - self.last_line >= self.log_every_s:
            self.last_line = now
            self._print_line()

    def _print_line(self) -> None:
        fps = self.fps()
        remaining = max(0, self.total - self.step) / fps if fps > 0 else float("nan")
        eta = f"{remaining:,.0f}s" if math.isfinite(remaining) else "?"
        parts = [
            f"{self.description}: {self.step:,}/{self.total:,}",
            f"({100 * self.step / self.total:.0f}%)",
            self._rate_text(),
            f"ETA {eta}",
            self._headline_text(),
        ]
        print(" ".join(p for p in parts if p), file=self.stream, flush=True)

    def close(self) -> None:
        """Stop the bar (or print a final line)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        else:
            self._print_line()


class MetricLogger:
    """Writes metrics to TensorBoard and metrics.jsonl, and drives the progress display."""

    def __init__(
        self,
        tb_dir: Path,
        metrics_file: Path,
        progress: ProgressDisplay | None = None,
        purge_step: int | None = None,
    ) -> None:
        from torch.utils.tensorboard import SummaryWriter

        # purge_step makes TensorBoard hide events a killed run wrote after its last checkpoint.
        self.writer = SummaryWriter(log_dir=str(tb_dir), purge_step=purge_step)
        self.metrics_file = open(metrics_file, "a")  # noqa: SIM115 (closed in close())
        self.progress_display = progress
        self.last: dict[str, float] = {}

    def log(self, step: int, metrics: dict[str, float]) -> None:
        """Record finite numeric metrics at ``step``."""
        clean = {}
        for name, value in metrics.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if math.isfinite(number):
                clean[name] = number
        if not clean:
            return
        for name, number in clean.items():
            self.writer.add_scalar(name, number, global_step=step)
        self.metrics_file.write(json.dumps({"step": step, "time": time.time(), **clean}) + "\n")
        self.metrics_file.flush()
        self.last.update(clean)
        if self.progress_display is not None:
            self.progress_display.update(step, clean)

    def progress(self, step: int) -> None:
        """Move the progress display to ``step``."""
        if self.progress_display is not None:
            self.progress_display.update(step)

    def log_text(self, tag: str, text: str, step: int = 0) -> None:
        """A text note in TensorBoard (the resolved config, say)."""
        self.writer.add_text(tag, text, global_step=step)

    def close(self) -> None:
        """Flush and close everything."""
        if self.progress_display is not None:
            self.progress_display.close()
        self.writer.flush()
        self.writer.close()
        self.metrics_file.close()

    def __enter__(self) -> MetricLogger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
