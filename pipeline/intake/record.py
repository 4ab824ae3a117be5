"""The raw record: one input record as read, before validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.core.issues import Issue, shorten


@dataclass
class RawRecord:
    """One record as read, before validation."""

    source: str
    row: int
    data: dict[str, Any] | None
    flat: dict[str, Any] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)


def fail(source: str, row: int, message: str, value: object = "", *, code: str) -> RawRecord:
    """A record that could not be read, carrying the problem (``code``: its issue code)."""
    return RawRecord(source, row, None, issues=[Issue(source, row, "", message, shorten(value),
                                                      code=code)])
