"""Filters of ``registry list`` that need more than the registry's columns."""

from __future__ import annotations

from pipeline.core.clock import today
from pipeline.core.workspace import Workspace
from pipeline.lifecycle.obligations import overdue_ids
from pipeline.records.registry import ConventionRow, Registry


def holder_matches(row: ConventionRow, text: str) -> bool:
    """True when a holder's name contains ``text`` (case and accents as typed)."""
    wanted = text.casefold().strip()
    return any(wanted in str(h.get("name", "")).casefold() for h in row.holders)


def lifecycle_filter(ws: Workspace, reg: Registry, rows: list[ConventionRow], *,
                     holder: str | None = None, overdue: bool = False) -> list[ConventionRow]:
    """Keep the rows with a matching holder and, with ``overdue``, upkeep overdue today."""
    if holder:
        rows = [r for r in rows if holder_matches(r, holder)]
    if overdue:
        late = overdue_ids(ws, reg, today=today())
        rows = [r for r in rows if r.id in late]
    return rows
