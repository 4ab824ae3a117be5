"""Upkeep checks: the commune records that it checked a task, and what it found.

A check is an event of the registry's hash-chained log (action ``check``), so it is
dated, signed off by its author and covered by ``archive verify`` like every other step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from pipeline.core.errors import InputError, StateError
from pipeline.core.i18n import _
from pipeline.core.workspace import Workspace
from pipeline.lifecycle.obligations import FOLLOWED_STATUSES
from pipeline.lifecycle.statuses import clean_text, status_label
from pipeline.lifecycle.terms import current_terms, require
from pipeline.records.registry import EVENT_CHECK, EventRow, Registry

Outcome = Literal["ok", "issue"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "issue")


@dataclass(frozen=True)
class CheckRequest:
    """One check to record."""

    convention_id: str
    task: int
    """1-based number of the upkeep task."""
    on: date
    outcome: Outcome
    by: str
    note: str | None = None


def record_check(ws: Workspace, req: CheckRequest, *, today: date) -> EventRow:
    """Record a check of an upkeep task of a signed convention."""
    if req.outcome not in OUTCOMES:
        raise InputError(_("Unknown outcome {value!r}: ok or issue.").format(value=req.outcome))
    if req.on > today:
        raise InputError(_("A check cannot be dated in the future ({on}).").format(on=req.on))
    note = clean_text(req.note, _("note"), 1000)
    with Registry.open(ws.registry_path, create=False) as reg, reg.transaction():
        row = require(reg, req.convention_id)
        if row.status not in FOLLOWED_STATUSES:
            raise StateError(_("Convention {id} is “{status}”: its upkeep is not followed.")
                             .format(id=row.id, status=status_label(row.status)))
        tasks = current_terms(ws, reg, row).upkeep.tasks
        if not 1 <= req.task <= len(tasks):
            raise InputError(_("{id} has {n} upkeep task(s): --task must be between 1 and "
                               "{n}.").format(id=row.id, n=len(tasks)))
        return reg.record_event(row.id, EVENT_CHECK, req.by, {
            "task": req.task, "label": tasks[req.task - 1].task, "on": req.on.isoformat(),
            "outcome": req.outcome, "note": note, "by": req.by})
