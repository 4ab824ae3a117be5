"""Signing a registered convention: order, identity, archive, events, statuses; paper
originals; verification against the convention's expected signatories.

Public signing API (also used by online signing, ``fiftyfifty serve``)::

    from pipeline.signatures.credentials import KeyCredential   # or Pkcs12/Pkcs11Credential
    from pipeline.signatures.workflow import SignRequest, sign_convention

    with KeyCredential(key, cert, chain=(workspace_ca_cert,)).open() as opened:
        done = sign_convention(ws, SignRequest("FF_2026_001", "holder-1",
                                               location="Loos-en-Gohelle"), opened)

Every check is inside :func:`sign_convention`, not in the caller: the signing order,
the slot's identity (the certificate names the signatory; for the commune the mayor or
a deputy with a delegation valid that day), one certificate per convention, trust
(workspace roots plus ``SignRequest.extra_trust``), revocation, the level and its
timestamp authority (``SignRequest.level``/``timestamp_url``, else the convention
type's, else the commune profile's ``signing``; default B-LTA, never downgraded).

Rules: holders and guardians sign first, in any order among themselves; the commune's
representative (key ``commune``) signs last. Each electronic signature becomes a new
archived document (kind ``signed``) with its SHA-256, a ``signed`` event
``{"signatory": key, "cert_sha256": ..., "level": ...}``, and moves the status
generated → signing → signed. Every refusal raises before anything is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from pipeline.catalogue.loader import Catalogue
from pipeline.core.clock import today as clock_today
from pipeline.core.errors import InputError, SigningError, StateError
from pipeline.core.i18n import _
from pipeline.core.workspace import Workspace
from pipeline.documents.pdf.sigfields import field_name
from pipeline.records.archive import StoredDocument, add_files, workspace_path
from pipeline.records.registry import EVENT_SIGNED, ConventionRow, DocumentRow, Registry
from pipeline.signatures.credentials import OpenedSigner
from pipeline.signatures.identity import already_used, describe_allowed, slot_holder
from pipeline.signatures.pades import FieldSignature, Level, SigningPolicy, sign_pdf_bytes
from pipeline.signatures.scan import UnreadableScan, check_scan_code
from pipeline.signatures.trust import load_roots

COMMUNE_KEY = "commune"
"""The signatory who signs last."""
ACTOR = "fiftyfifty"


@dataclass(frozen=True)
class ConventionSignature:
    """What :func:`sign_convention` did."""

    convention_id: str
    signatory: str
    signer: str
    """Name from the certificate."""
    document: StoredDocument
    """The new signed version in the archive."""
    status: str
    """The convention's status afterwards (``signing`` or ``signed``)."""
    remaining: tuple[str, ...]
    """Signatory keys still to sign, in the stored order."""
    level: Level
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScanRecord:
    """What :func:`record_scan` did."""

    convention_id: str
    document: StoredDocument
    signed_on: date
    signatories: tuple[str, ...]
    """Keys marked as signed by hand."""


def _open(ws: Workspace) -> Registry:
    return Registry.open(ws.registry_path, create=False)


def _convention(reg: Registry, convention_id: str) -> ConventionRow:
    row = reg.get(convention_id)
    if row is None:
        raise StateError(f"No convention {convention_id} in the registry.")
    return row


def _keys(row: ConventionRow) -> list[str]:
    return [str(s.get("key", "")) for s in row.signatories]


def signing_group(key: str) -> str:
    """The signing-order group of a signatory key: ``commune`` or ``holders``."""
    return "commune" if key == COMMUNE_KEY else "holders"


def signing_order(type_id: str) -> tuple[str, ...]:
    """The order of signatory groups of a convention type (its ``signing_order``)."""
    return tuple(Catalogue.load().get(type_id).signing_order)


def check_can_sign(reg: Registry, row: ConventionRow, key: str,
                   order: Sequence[str] = ("holders", "commune")) -> dict[str, Any]:
    """The signatory entry of ``key`` if it may sign now; else :class:`SigningError`.

    ``order`` lists the groups of signatories in signing order (from the convention type):
    within a group any order goes; a group signs only when every earlier group has."""
    if row.status == "cancelled":
        raise SigningError(f"{row.id} is cancelled: it cannot be signed.")
    if row.status == "pending":
        raise SigningError(f"{row.id} has no generated document yet: run the batch first.")
    if row.status == "signed":
        raise SigningError(f"{row.id} is already signed by every signatory.")
    entry = next((s for s in row.signatories if s.get("key") == key), None)
    if entry is None:
        raise SigningError(
            f"{key!r} is not a signatory of {row.id} (signatories: {', '.join(_keys(row))})."
        )
    done = reg.signatures(row.id)
    if key in done:
        raise SigningError(f"{key} has already signed {row.id} ({done[key].at}).")
    earlier = set(order[: list(order).index(signing_group(key))])
    waiting = [k for k in _keys(row) if signing_group(k) in earlier and k not in done]
    if waiting:
        who = "The commune signs last" if key == COMMUNE_KEY else f"{key} signs later"
        raise SigningError(f"{who}: {row.id} still awaits {', '.join(waiting)}.")
    return entry


