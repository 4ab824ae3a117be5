"""Reminders: each holder receives by e-mail what falls due on their convention.

One message per convention and address. The addresses come from the convention's terms:
the holder's own address, else its representative's, else (for a minor) the legal
guardian's. ``dry_run`` builds the messages without sending anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.core.errors import ConfigError
from pipeline.core.i18n import _
from pipeline.core.mail import send_mail
from pipeline.core.settings import load_settings
from pipeline.core.workspace import Workspace
from pipeline.documents.frenchfmt import date_fr
from pipeline.lifecycle.obligations import Obligation, due_list
from pipeline.lifecycle.terms import current_terms
from pipeline.records.registry import Registry
from schemas import Convention

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reminder:
    """One message, sent or to send."""

    convention_id: str
    holder: str
    to: str | None
    """None when no address is known for the holder (nothing can be sent)."""
    subject: str
    body: str
    sent: bool = False
    message_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"convention": self.convention_id, "holder": self.holder, "to": self.to,
                "subject": self.subject, "body": self.body, "sent": self.sent,
                "message_id": self.message_id}


def holder_addresses(conv: Convention) -> list[tuple[str, str | None]]:
    """(holder name, e-mail address or None) for each holder."""
    out: list[tuple[str, str | None]] = []
    for h in conv.holders:
        rep = h.representative
        address = (h.email or (rep.email if rep else None)
                   or (rep.guardian.email if rep and rep.guardian else None)
                   or (h.guardian.email if h.guardian else None))
        out.append((h.name, str(address) if address else None))
    return out


def _line(o: Obligation) -> str:
    when = date_fr(o.due)
    if o.overdue:
        return _("- OVERDUE since {when}: {label}").format(when=when, label=o.label)
    if o.kind == "upkeep" and o.count > 1:
        return _("- from {when} ({n} times): {label}").format(when=when, n=o.count,
                                                             label=o.label)
    return _("- {when}: {label}").format(when=when, label=o.label)


def build_reminders(ws: Workspace, *, today: date, within: int = 30) -> list[Reminder]:
    """The messages for every holder with something due within ``within`` days."""
    due = due_list(ws, today=today, within=within)
    by_conv: dict[str, list[Obligation]] = {}
    for o in due:
        by_conv.setdefault(o.convention_id, []).append(o)
    out: list[Reminder] = []
    with Registry.open(ws.registry_path, create=False) as reg:
        for cid, items in by_conv.items():
            row = reg.get(cid)
            if row is None:
                continue
            conv = current_terms(ws, reg, row)
            subject = _("Convention {id}: what falls due").format(id=cid)
            lines = "\n".join(_line(o) for o in items)
            for name, address in holder_addresses(conv):
                body = _("Hello,\n\nFor the convention {id} \u201c{title}\u201d, here is what "
                         "falls due in the next {days} days:\n\n{lines}\n\nThe town hall of "
                         "{commune}").format(id=cid, title=conv.title, days=within,
                                             lines=lines, commune=conv.commune.name)
                out.append(Reminder(cid, name, address, subject, body))
    return out


def send_reminders(ws: Workspace, reminders: list[Reminder]) -> list[Reminder]:
    """Send each reminder that has an address through the workspace's SMTP settings."""
    smtp = load_settings(ws).smtp
    if smtp is None:
        raise ConfigError(_("No SMTP settings in {path}: add an smtp section to send "
                            "reminders.").format(path=ws.root / "settings.yaml"))
    sent = []
    for r in reminders:
        if r.to is None:
            sent.append(r)
            continue
        message_id = send_mail(smtp, r.to, r.subject, r.body)
        sent.append(Reminder(r.convention_id, r.holder, r.to, r.subject, r.body, True,
                             message_id))
    return sent
