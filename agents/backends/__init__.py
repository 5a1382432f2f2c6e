"""Training backends behind one interface (see agents.base.Backend), and what each trains.

Each entry names the module that defines a ``BACKEND`` object and the algorithms it runs.
Modules are imported only when a run needs them, so heavy libraries (stable_baselines3, ray)
load lazily. A *native* backend owns its algorithms whatever the config's ``backend`` says:
``algo.name=alphazero`` is AlphaZero's own loop (``zero``), which uses Ray only for its
self-play workers.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agents.learners import LEARNERS

if TYPE_CHECKING:
    from agents.base import Backend


@dataclass(frozen=True)
class BackendEntry:
    """Where a backend lives and the algorithms (``algo.name``) it trains."""

    module: str
    algorithms: tuple[str, ...]
    native: bool = False


BACKENDS: dict[str, BackendEntry] = {
    "sb3": BackendEntry(
        "agents.backends.sb3", ("ppo", "maskable_ppo", "a2c", "dqn", "qrdqn", "sac")
    ),
    "rllib": BackendEntry("agents.backends.rllib", ("ppo", "maskable_ppo", "dqn", "sac")),
    "zero": BackendEntry("agents.zero.backend", ("alphazero",), native=True),
    # learnloop's own torch learners (the paradigm tasks name one in learner.name)
    "learnloop": BackendEntry("agents.learners.backend", tuple(LEARNERS)),
}
ALGORITHMS: tuple[str, ...] = tuple(
    dict.fromkeys(name for entry in BACKENDS.values() for name in entry.algorithms)
)


def backend_for(backend: str, algorithm: str) -> str:
    """The backend that trains ``algorithm`` when the config names ``backend``: that one when
    it has the algorithm, else the native backend that owns it; ValueError otherwise."""
    entry = BACKENDS.get(backend)
    if entry is None or algorithm in entry.algorithms:
        return backend
    for name, other in BACKENDS.items():
        if other.native and algorithm in other.algorithms:
            return name
    why = " (RLlib's new API stack has no A2C)" if (backend, algorithm) == ("rllib", "a2c") else ""
    raise ValueError(
        f"algo.name={algorithm!r} is not available under backend={backend}{why}; "
        f"use one of: {', '.join(entry.algorithms)}"
    )


def get_backend(name: str) -> Backend:
    """The backend registered under ``name``; ValueError lists the known ones."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(sorted(BACKENDS))}")
    return importlib.import_module(BACKENDS[name].module).BACKEND