def _latest_pdf(ws: Workspace, reg: Registry, row: ConventionRow) -> tuple[DocumentRow, bytes]:
    doc = reg.latest_document(row.id, ["signed", "pdf"])
    if doc is None or doc.version != row.version:
        raise StateError(f"{row.id} has no PDF for version {row.version} in the archive.")
    path = workspace_path(ws, doc.relpath)
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != doc.sha256:
        raise SigningError(
            f"{doc.relpath} no longer matches the SHA-256 recorded in the registry; "
            "run 'fiftyfifty archive verify' before signing."
        )
    return doc, data


@dataclass(frozen=True)
class SignRequest:
    """One electronic signature of a registered convention (the library's entry point).

    ``level`` and ``timestamp_url`` override the convention type's and the commune
    profile's ``signing`` settings; ``extra_trust`` adds root files to the workspace's
    roots for this signature only; ``when`` fixes the claimed signing time (tests).
    """

    convention_id: str
    signatory: str
    level: Level | None = None
    timestamp_url: str | None = None
    reason: str | None = None
    location: str | None = None
    extra_trust: tuple[Path, ...] = ()
    when: datetime | None = None
    actor: str = ACTOR
    appearance: Callable[[float, float], bytes] | None = None
    """Draws the field's one-page appearance PDF from its width and height (online
    signing: the typed name, the drawing and how the signer was identified)."""


def signing_policy(ws: Workspace, type_id: str, request: SignRequest) -> SigningPolicy:
    """The level and timestamp authority for ``request``: the request's, else the
    convention type's, else the commune profile's (bundled default: B-LTA)."""
    catalogue = Catalogue.load()
    own, common = catalogue.get(type_id).signing, catalogue.profile.signing
    level: Level = request.level or own.level or common.level or "B-LTA"
    url = request.timestamp_url or own.timestamp_url or common.timestamp_url
    return SigningPolicy(level, url, load_roots(ws, request.extra_trust))


def _check_identity(reg: Registry, row: ConventionRow, entry: dict[str, Any],
                    opened: OpenedSigner, day: date) -> str:
    """Refuse a certificate that does not name the slot's person, or fills another slot;
    return the certificate's SHA-256 fingerprint."""
    profile = Catalogue.load().profile
    holder = slot_holder(entry, opened.common_name, opened.email, profile=profile, day=day,
                         type_id=row.type_id)
    if holder is None:
        allowed = describe_allowed(entry, profile=profile, day=day, type_id=row.type_id)
        raise SigningError(_(
            "The certificate of {name} does not match the slot {key} of {id} (expected: "
            "{allowed}); nothing was signed.").format(
                name=opened.common_name or "?", key=entry.get("key"), id=row.id,
                allowed=allowed))
    fingerprint = opened.cert.fingerprint(hashes.SHA256()).hex()
    used = [(k, str(e.details.get("cert_sha256", ""))) for k, e in reg.signatures(row.id).items()]
    other = already_used(fingerprint, used)
    if other is not None:
        raise SigningError(_("This certificate already signed {id} as {key}: one "
                             "certificate can never fill two slots.").format(
                                 id=row.id, key=other))
    return fingerprint


