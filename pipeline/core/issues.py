"""A problem found in one input record, as plain data (never an exception)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Issue", "Severity", "shorten"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in one record."""

    source: str
    """The input file's name."""
    row: int
    """Row number in a CSV/XLSX (the header is row 1) or record number in JSON (from 1)."""
    field: str
    """Dotted path of the field (``holders.0.email``), or ``""`` for the whole record."""
    message: str
    """What is wrong, in words a clerk understands."""
    value: str = ""
    """The offending value as given (shortened when very long)."""
    severity: Severity = "error"

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "row": self.row, "field": self.field,
                "message": self.message, "value": self.value, "severity": self.severity}

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its arguments: far quicker than the generic way for a slotted
        # dataclass (outcomes are spooled and cross processes by the thousand).
        return Issue, (self.source, self.row, self.field, self.message, self.value,
                       self.severity)


def shorten(value: object, limit: int = 200) -> str:
    """Printable, bounded text for an offending value."""
    text = "" if value is None else str(value)
    text = text.replace("\x00", "\\0")
    return text if len(text) <= limit else text[: limit - 1] + "…"
