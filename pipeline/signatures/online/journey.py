"""The signer's journey on the web: open the link, get and check a one-time code, then
sign (or decline). The web pages only call these functions.

Signing: a one-time certificate naming the signer is issued by the workspace's CA, its
key is used once through :func:`pipeline.signatures.workflow.sign_convention` (same order,
archive, events and level policy as ``fiftyfifty sign``) and dropped. The signed PDF is
written atomically by the archive; if the server dies before the registry records it,
nothing is recorded and the signer can sign again; if it dies after, the next visit
finishes the invitation and the evidence file (:func:`finish_pending`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from pipeline.core.errors import PipelineError, SigningError, StateError
from pipeline.core.i18n import _
from pipeline.core.mail import send_mail
from pipeline.core.settings import Settings
from pipeline.core.workspace import Workspace
from pipeline.records.registry import ConventionRow, Registry
from pipeline.records.registry.invitations import InvitationRow, InvitationStore, utc_now
from pipeline.signatures.credentials import KeyCredential
from pipeline.signatures.online.drawing import online_appearance
from pipeline.signatures.online.evidence import archive_evidence
from pipeline.signatures.online.invite import InviteRequest, invite
from pipeline.signatures.online.tokens import (
    code_matches,
    hash_code,
    hash_token,
    looks_like_token,
    new_code,
)
from pipeline.signatures.signing_ca import load_signing_ca
from pipeline.signatures.workflow import COMMUNE_KEY, check_can_sign, sign_convention
from pipeline.signatures.workflow import SignRequest as ConventionSignRequest
from pipeline.signatures.workflow import signing_order as _signing_order

__all__ = ["CODE_TTL", "MAX_ATTEMPTS", "CodeCheck", "SignRequest", "SignedOnline", "Visitor",
           "check_code", "decline", "finish_pending", "open_link", "request_code", "sign",
           "status_of", "waiting_for"]

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
VERIFIED_TTL = timedelta(minutes=30)
"""How long a checked code lets the signer sign."""
ACTOR = "web"
OPEN_STATUSES = ("generated", "signing")
"""Statuses in which a convention can still be signed online."""
IDENTIFIED_BY = "Identifié par un code à usage unique envoyé par courriel"


@dataclass(frozen=True)
class Visitor:
    """Who is asking: recorded in the evidence, never in the logs."""

    ip: str
    user_agent: str


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    locked: bool
    remaining: int


@dataclass(frozen=True)
class SignRequest:
    consent: bool
    typed_name: str
    drawing: bytes | None
    """A clean PNG (see :func:`~pipeline.signatures.online.drawing.decode_drawing`)."""


@dataclass(frozen=True)
class SignedOnline:
    convention_id: str
    signatory: str
    document: str
    evidence: str


@cache
def signing_order(type_id: str) -> tuple[str, ...]:
    """The convention type's signing order (the catalogue is read once per process)."""
    return _signing_order(type_id)


def _open(ws: Workspace) -> Registry:
    return Registry.open(ws.registry_path, create=False)


def open_link(ws: Workspace, token: str, visitor: Visitor) -> int | None:
    """The invitation of a usable link (and a ``link_opened`` step), else ``None``: unknown,
    expired, used, revoked and locked links all look the same to the caller."""
    if not looks_like_token(token):
        return None
    with _open(ws) as reg:
        store = InvitationStore(reg)
        inv = store.by_token_hash(hash_token(token))
        if inv is None or not inv.usable(utc_now()):
            return None
        row = reg.get(inv.convention_id)
        if row is None or row.status not in OPEN_STATUSES:
            return None
        store.add_step(inv.id, "link_opened", ip=visitor.ip, user_agent=visitor.user_agent)
        reg.record_event(inv.convention_id, "invitation_opened", ACTOR,
                         {"signatory": inv.signatory, "invitation": inv.id})
        return inv.id


def status_of(ws: Workspace, invitation_id: int) -> tuple[InvitationRow, ConventionRow]:
    """The invitation and its convention (``StateError`` if either is gone)."""
    with _open(ws) as reg:
        inv = InvitationStore(reg).get(invitation_id)
        row = reg.get(inv.convention_id)
        if row is None:
            raise StateError("The convention no longer exists.")
        return inv, row


def waiting_for(ws: Workspace, inv: InvitationRow) -> str | None:
    """Why this signatory cannot sign yet (holders first, the commune last), or ``None``."""
    with _open(ws) as reg:
        row = reg.get(inv.convention_id)
        if row is None:
            return _("The convention no longer exists.")
        try:
            check_can_sign(reg, row, inv.signatory, signing_order(row.type_id))
        except SigningError:
            done = reg.signatures(row.id)
            if inv.signatory in done:
                return None
            return _("The convention cannot be signed by you yet: the other signatories "
                     "must sign first. You will be able to sign later with this same link.")
    return None


