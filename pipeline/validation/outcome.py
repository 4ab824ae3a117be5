"""What became of one input record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.core.issues import Issue

__all__ = ["RecordOutcome"]


@dataclass
class RecordOutcome:
    """What became of one input record."""

    source: str
    row: int
    reference: str | None
    accepted: bool
    issues: list[Issue] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
