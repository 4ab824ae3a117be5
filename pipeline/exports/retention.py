"""``archive review`` and ``archive record-decision``: the end of the retention period.

A signed convention is kept ``retention.years_after_end`` years (its convention type)
after the end of its upkeep commitment; then the catalogue's ``final_disposition``
(conservation, destruction, or sorting) is *proposed*. The tool never deletes anything:
French public archives may only be destroyed with the archive service's approval
(visa), which the clerk records as an ``archive_decision`` event. Destroying the files
stays a separate, human act under the archive service's control.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.catalogue.loader import Catalogue
from pipeline.core.errors import ConfigError, StateError
from pipeline.core.i18n import _
from pipeline.exports.sources import SIGNED_STATUSES
from pipeline.records.registry import ConventionRow, EventRow, Registry
from pipeline.records.transfers import EVENT_ARCHIVE_DECISION, decisions, last_transfer
from schemas.convention import add_years

ACTIONS = ("conservation", "destruction", "tri")
"""Final actions, as the catalogue names them."""
_SAFE_TEXT = re.compile(r"[^\x00-\x1f\x7f]{1,200}")


@dataclass(frozen=True)
class ReviewItem:
    """A convention whose retention period has ended."""

    convention_id: str
    title: str
    commitment_end: date
    retention_years: int
    due: date
    """The day the retention period ended."""
    proposed: str
    """``conservation``, ``destruction`` or ``tri``."""
    transferred_on: str | None
    decision: dict[str, Any] | None
    """The last recorded decision (``action``, ``approved_by``, ``on``), if any."""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.convention_id, "title": self.title,
                "commitment_end": self.commitment_end.isoformat(),
                "retention_years": self.retention_years, "due": self.due.isoformat(),
                "proposed": self.proposed, "transferred_on": self.transferred_on,
                "decision": self.decision}


def _due(catalogue: Catalogue, row: ConventionRow) -> tuple[date, int, str]:
    retention = catalogue.get(row.type_id).retention
    end = row.commitment_end or row.end
    return add_years(end, retention.years_after_end), retention.years_after_end, \
        retention.final_disposition


def _decision(ev: EventRow | None) -> dict[str, Any] | None:
    return None if ev is None else {k: ev.details.get(k) for k in
                                    ("action", "approved_by", "on", "reference")}


def review(reg: Registry, catalogue: Catalogue, today: date) -> list[ReviewItem]:
    """Signed conventions whose retention period ended on or before ``today``."""
    out = []
    for row in reg.list():
        if row.status not in SIGNED_STATUSES:
            continue
        due, years, proposed = _due(catalogue, row)
        if due > today:
            continue
        found = decisions(reg, row.id)
        transfer = last_transfer(reg, row.id)
        out.append(ReviewItem(row.id, row.title, row.commitment_end or row.end, years, due,
                              proposed, transfer.at[:10] if transfer else None,
                              _decision(found[-1] if found else None)))
    return sorted(out, key=lambda i: (i.due, i.convention_id))


@dataclass(frozen=True)
class DecisionRequest:
    """The archive service's answer, as the clerk records it."""

    convention_id: str
    approved_by: str
    """Who approved (name and office at the archive service)."""
    on: date
    action: str | None = None
    """Defaults to the proposed final action."""
    reference: str | None = None
    """Reference of the approval (the signed destruction list, a letter…)."""
    actor: str = "fiftyfifty"


def record_decision(reg: Registry, catalogue: Catalogue, req: DecisionRequest,
                    today: date) -> EventRow:
    """Record the decision as an ``archive_decision`` event; delete nothing."""
    for label, value in (("--approved-by", req.approved_by), ("--reference", req.reference)):
        if value is not None and not _SAFE_TEXT.fullmatch(value.strip()):
            raise ConfigError(_("{option}: 1 to 200 printable characters expected.")
                              .format(option=label))
    if req.on > today:
        raise ConfigError(_("--on {day}: a decision cannot be dated in the future.").format(
            day=req.on.isoformat()))
    with reg.transaction():
        row = reg.get(req.convention_id)
        if row is None:
            raise StateError(_("No convention {id} in the registry.").format(
                id=req.convention_id))
        if row.status not in SIGNED_STATUSES:
            raise StateError(_("{id} is not signed (status {status}): it has no retention "
                               "period.").format(id=row.id, status=row.status))
        due, _years, proposed = _due(catalogue, row)
        if due > today:
            raise StateError(_("The retention period of {id} ends on {day}: no decision can "
                               "be recorded before.").format(id=row.id, day=due.isoformat()))
        action = req.action or proposed
        if action not in ACTIONS:
            raise ConfigError(_("Unknown final action {action}: {choices}.").format(
                action=action, choices=", ".join(ACTIONS)))
        details: dict[str, Any] = {"action": action, "approved_by": req.approved_by.strip(),
                                   "on": req.on.isoformat(), "proposed": proposed}
        if req.reference:
            details["reference"] = req.reference.strip()
        return reg.record_event(row.id, EVENT_ARCHIVE_DECISION, req.actor, details)


__all__ = ["ACTIONS", "DecisionRequest", "ReviewItem", "record_decision", "review"]
