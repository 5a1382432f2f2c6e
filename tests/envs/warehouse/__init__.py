"""Tests of the warehouse envs."""
