"""The story of a convention, from its event log: numbered, versions, documents produced,
signed by each, works, checks, amendments, end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.core.i18n import _
from pipeline.lifecycle.statuses import status_label
from pipeline.records.registry import (
    EVENT_ALLOCATED,
    EVENT_AMENDMENT,
    EVENT_CHECK,
    EVENT_NEW_VERSION,
    EVENT_SIGNED,
    EVENT_STATUS,
    EventRow,
)


@dataclass(frozen=True)
class Step:
    """One line of the timeline."""

    at: str
    """When it was recorded (ISO 8601 UTC)."""
    on: str
    """The day it took effect (given by the clerk, else the recording day)."""
    kind: str
    text: str
    actor: str

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "on": self.on, "kind": self.kind, "text": self.text,
                "actor": self.actor}


def _status_text(d: dict[str, Any]) -> str | None:
    to = d.get("to")
    reason = d.get("reason")
    if to == "generated":
        return _("documents produced")
    if to == "signing":
        return None  # the signatures say it
    if to == "signed":
        return _("signed by every signatory")
    if to == "works_started":
        return _("works started")
    if to == "works_done":
        text = _("works done (completion check)")
        return f"{text} — {d['report']}" if d.get("report") else text
    if to == "terminated":
        rep = d.get("repayment") or {}
        return _("terminated: {reason}; repayment {amount} €").format(
            reason=reason, amount=rep.get("amount", "0.00"))
    if to == "cancelled":
        return _("cancelled: {reason}").format(reason=reason)
    return status_label(str(to))


def _text(ev: EventRow) -> tuple[str, str] | None:
    d = ev.details
    if ev.action == EVENT_ALLOCATED:
        return "numbered", _("numbered (reference {ref})").format(ref=d.get("reference"))
    if ev.action == EVENT_NEW_VERSION:
        return "version", _("version {n}").format(n=d.get("to_version"))
    if ev.action == EVENT_SIGNED:
        return "signed", _("signed by {who} ({key})").format(
            who=d.get("signer") or d.get("signatory"), key=d.get("signatory"))
    if ev.action == EVENT_STATUS:
        text = _status_text(d)
        return ("status", text) if text else None
    if ev.action == EVENT_CHECK:
        outcome = _("ok") if d.get("outcome") == "ok" else _("issue")
        note = f" — {d['note']}" if d.get("note") else ""
        return "check", _("upkeep check of task {n} ({label}): {outcome}").format(
            n=d.get("task"), label=d.get("label"), outcome=outcome) + note
    if ev.action == EVENT_AMENDMENT:
        step = d.get("step")
        if step == "signed":
            return "amendment", _("amendment {id} signed: now the terms in force").format(
                id=d.get("amendment"))
        if step == "signature":
            return "amendment", _("amendment {id} signed by {who}").format(
                id=d.get("amendment"), who=d.get("signer") or d.get("signatory"))
        return "amendment", _("amendment {id} produced ({n} change(s))").format(
            id=d.get("amendment"), n=len(d.get("changes") or []))
    return None


def timeline(events: list[EventRow]) -> list[Step]:
    """The steps worth telling, in order (documents and internal moves left out)."""
    out = []
    for ev in events:
        found = _text(ev)
        if found is None:
            continue
        kind, text = found
        on = str(ev.details.get("on") or ev.at[:10])
        out.append(Step(ev.at, on, kind, text, ev.actor))
    return out
