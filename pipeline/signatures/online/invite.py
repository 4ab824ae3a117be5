"""``fiftyfifty invite``: e-mail each signatory who may sign now a personal link.

Holders (and guardians) are invited together; the commune's representative once every
holder has signed. Each link carries a random token stored only as its hash; it expires,
and it is spent once the signatory has signed or declined. ``resend`` replaces the active
link by a new one; ``revoke`` closes it. Every step is an event in the registry.
"""

from __future__ import annotations

import json
import logging
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.core.errors import ConfigError, InputError, SigningError, StateError
from pipeline.core.i18n import _
from pipeline.core.mail import send_mail
from pipeline.core.settings import Settings
from pipeline.core.workspace import Workspace
from pipeline.documents.pdf.page_images import ensure_page_images, page_images_folder
from pipeline.records.archive import workspace_path
from pipeline.records.registry import ConventionRow, Registry
from pipeline.records.registry.invitations import InvitationRow, InvitationStore
from pipeline.signatures.online.tokens import new_token
from pipeline.signatures.workflow import COMMUNE_KEY, check_can_sign, signing_group, signing_order

__all__ = ["InviteOutcome", "InviteRequest", "Invited", "intake_record", "invite",
           "signatory_email"]

log = logging.getLogger(__name__)

DEFAULT_EXPIRY = timedelta(days=14)
MAX_EXPIRY = timedelta(days=90)
ACTOR = "invite"


@dataclass(frozen=True)
class InviteRequest:
    """What ``fiftyfifty invite`` asks."""

    convention_id: str
    signatory: str | None = None
    """One signatory key; default: every signatory who may sign now."""
    expires: timedelta = DEFAULT_EXPIRY
    resend: bool = False
    """Replace an active link by a new one (the old one stops working)."""
    revoke: bool = False
    """Close the active link(s) without sending anything."""


@dataclass(frozen=True)
class Invited:
    """One signatory's outcome."""

    signatory: str
    name: str
    action: str
    """``sent``, ``resent``, ``revoked``, ``skipped``."""
    note: str = ""
    expires_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"signatory": self.signatory, "name": self.name, "action": self.action,
                "note": self.note, "expires_at": self.expires_at}


@dataclass(frozen=True)
class InviteOutcome:
    convention_id: str
    invited: tuple[Invited, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"convention": self.convention_id,
                "signatories": [i.to_dict() for i in self.invited]}


def intake_record(ws: Workspace, reg: Registry, row: ConventionRow) -> dict[str, Any]:
    """The archived intake record of the convention's version (the validated data, with
    the holders' e-mail addresses), or ``{}``."""
    docs = [d for d in reg.documents(row.id) if d.kind == "intake" and d.version == row.version]
    if not docs:
        return {}
    try:
        data = json.loads(workspace_path(ws, docs[-1].relpath).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _holder(holders: list[Any], n: int) -> dict[str, Any]:
    if 1 <= n <= len(holders) and isinstance(holders[n - 1], dict):
        return dict(holders[n - 1])
    return {}


def _email_of(person: Any) -> str | None:
    if isinstance(person, dict) and isinstance(person.get("email"), str):
        return str(person["email"]) or None
    return None


def signatory_email(row: ConventionRow, key: str, settings: Settings,
                    record: dict[str, Any] | None = None) -> str | None:
    """The e-mail address of a signatory: from the intake ``record`` (else the registry's
    holders); for the commune, ``signing.commune_email`` of the settings, else the town
    hall's address in the record."""
    record = record or {}
    entry = next((s for s in row.signatories if s.get("key") == key), {})
    if isinstance(entry.get("email"), str) and entry["email"]:
        return str(entry["email"])
    if key == COMMUNE_KEY:
        value = settings.section("signing").get("commune_email")
        return str(value) if value else _email_of(record.get("commune"))
    parts = key.split("-")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[1:]):
        return None
    holders = record.get("holders")
    holder = _holder(holders if isinstance(holders, list) else row.holders, int(parts[1]))
    rep = holder.get("representative") if isinstance(holder.get("representative"), dict) else None
    if parts[0] == "holder":
        return _email_of(rep) or _email_of(holder)
    if parts[0] == "guardian" and len(parts) == 2:
        return _email_of((rep or holder).get("guardian")) or _email_of(holder.get("guardian"))
    if parts[0] == "guardian" and len(parts) == 3:
        members = holder.get("members") or []
        m = int(parts[2])
        if 1 <= m <= len(members) and isinstance(members[m - 1], dict):
            return _email_of(members[m - 1].get("guardian"))
    return None


def _link(settings: Settings, token: str) -> str:
    assert settings.base_url
    return f"{settings.base_url}/signer/{token}"


