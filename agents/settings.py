"""Typed settings fields: a dataclass field with a one-line description and allowed values.

Agents declare their settings (AlphaZero's, say) with these, and tasks put those dataclasses
into their configs as they are, so a setting is described once and ``--help`` shows it;
``tasks.config`` checks values against the metadata (``choices``, ``min``, ``max``).
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import field
from typing import Any


def describe(
    help: str,
    default: Any = dataclasses.MISSING,
    *,
    factory: Any = dataclasses.MISSING,
    choices: typing.Sequence[Any] | None = None,
    min: float | None = None,
    max: float | None = None,
) -> Any:
    """A dataclass field with a description and optional allowed values or bounds."""
    metadata = {"help": help, "choices": choices, "min": min, "max": max}
    if factory is not dataclasses.MISSING:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def section(cls: type, help: str) -> Any:
    """A nested settings section (a dataclass) with a description."""
    return field(default_factory=cls, metadata={"help": help})
