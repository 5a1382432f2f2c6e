"""Training backends behind one interface (see agents.base.Backend).

Each entry maps a backend name (the config's ``backend`` value) to the module that defines a
``BACKEND`` object. Modules are imported only when a run needs them, so heavy libraries
(stable_baselines3, ray) load lazily.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents.base import Backend

BACKENDS: dict[str, str] = {
    "sb3": "agents.backends.sb3",
    "rllib": "agents.backends.rllib",
}


def get_backend(name: str) -> Backend:
    """The backend registered under ``name``; ValueError lists the known ones."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(sorted(BACKENDS))}")
    return importlib.import_module(BACKENDS[name]).BACKEND