def _mail(settings: Settings, row: ConventionRow, inv: InvitationRow, token: str) -> None:
    assert settings.smtp
    expires = datetime.fromisoformat(inv.expires_at).astimezone()
    subject = _("Convention {id} to sign online").format(id=row.id)
    body = _(
        "Hello {name},\n\n"
        "The town hall invites you to read and sign the convention {id} « {title} » online.\n"
        "Open this personal link (do not share it):\n\n{link}\n\n"
        "The link is valid until {expires}. On the page you will ask for a code sent to this "
        "address, then read, accept and sign the convention.\n\n"
        "If you did not expect this message, ignore it and contact the town hall.\n"
    ).format(name=inv.name, id=row.id, title=row.title, link=_link(settings, token),
             expires=expires.strftime("%d/%m/%Y %H:%M"))
    send_mail(settings.smtp, inv.email, subject, body)


def _targets(reg: Registry, row: ConventionRow, wanted: str | None) -> list[dict[str, Any]]:
    if row.status not in ("generated", "signing"):
        raise SigningError(f"{row.id} is {row.status}: it cannot be signed online.")
    order = signing_order(row.type_id)
    if wanted is not None:
        return [check_can_sign(reg, row, wanted, order)]
    done = reg.signatures(row.id)
    unsigned = [s for s in row.signatories if s.get("key") not in done]
    if not unsigned:
        raise SigningError(f"{row.id} is already signed by every signatory.")
    for group in order:
        now = [s for s in unsigned if signing_group(str(s.get("key"))) == group]
        if now:
            return now
    return []


def _check(settings: Settings, request: InviteRequest) -> None:
    if request.revoke:
        return
    if not settings.base_url or settings.smtp is None:
        raise ConfigError(
            _("The settings lack base_url or smtp: invitations cannot be sent."),
            hint=_("Fill in {path} (see the README, 'Signing online').").format(
                path=settings.path))
    if not timedelta(minutes=5) <= request.expires <= MAX_EXPIRY:
        raise InputError(_("--expires must be between 5 minutes and 90 days."))


def invite(ws: Workspace, settings: Settings, request: InviteRequest, *,
           actor: str = ACTOR) -> InviteOutcome:
    """Send, resend or revoke invitations for one convention (see the module docstring)."""
    _check(settings, request)
    results: list[Invited] = []
    with Registry.open(ws.registry_path, create=False) as reg:
        row = reg.get(request.convention_id)
        if row is None:
            raise StateError(f"No convention {request.convention_id} in the registry.")
        store = InvitationStore(reg)
        if request.revoke:
            keys = [request.signatory] if request.signatory else [
                str(s.get("key")) for s in row.signatories]
            for key in keys:
                inv = store.active(row.id, key)
                if inv is None:
                    continue
                with reg.transaction():
                    store.close(inv.id, "revoked")
                    store.add_step(inv.id, "invitation_revoked")
                    reg.record_event(row.id, "invitation_revoked", actor,
                                     {"signatory": key, "invitation": inv.id})
                results.append(Invited(key, inv.name, "revoked"))
            return InviteOutcome(row.id, tuple(results))
        record = intake_record(ws, reg, row)
        for entry in _targets(reg, row, request.signatory):
            results.append(_invite_one(reg, store, settings, row, entry, request, actor,
                                       record))
        if any(r.action in ("sent", "resent") for r in results):
            _prepare_pages(ws, reg, row)
    return InviteOutcome(row.id, tuple(results))


def _prepare_pages(ws: Workspace, reg: Registry, row: ConventionRow) -> None:
    """Render the page images the signing page will show, now rather than while the
    first signer waits; a failure only means they are rendered on the first visit."""
    doc = reg.latest_document(row.id, ["signed", "pdf"])
    if doc is None:
        return
    try:
        ensure_page_images(workspace_path(ws, doc.relpath),
                           page_images_folder(ws.root, doc.sha256))
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("page images of %s not rendered in advance: %s", row.id,
                    type(exc).__name__)


def _invite_one(reg: Registry, store: InvitationStore, settings: Settings, row: ConventionRow,
                entry: dict[str, Any], request: InviteRequest, actor: str,
                record: dict[str, Any]) -> Invited:
    key, name = str(entry.get("key")), str(entry.get("name") or "")
    active = store.active(row.id, key)
    if active is not None and not request.resend:
        return Invited(key, name, "skipped", _("already invited; use --resend for a new link"),
                       active.expires_at)
    email = signatory_email(row, key, settings, record)
    if not email:
        return Invited(key, name, "skipped", _("no e-mail address in the record"))
    token, digest = new_token()
    expires = datetime.now(UTC) + request.expires
    action = "resent" if active is not None else "sent"
    with reg.transaction():
        if active is not None:
            store.close(active.id, "replaced")
        inv = store.create(row.id, key, name, email, digest, expires)
    try:
        _mail(settings, row, inv, token)
    except Exception:
        store.close(inv.id, "revoked")
        raise
    with reg.transaction():
        store.add_step(inv.id, "invitation_sent", details={"expires_at": inv.expires_at})
        reg.record_event(row.id, f"invitation_{action}", actor, {
            "signatory": key, "invitation": inv.id, "expires_at": inv.expires_at})
    log.info("invitation %s for %s of %s", action, key, row.id)
    return Invited(key, name, action, expires_at=inv.expires_at)