def request_code(ws: Workspace, settings: Settings, invitation_id: int, visitor: Visitor,
                 *, now: datetime | None = None) -> None:
    """Send a fresh 6-digit code to the invitation's address (valid 10 minutes)."""
    if settings.smtp is None:
        raise StateError("No SMTP settings: codes cannot be sent.")
    with _open(ws) as reg:
        store = InvitationStore(reg)
        inv = store.get(invitation_id)
        if not inv.usable(utc_now()):
            raise StateError("This invitation is no longer usable.")
        code = new_code()
        store.set_code(inv.id, hash_code(code), (now or utc_now()) + CODE_TTL)
        body = _("Hello {name},\n\nYour code to sign the convention {id} is: {code}\n\n"
                 "It is valid for 10 minutes. Never give it to anyone: the town hall will "
                 "never ask you for it.\n").format(name=inv.name, id=inv.convention_id,
                                                    code=code)
        send_mail(settings.smtp, inv.email,
                  _("Your signing code: {code}").format(code=code), body)
        store.add_step(inv.id, "code_sent", ip=visitor.ip, user_agent=visitor.user_agent)


def check_code(ws: Workspace, invitation_id: int, code: str, visitor: Visitor) -> CodeCheck:
    """Check a code: spent when right; five wrong codes lock the link."""
    with _open(ws) as reg:
        store = InvitationStore(reg)
        inv = store.get(invitation_id)
        if not inv.usable(utc_now()):
            return CodeCheck(False, inv.locked, 0)
        fresh = bool(inv.code_expires_at) and \
            datetime.fromisoformat(str(inv.code_expires_at)) > utc_now()
        if fresh and code_matches(code, inv.code_hash):
            store.verified(inv.id)
            store.add_step(inv.id, "code_checked", ip=visitor.ip, user_agent=visitor.user_agent)
            return CodeCheck(True, False, MAX_ATTEMPTS - inv.code_attempts)
        after = store.failed_attempt(inv.id, MAX_ATTEMPTS)
        store.add_step(inv.id, "code_locked" if after.locked else "code_failed",
                       ip=visitor.ip, user_agent=visitor.user_agent,
                       details={"expired": not fresh})
        if after.locked:
            reg.record_event(inv.convention_id, "invitation_locked", ACTOR,
                             {"signatory": inv.signatory, "invitation": inv.id})
        return CodeCheck(False, after.locked, max(0, MAX_ATTEMPTS - after.code_attempts))


def _ready(inv: InvitationRow) -> None:
    if not inv.usable(utc_now()):
        raise StateError("This invitation is no longer usable.")
    if not inv.verified_at or \
            datetime.fromisoformat(inv.verified_at) + VERIFIED_TTL < utc_now():
        raise StateError("The one-time code has not been checked.")


def _facts(reg: Registry, inv: InvitationRow, row: ConventionRow, outcome: str,
           extra: dict[str, Any]) -> dict[str, Any]:
    entry = next((s for s in row.signatories if s.get("key") == inv.signatory), {})
    return {
        "kind": "fiftyfifty-evidence", "format": 1, "outcome": outcome,
        "convention": row.id, "title": row.title, "version": row.version,
        "signatory": inv.signatory, "capacity": str(entry.get("capacity") or ""),
        "signer": {"name": inv.name, "email": inv.email,
                   "typed_name": extra.pop("typed_name", None)},
        "identification": IDENTIFIED_BY,
        "invitation": {"id": inv.id, "created_at": inv.created_at,
                       "expires_at": inv.expires_at},
        "steps": [s.to_dict() for s in InvitationStore(reg).steps(inv.id)],
        "generated_at": datetime.now(UTC).isoformat(),
        **extra,
    }


def _source(reg: Registry, row: ConventionRow) -> dict[str, str]:
    doc = reg.latest_document(row.id, ["signed", "pdf"])
    if doc is None:
        raise StateError(f"{row.id} has no PDF in the archive.")
    return {"path": doc.relpath, "sha256": doc.sha256}


