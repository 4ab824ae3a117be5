"""Statuses after signature: works started and done, early termination, cancellation.

Every move goes through ``Registry.set_status`` and so through the one table of allowed
transitions (:data:`pipeline.records.registry.TRANSITIONS`); each is an event carrying
the date it took effect (``on``), its author (``by``, also the event's actor) and, as the
case may be, the reason, the archived works report or the repayment computed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from pipeline.core.errors import InputError, StateError
from pipeline.core.i18n import _
from pipeline.core.workspace import Workspace
from pipeline.lifecycle.terms import current_terms, require, status_date
from pipeline.records.archive import add_files
from pipeline.records.registry import TRANSITIONS, ConventionRow, Registry, Status
from schemas import Convention

log = logging.getLogger(__name__)

REPORT_EXTENSIONS = frozenset({"pdf", "jpg", "jpeg", "png", "odt", "docx", "txt"})
_MAGIC = {"pdf": (b"%PDF-",), "png": (b"\x89PNG\r\n\x1a\n",), "jpg": (b"\xff\xd8\xff",),
          "jpeg": (b"\xff\xd8\xff",), "odt": (b"PK\x03\x04",), "docx": (b"PK\x03\x04",)}
MAX_REPORT_BYTES = 50 * 1024 * 1024
_CENT = Decimal("0.01")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class StatusChange:
    """A move asked for by a clerk."""

    convention_id: str
    on: date
    """The day it took effect (may differ from the day it is recorded)."""
    by: str
    """Who records it (the event's author)."""
    reason: str | None = None
    report: Path | None = None
    """``works done``: the completion report to archive."""


@dataclass(frozen=True)
class Repayment:
    """The pro-rata repayment of an early end."""

    applies: bool
    """False when the convention provides no repayment."""
    paid: Decimal
    """Grants paid to the holders by the termination date."""
    period_start: date
    period_end: date
    remaining_days: int
    total_days: int
    amount: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {"applies": self.applies, "paid": str(self.paid),
                "period_start": self.period_start.isoformat(),
                "period_end": self.period_end.isoformat(),
                "remaining_days": self.remaining_days, "total_days": self.total_days,
                "amount": str(self.amount)}


def status_label(status: str) -> str:
    """A status as a clerk reads it."""
    labels = {
        "pending": _("pending"), "draft": _("draft"), "generated": _("ready for signature"),
        "signing": _("being signed"), "signed": _("signed"), "declined": _("declined"),
        "works_started": _("works under way"), "works_done": _("works done"),
        "terminated": _("terminated"), "cancelled": _("cancelled"),
    }
    return labels.get(status, status)


def refuse_move(convention_id: str, status: str, to: str) -> StateError:
    """The error for a move the transitions table does not allow."""
    return StateError(_("Convention {id} is “{status}”: it cannot move to “{to}”.").format(
        id=convention_id, status=status_label(status), to=status_label(to)))


def clean_text(value: str | None, what: str, limit: int = 2000) -> str | None:
    """``value`` trimmed, refused if too long; control characters are removed."""
    if value is None:
        return None
    text = _CONTROL.sub("", value).strip()
    if not text:
        raise InputError(_("The {what} is empty.").format(what=what))
    if len(text) > limit:
        raise InputError(_("The {what} is too long ({n} characters, at most {limit}).")
                         .format(what=what, n=len(text), limit=limit))
    return text


def _move(reg: Registry, change: StatusChange, to: Status,
          extra: dict[str, Any] | None = None) -> ConventionRow:
    row = require(reg, change.convention_id)
    if to not in TRANSITIONS[row.status]:
        raise refuse_move(row.id, row.status, to)
    details: dict[str, Any] = {"on": change.on.isoformat(), "by": change.by}
    if change.reason:
        details["reason"] = change.reason
    return reg.set_status(change.convention_id, to, actor=change.by,
                          details={**details, **(extra or {})})


def start_works(ws: Workspace, change: StatusChange) -> ConventionRow:
    """``signed`` → ``works_started`` on ``change.on``."""
    with Registry.open(ws.registry_path, create=False) as reg, reg.transaction():
        require(reg, change.convention_id)
        return _move(reg, change, "works_started")


def _report_name(convention_id: str, report: Path) -> str:
    ext = report.suffix.lower().lstrip(".")
    if ext not in REPORT_EXTENSIONS:
        raise InputError(_("{path}: a works report must be one of: {exts}.").format(
            path=report, exts=", ".join(sorted(REPORT_EXTENSIONS))))
    if not report.is_file():
        raise InputError(_("{path}: no such file.").format(path=report))
    if report.stat().st_size > MAX_REPORT_BYTES:
        raise InputError(_("{path}: the file is larger than 50 MB.").format(path=report))
    with report.open("rb") as fh:
        head = fh.read(8)
    if ext in _MAGIC and not head.startswith(_MAGIC[ext]):
        raise InputError(_("{path}: the content is not a {ext} file.").format(path=report,
                                                                            ext=ext.upper()))
    return f"{convention_id}-works-report.{ext}"


def finish_works(ws: Workspace, change: StatusChange) -> ConventionRow:
    """``works_started`` → ``works_done`` (completion check), archiving the report."""
    with Registry.open(ws.registry_path, create=False) as reg, reg.transaction():
        row = require(reg, change.convention_id)
        started = status_date(reg, row.id, "works_started")
        if row.status == "works_started" and started and change.on < started:
            raise StateError(_("{id}: the works cannot end ({on}) before they started "
                               "({started}).").format(id=row.id, on=change.on,
                                                      started=started))
        extra: dict[str, Any] = {}
        if change.report is not None:
            name = _report_name(row.id, change.report)
            if "works_done" not in TRANSITIONS[row.status]:  # refuse before writing
                raise refuse_move(row.id, row.status, "works_done")
            (stored,) = add_files(ws, reg, row.id, row.version,
                                  [(name, "works_report", change.report.read_bytes())],
                                  actor=change.by)
            extra = {"report": stored.relpath, "report_sha256": stored.sha256}
        return _move(reg, change, "works_done", extra)


def compute_repayment(conv: Convention, on: date) -> Repayment:
    """Grants paid by ``on``, times the share of the commitment period still to run.

    The period runs from the start of the works to the end of the upkeep commitment.
    Grant instalments due on or before ``on`` (or undated) count as paid."""
    grants = conv.amounts.grants
    steps = conv.payment.schedule
    if steps:
        paid = min(grants, sum((s.amount for s in steps if s.due is None or s.due <= on),
                               Decimal("0")))
    else:
        paid = grants
    start, end = conv.schedule.start, conv.commitment_end
    total = max((end - start).days, 1)
    remaining = min(max((end - on).days, 0), total)
    applies = bool(conv.termination.pro_rata_repayment)
    amount = (paid * remaining / total).quantize(_CENT, ROUND_HALF_UP) if applies else \
        Decimal("0.00")
    return Repayment(applies, paid, start, end, remaining, total, amount)


def terminate(ws: Workspace, change: StatusChange) -> tuple[ConventionRow, Repayment]:
    """Early end of a signed convention, with the repayment computed and recorded."""
    if not change.reason:
        raise InputError(_("A termination needs a reason (--reason)."))
    with Registry.open(ws.registry_path, create=False) as reg, reg.transaction():
        row = require(reg, change.convention_id)
        conv = current_terms(ws, reg, row)
        repayment = compute_repayment(conv, change.on)
        moved = _move(reg, change, "terminated", {"repayment": repayment.to_dict()})
        return moved, repayment


def cancel(ws: Workspace, change: StatusChange) -> ConventionRow:
    """Cancel a convention before signature (its number stays used, never reused)."""
    if not change.reason:
        raise InputError(_("A cancellation needs a reason (--reason)."))
    with Registry.open(ws.registry_path, create=False) as reg, reg.transaction():
        require(reg, change.convention_id)
        return _move(reg, change, "cancelled")
