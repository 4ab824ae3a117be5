"""Dated obligations of signed conventions: upkeep tasks, payments, review, end of commitment.

The durability clauses become dates: each upkeep task recurs (its structured frequency,
see :mod:`schemas.recurrence`) from the end of the works to the end of the commitment;
payment instalments and the evaluation review fall on their dates; the commitment ends on
``commitment_end``. A task is *overdue* when its latest occurrence has passed and no check
of it was recorded on or after that day (``fiftyfifty checks record``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from dateutil.rrule import rrulestr

from pipeline.core.i18n import _
from pipeline.core.workspace import Workspace
from pipeline.documents.frenchfmt import amount_fr
from pipeline.lifecycle.terms import current_terms, status_date
from pipeline.records.registry import EVENT_CHECK, ConventionRow, Registry
from schemas import Convention
from schemas.recurrence import Recurrence

log = logging.getLogger(__name__)

FOLLOWED_STATUSES = ("signed", "works_started", "works_done")
"""Conventions whose obligations are followed (terminated and cancelled ones are not)."""

ObligationKind = Literal["upkeep", "payment", "review", "commitment_end"]


@dataclass(frozen=True)
class TaskPlan:
    """An upkeep task as a recurrence over the commitment period."""

    convention_id: str
    number: int
    """1-based, as in ``checks record --task N``."""
    task: str
    who: str
    frequency: str
    """The free text of the convention."""
    recurrence: Recurrence | None
    """None when the text could not be read: the task is listed once, at the start."""
    first: date
    """First occurrence (the iCalendar DTSTART)."""
    until: date

    def rrule_text(self) -> str | None:
        """``FREQ=…;INTERVAL=…;BYMONTH=…;UNTIL=…`` or None."""
        if self.recurrence is None:
            return None
        parts = [f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}"
                 for k, v in self.recurrence.rrule().items()]
        parts.append(f"UNTIL={self.until:%Y%m%d}")
        return ";".join(parts)

    def occurrences(self, start: date, end: date) -> list[date]:
        """Occurrences between ``start`` and ``end`` included."""
        text = self.rrule_text()
        if text is None:
            return [self.first] if start <= self.first <= end else []
        rule = rrulestr(text, dtstart=datetime.combine(self.first, datetime.min.time()))
        lo = datetime.combine(max(start, self.first), datetime.min.time())
        hi = datetime.combine(min(end, self.until), datetime.min.time())
        if lo > hi:
            return []
        return [d.date() for d in rule.between(lo, hi, inc=True)]


@dataclass(frozen=True)
class Obligation:
    """Something that falls due on a day."""

    convention_id: str
    title: str
    holders: str
    kind: ObligationKind
    due: date
    label: str
    who: str = ""
    task: int | None = None
    overdue: bool = False
    count: int = 1
    """For an upkeep task: how many occurrences fall in the window."""

    def to_dict(self) -> dict[str, Any]:
        return {"convention": self.convention_id, "title": self.title,
                "holders": self.holders, "kind": self.kind, "due": self.due.isoformat(),
                "label": self.label, "who": self.who, "task": self.task,
                "overdue": self.overdue, "occurrences": self.count}


def _upkeep_start(works_end: date, rec: Recurrence | None) -> date:
    """The day the upkeep starts: the day after the works, or the next 1st of a month for
    a monthly or yearly rhythm (so that the day of the month exists every month)."""
    day = works_end + timedelta(days=1)
    if rec is not None and rec.unit != "week" and day.day != 1:
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return day


def task_plans(row: ConventionRow, conv: Convention, works_end: date) -> list[TaskPlan]:
    """The upkeep tasks of a convention as recurrences."""
    until = conv.commitment_end
    plans = []
    for n, task in enumerate(conv.upkeep.tasks, start=1):
        rec = task.schedule()
        base = _upkeep_start(works_end, rec)
        first = base
        if rec is not None:
            probe = TaskPlan(row.id, n, task.task, task.who, task.frequency, rec, base, until)
            found = probe.occurrences(base, until)
            if not found:
                continue
            first = found[0]
        plans.append(TaskPlan(row.id, n, task.task, task.who, task.frequency, rec, first,
                              until))
    return plans


def last_checks(reg: Registry, convention_id: str) -> dict[int, date]:
    """The latest check date of each upkeep task."""
    out: dict[int, date] = {}
    for event in reg.events(convention_id):
        if event.action != EVENT_CHECK:
            continue
        try:
            task, on = int(event.details["task"]), date.fromisoformat(event.details["on"])
        except (KeyError, TypeError, ValueError):
            continue
        if task not in out or on > out[task]:
            out[task] = on
    return out


def works_end(reg: Registry, row: ConventionRow, conv: Convention) -> date:
    """When the works ended (recorded), else when they are planned to end."""
    return status_date(reg, row.id, "works_done") or conv.schedule.end


def convention_obligations(ws: Workspace, reg: Registry, row: ConventionRow, *, today: date,
                           within: int) -> list[Obligation]:
    """What falls due for one convention from ``today`` to ``today + within`` days, and
    the upkeep tasks overdue."""
    conv = current_terms(ws, reg, row)
    horizon = today + timedelta(days=within)
    holders = ", ".join(h.name for h in conv.holders)

    def item(kind: ObligationKind, due: date, label: str, **more: Any) -> Obligation:
        return Obligation(row.id, conv.title, holders, kind, due, label, **more)

    out: list[Obligation] = []
    checks = last_checks(reg, row.id)
    for plan in task_plans(row, conv, works_end(reg, row, conv)):
        past = plan.occurrences(plan.first, today - timedelta(days=1))
        if past and checks.get(plan.number, date.min) < past[-1]:
            out.append(item("upkeep", past[-1], plan.task, who=plan.who, task=plan.number,
                            overdue=True))
        coming = plan.occurrences(today, horizon)
        if coming:
            out.append(item("upkeep", coming[0], plan.task, who=plan.who, task=plan.number,
                            count=len(coming)))
    for step in conv.payment.schedule:
        if step.due is not None and today <= step.due <= horizon:
            out.append(item("payment", step.due, f"{amount_fr(step.amount)} — {step.condition}",
                            who="commune"))
    review = conv.evaluation.review_date
    if review is not None and today <= review <= horizon:
        out.append(item("review", review, _("project review")))
    if today <= conv.commitment_end <= horizon:
        out.append(item("commitment_end", conv.commitment_end,
                        _("end of the upkeep commitment")))
    return out


def followed(reg: Registry) -> list[ConventionRow]:
    """The conventions whose obligations are followed."""
    return [r for r in reg.list() if r.status in FOLLOWED_STATUSES]


def due_list(ws: Workspace, *, today: date, within: int = 90,
             convention_id: str | None = None) -> list[Obligation]:
    """Everything that falls due, by convention then date (overdue first)."""
    with Registry.open(ws.registry_path, create=False) as reg:
        rows = [r for r in followed(reg) if convention_id in (None, r.id)]
        out = [o for r in rows for o in convention_obligations(ws, reg, r, today=today,
                                                                within=within)]
    return sorted(out, key=lambda o: (o.convention_id, not o.overdue, o.due, o.task or 0))


def overdue_ids(ws: Workspace, reg: Registry, *, today: date) -> set[str]:
    """Conventions with at least one upkeep task overdue."""
    return {o.convention_id for r in followed(reg)
            for o in convention_obligations(ws, reg, r, today=today, within=0) if o.overdue}