def sign(ws: Workspace, settings: Settings, invitation_id: int, request: SignRequest,
         visitor: Visitor) -> SignedOnline:
    """Sign the signatory's field with a one-time certificate; archive the evidence."""
    if not request.consent:
        raise StateError("The convention was not accepted.")
    typed = " ".join(request.typed_name.split())[:120]
    if not typed:
        raise StateError("The name was not typed.")
    ca = load_signing_ca(ws)
    with _open(ws) as reg:
        store = InvitationStore(reg)
        inv = store.get(invitation_id)
        _ready(inv)
        row = reg.get(inv.convention_id)
        if row is None or row.status not in OPEN_STATUSES:
            raise StateError("The convention can no longer be signed.")
        check_can_sign(reg, row, inv.signatory, signing_order(row.type_id))
        before = _source(reg, row)
        store.add_step(inv.id, "consent", ip=visitor.ip, user_agent=visitor.user_agent,
                       details={"typed_name": typed, "drawing": request.drawing is not None})
    entry = next((s for s in row.signatories if s.get("key") == inv.signatory), {})
    cred = ca.issue_one_time(inv.name, inv.email)
    signing = settings.section("signing")
    moment = datetime.now(UTC)

    def appearance(width: float, height: float) -> bytes:
        return online_appearance(
            name=typed, capacity=str(entry.get("capacity") or ""), when=moment.astimezone(),
            identified_by=IDENTIFIED_BY, drawing=request.drawing, width=width, height=height)

    level = str(signing.get("level") or "") or None
    convention_request = ConventionSignRequest(
        row.id, inv.signatory, level=level,  # type: ignore[arg-type]
        timestamp_url=str(signing.get("timestamp_url") or "") or None,
        reason=f"Signature en ligne de la convention {row.id}",
        location=str(signing.get("location") or "") or None,
        when=moment, actor=ACTOR, appearance=appearance)
    # The one-time key lives only in memory, for this one signature.
    with KeyCredential(cred.key, cred.cert, (cred.ca_cert,), "one-time").open() as opened:
        done = sign_convention(ws, convention_request, opened)
    with _open(ws) as reg:
        store = InvitationStore(reg)
        store.add_step(inv.id, "signed", ip=visitor.ip, user_agent=visitor.user_agent,
                       details={"document": done.document.relpath,
                                "certificate_sha256": cred.fingerprint})
        row = reg.get(inv.convention_id) or row
        facts = _facts(reg, inv, row, "signed", {
            "typed_name": typed, "document_before": before,
            "document_after": {"path": done.document.relpath, "sha256": done.document.sha256},
            "level": done.level,
            "certificate": {"sha256_fingerprint": cred.fingerprint,
                            "subject": cred.cert.subject.rfc4514_string(),
                            "issuer": cred.cert.issuer.rfc4514_string(),
                            "serial": format(cred.cert.serial_number, "x")},
        })
        report, _js = archive_evidence(ws, reg, ca, facts, actor=ACTOR)
        store.close(inv.id, "signed")
    if done.remaining == (COMMUNE_KEY,) and signing.get("auto_invite_commune", True):
        _invite_commune(ws, settings, row.id)
    return SignedOnline(row.id, inv.signatory, done.document.relpath, report.relpath)


def _invite_commune(ws: Workspace, settings: Settings, convention_id: str) -> None:
    """Every holder has signed: invite the commune's representative (when an address is
    configured); a failure is logged, the clerk can still run ``fiftyfifty invite``."""
    try:
        invite(ws, settings, InviteRequest(convention_id, COMMUNE_KEY), actor=ACTOR)
    except PipelineError as exc:
        log.warning("the commune could not be invited automatically: %s",
                    type(exc).__name__)


def finish_pending(ws: Workspace, invitation_id: int) -> bool:
    """After a crash between the signature and the invitation's closing: close it, with an
    evidence file. Returns ``True`` when the signatory has in fact signed."""
    with _open(ws) as reg:
        store = InvitationStore(reg)
        inv = store.get(invitation_id)
        done = reg.signatures(inv.convention_id)
        if inv.state != "active" or inv.signatory not in done:
            return inv.state == "signed"
        row = reg.get(inv.convention_id)
        if row is None:
            return False
        event = done[inv.signatory].details
        facts = _facts(reg, inv, row, "signed", {
            "document_before": {"path": event.get("from_document"), "sha256": None},
            "document_after": {"path": event.get("document"), "sha256": event.get("sha256")},
            "level": event.get("level"), "recovered": True,
        })
        archive_evidence(ws, reg, load_signing_ca(ws), facts, actor=ACTOR)
        store.close(inv.id, "signed")
        return True


def decline(ws: Workspace, invitation_id: int, reason: str, visitor: Visitor) -> str:
    """Refuse to sign: status ``declined``, the reason kept for the clerk; evidence file."""
    why = " ".join(reason.split())[:1000]
    if not why:
        raise StateError("A reason is required to decline.")
    ca = load_signing_ca(ws)
    with _open(ws) as reg:
        store = InvitationStore(reg)
        inv = store.get(invitation_id)
        _ready(inv)
        row = reg.get(inv.convention_id)
        if row is None:
            raise StateError("The convention no longer exists.")
        with reg.transaction():
            store.add_step(inv.id, "declined", ip=visitor.ip, user_agent=visitor.user_agent,
                           details={"reason": why})
            if row.status in ("generated", "signing"):
                reg.set_status(row.id, "declined", actor=ACTOR,
                               details={"signatory": inv.signatory, "reason": why})
            reg.record_event(row.id, "declined", ACTOR,
                             {"signatory": inv.signatory, "reason": why,
                              "invitation": inv.id})
            store.close(inv.id, "declined")
        row = reg.get(row.id) or row
        facts = _facts(reg, inv, row, "declined", {
            "reason": why, "document_before": _source(reg, row)})
        report, _js = archive_evidence(ws, reg, ca, facts, actor=ACTOR)
        return report.relpath
