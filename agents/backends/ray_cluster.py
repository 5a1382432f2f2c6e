"""Joining or starting Ray, shared by every backend that uses it (RLlib, AlphaZero's workers).

Importing this module imports nothing heavy; ``ray`` is imported when a run asks for it.
"""

from __future__ import annotations

import os
from typing import Any


def ensure_ray(address: str = "") -> bool:
    """Start or join Ray unless this process already has; True when this call started it.

    Empty ``address``: inside a Ray job (``RAY_ADDRESS`` set) join that cluster, else start a
    local Ray with this machine's CPUs and no dashboard. ``auto`` or an address: join it.
    """
    import ray

    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": False}
    if not address and not os.environ.get("RAY_ADDRESS"):
        kwargs["num_cpus"] = os.cpu_count() or 1
    ray.init(address=address or None, **kwargs)
    return True
