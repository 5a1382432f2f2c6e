"""One local Ray for the whole test session (starting one costs seconds and ~1 GB).

Use the ``ray_session`` fixture from a conftest (``from tests.ray_fixtures import ray_session``).
It starts Ray with 2 CPUs and no dashboard unless this process already runs one, and shuts down
only what it started, at the end of the session, so no Ray process outlives pytest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.optional import require

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def ray_session() -> Iterator[Any]:
    """The ``ray`` module, initialised for this session."""
    ray = require("ray")
    # Env runner processes import learnloop; they inherit the environment Ray starts with.
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(REPO) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), *paths])
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()