def sign_convention(ws: Workspace, request: SignRequest,
                    opened: OpenedSigner) -> ConventionSignature:
    """Sign the latest version of a convention for ``request.signatory`` and archive it.

    Checks, before anything is written: the signing order, the slot's identity (the
    certificate names the signatory, or for the commune the mayor or a deputy with a
    valid delegation), one certificate per convention, trust, revocation, the level and
    its timestamp authority. Raises :class:`SigningError` (exit 1),
    :class:`~pipeline.signatures.pades.TimestampError` or
    :class:`~pipeline.core.errors.ConfigError` (exit 3); nothing is written then.
    """
    moment = (request.when or datetime.now(UTC)).astimezone()
    with _open(ws) as reg:
        row = _convention(reg, request.convention_id)
        order = signing_order(row.type_id)
        entry = check_can_sign(reg, row, request.signatory, order)
        fingerprint = _check_identity(reg, row, entry, opened, moment.date())
        policy = signing_policy(ws, row.type_id, request)
        source, data = _latest_pdf(ws, reg, row)
        field = field_name(request.signatory)
        result = sign_pdf_bytes(data, FieldSignature(
            field=field, capacity=str(entry.get("capacity") or ""),
            reason=request.reason or f"Signature de la convention {row.id}",
            location=request.location, certify=not reg.signatures(row.id), when=moment,
            appearance=request.appearance,
        ), opened, policy)
        with reg.transaction():
            row = _convention(reg, request.convention_id)
            check_can_sign(reg, row, request.signatory, order)
            latest = reg.latest_document(row.id, ["signed", "pdf"])
            if latest is None or latest.relpath != source.relpath:
                raise SigningError(f"Another signature of {row.id} was recorded meanwhile: "
                                   "nothing was written; sign again.")
            count = len(reg.signatures(row.id)) + 1
            (stored,) = add_files(ws, reg, row.id, row.version, [(
                f"{row.id}-signed-{count}-{request.signatory}.pdf", "signed", result.data)],
                actor=request.actor)
            reg.record_event(row.id, EVENT_SIGNED, request.actor, {
                "signatory": request.signatory, "mode": "electronic", "signer": result.signer,
                "cert_sha256": fingerprint, "cert_serial": str(opened.cert.serial_number),
                "field": field, "signed_at": result.signed_at.isoformat(),
                "level": result.level, "document": stored.relpath, "sha256": stored.sha256,
                "from_document": source.relpath,
            })
            done = reg.signatures(row.id)
            remaining = tuple(k for k in _keys(row) if k not in done)
            if row.status == "generated":
                row = reg.set_status(row.id, "signing", actor=request.actor)
            if not remaining:
                row = reg.set_status(row.id, "signed", actor=request.actor)
        return ConventionSignature(
            convention_id=row.id, signatory=request.signatory, signer=result.signer,
            document=stored, status=row.status, remaining=remaining, level=result.level,
            warnings=result.warnings,
        )


def _check_scan(scan: Path) -> None:
    try:
        with open(scan, "rb") as handle:
            if handle.read(5) != b"%PDF-":
                raise InputError(f"{scan} is not a PDF file.")
            handle.seek(0)
            if len(PdfReader(handle).pages) < 1:
                raise InputError(f"{scan} has no page.")
    except OSError as exc:
        raise InputError(f"Cannot read {scan}: {exc.strerror}.") from exc
    except PdfReadError as exc:
        raise InputError(f"{scan} is not a readable PDF: {exc}") from exc


def record_scan(
    ws: Workspace, convention_id: str, scan: Path, signed_on: date, *, actor: str = ACTOR,
    today: date | None = None, unchecked_reason: str | None = None,
) -> ScanRecord:
    """Archive a scan of the wet-ink signed convention as its signed original.

    The QR code on page 1 must be this convention's, for its current version; a scan
    without a readable code is accepted only with ``unchecked_reason`` (recorded in the
    events). The signing date recorded is ``signed_on`` (the date on the paper).
    """
    _check_scan(scan)
    if signed_on > (today or clock_today()):
        raise InputError(f"Signing date {signed_on} is in the future.")
    with _open(ws) as reg:
        row = _convention(reg, convention_id)
        if unchecked_reason is not None and not unchecked_reason.strip():
            raise InputError("--unchecked-scan needs a reason (why the code cannot be read).")
        try:
            code: str | None = check_scan_code(scan, row.id, row.fingerprint)
        except UnreadableScan:
            if unchecked_reason is None:
                raise
            code = None
    with _open(ws) as reg, reg.transaction():
        row = _convention(reg, convention_id)
        if row.status in ("cancelled", "pending", "signed"):
            raise SigningError(f"{row.id} is {row.status}: a signed scan cannot be recorded.")
        if reg.signatures(row.id):
            raise SigningError(
                f"{row.id} already carries electronic signatures: finish signing electronically."
            )
        (stored,) = add_files(
            ws, reg, row.id, row.version, [(f"{row.id}-scan.pdf", "scan", scan)], actor=actor
        )
        keys = tuple(_keys(row))
        for key in keys:
            reg.record_event(row.id, EVENT_SIGNED, actor, {
                "signatory": key, "mode": "handwritten", "signed_on": signed_on.isoformat(),
                "signed_at": signed_on.isoformat(), "document": stored.relpath,
                "sha256": stored.sha256, "qr_code": code,
                "unchecked_reason": None if code else unchecked_reason,
            })
        if row.status == "generated":
            reg.set_status(row.id, "signing", actor=actor)
        reg.set_status(row.id, "signed", actor=actor, details={
            "mode": "handwritten", "signed_on": signed_on.isoformat()})
        return ScanRecord(row.id, stored, signed_on, keys)


__all__ = [
    "COMMUNE_KEY",
    "ConventionSignature",
    "ScanRecord",
    "SignRequest",
    "check_can_sign",
    "record_scan",
    "sign_convention",
    "signing_policy",
]
