"""The upkeep calendar as an iCalendar file (RFC 5545) for Outlook or Thunderbird.

One all-day event per upkeep task, repeated by its recurrence rule (``RRULE`` with
``FREQ``, ``INTERVAL``, ``BYMONTH`` and ``UNTIL`` = end of the commitment), and one
event for each payment date, the evaluation review and the end of the commitment. Each
event has a stable ``UID`` (``<ID>-upkeep-<N>@fiftyfifty``), so importing the file again
updates the events instead of duplicating them.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from icalendar import Calendar, Event, vRecur

from pipeline.core.files import write_atomic
from pipeline.core.i18n import _
from pipeline.core.workspace import Workspace
from pipeline.lifecycle.obligations import followed, task_plans, works_end
from pipeline.lifecycle.terms import current_terms
from pipeline.records.registry import Registry

log = logging.getLogger(__name__)

PRODID = "-//fiftyfifty//upkeep calendar//FR"


def _event(uid: str, day: date, summary: str, description: str, stamp: datetime) -> Event:
    ev = Event()
    ev.add("uid", uid)
    ev.add("dtstamp", stamp)
    ev.add("dtstart", day)
    ev.add("dtend", day + timedelta(days=1))
    ev.add("summary", summary)
    ev.add("description", description)
    ev.add("transp", "TRANSPARENT")
    return ev


def build_calendar(ws: Workspace, *, now: datetime | None = None,
                   convention_id: str | None = None) -> Calendar:
    """The calendar of every followed convention (or of one)."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _("Upkeep of the fifty-fifty conventions"))
    with Registry.open(ws.registry_path, create=False) as reg:
        for row in followed(reg):
            if convention_id not in (None, row.id):
                continue
            conv = current_terms(ws, reg, row)
            holders = ", ".join(h.name for h in conv.holders)
            head = f"{row.id} — {conv.title} ({holders})"
            for plan in task_plans(row, conv, works_end(reg, row, conv)):
                ev = _event(f"{row.id}-upkeep-{plan.number}@fiftyfifty", plan.first,
                            f"{row.id} : {plan.task}",
                            _("{head}\nUpkeep task {n}: {task}\nWho: {who}\nFrequency: "
                              "{freq}").format(head=head, n=plan.number, task=plan.task,
                                               who=plan.who, freq=plan.frequency), stamp)
                if plan.recurrence is not None:
                    rule = dict(plan.recurrence.rrule())
                    rule["UNTIL"] = plan.until
                    ev.add("rrule", vRecur(rule))
                cal.add_component(ev)
            for n, step in enumerate(conv.payment.schedule, start=1):
                if step.due is not None:
                    cal.add_component(_event(
                        f"{row.id}-payment-{n}@fiftyfifty", step.due,
                        _("{id}: payment of {amount} €").format(id=row.id, amount=step.amount),
                        f"{head}\n{step.condition}", stamp))
            if conv.evaluation.review_date is not None:
                cal.add_component(_event(
                    f"{row.id}-review@fiftyfifty", conv.evaluation.review_date,
                    _("{id}: project review").format(id=row.id), head, stamp))
            cal.add_component(_event(
                f"{row.id}-end@fiftyfifty", conv.commitment_end,
                _("{id}: end of the upkeep commitment").format(id=row.id), head, stamp))
    return cal


def write_calendar(ws: Workspace, output: Path, *, now: datetime | None = None,
                   convention_id: str | None = None) -> int:
    """Write the calendar to ``output`` atomically; return the number of events."""
    cal = build_calendar(ws, now=now, convention_id=convention_id)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(output, cal.to_ical())
    return len(cal.walk("VEVENT"))
