"""Fixtures for the agents tests: the session's shared Ray (see tests/ray_fixtures.py)."""

from tests.ray_fixtures import ray_session  # noqa: F401  (a fixture, used by name)
