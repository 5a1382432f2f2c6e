"""Fixtures shared by the task tests."""

from tests.ray_fixtures import ray_session  # noqa: F401  (a fixture, used by name)
