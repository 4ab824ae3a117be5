"""Signing a registered convention: order, archive, events, statuses; paper originals;
verification against the convention's expected signatories.

Rules: holders and guardians sign first, in any order among themselves; the commune's
representative (key ``commune``) signs last. Each electronic signature becomes a new
archived document (kind ``signed``) with its SHA-256, a ``signed`` event
``{"signatory": key, ...}``, and moves the status generated → signing → signed.
Every refusal raises before anything is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from pipeline.catalogue.loader import Catalogue
from pipeline.core.clock import today as clock_today
from pipeline.core.errors import InputError, SigningError, StateError
from pipeline.core.files import sha256_file
from pipeline.core.workspace import Workspace
from pipeline.documents.pdf.sigfields import field_name
from pipeline.records.archive import StoredDocument, add_files, workspace_path
from pipeline.records.registry import EVENT_SIGNED, ConventionRow, DocumentRow, Registry
from pipeline.signatures.pades import Level, sign_pdf_bytes
from pipeline.signatures.verify import VerifyReport, verify_pdf

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


@dataclass(frozen=True)
class ConventionVerification:
    """Verification of a convention's latest signed version."""

    convention_id: str
    document: str
    """Workspace-relative path of the verified file."""
    hash_matches: bool
    """The file still has the SHA-256 recorded when it was archived."""
    report: VerifyReport
    signatories: tuple[dict[str, Any], ...]
    """Per expected signatory: key, name, field, signed (in the PDF)."""

    @property
    def ok(self) -> bool:
        return self.hash_matches and self.report.ok

    @property
    def reasons(self) -> tuple[str, ...]:
        extra = () if self.hash_matches else (
            f"{self.document} no longer has the SHA-256 recorded in the registry",
        )
        return extra + self.report.reasons

    def to_dict(self) -> dict[str, Any]:
        return {
            "convention": self.convention_id, "document": self.document,
            "hash_matches": self.hash_matches, "ok": self.ok, "reasons": list(self.reasons),
            "signatories": list(self.signatories), "report": self.report.to_dict(),
        }


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


def sign_convention(
    ws: Workspace, convention_id: str, signatory: str, *, pkcs12: Path, passphrase: bytes,
    reason: str | None = None, location: str | None = None,
    timestamp_url: str | None = None, when: datetime | None = None, actor: str = ACTOR,
    appearance: Callable[[float, float], bytes] | None = None,
) -> ConventionSignature:
    """Sign the latest version of a convention for ``signatory`` and archive the result.

    ``appearance``: see :func:`~pipeline.signatures.pades.sign_pdf_bytes` (online signing)."""
    with _open(ws) as reg:
        row = _convention(reg, convention_id)
        order = signing_order(row.type_id)
        entry = check_can_sign(reg, row, signatory, order)
        source, data = _latest_pdf(ws, reg, row)
        signed, name, moment, level, warnings = sign_pdf_bytes(
            data, field=field_name(signatory), pkcs12=pkcs12, passphrase=passphrase,
            name_hint=str(entry.get("name") or ""), capacity=str(entry.get("capacity") or ""),
            reason=reason or f"Signature de la convention {row.id}", location=location,
            timestamp_url=timestamp_url, when=when, appearance=appearance,
        )
        with reg.transaction():
            row = _convention(reg, convention_id)
            check_can_sign(reg, row, signatory, order)
            latest = reg.latest_document(row.id, ["signed", "pdf"])
            if latest is None or latest.relpath != source.relpath:
                raise SigningError(f"Another signature of {row.id} was recorded meanwhile: "
                                   "nothing was written; sign again.")
            count = len(reg.signatures(row.id)) + 1
            (stored,) = add_files(
                ws, reg, row.id, row.version,
                [(f"{row.id}-signed-{count}-{signatory}.pdf", "signed", signed)], actor=actor,
            )
            reg.record_event(row.id, EVENT_SIGNED, actor, {
                "signatory": signatory, "mode": "electronic", "signer": name,
                "field": field_name(signatory), "signed_at": moment.isoformat(),
                "level": level, "document": stored.relpath, "sha256": stored.sha256,
                "from_document": source.relpath,
            })
            done = reg.signatures(row.id)
            remaining = tuple(k for k in _keys(row) if k not in done)
            if row.status == "generated":
                row = reg.set_status(row.id, "signing", actor=actor)
            if not remaining:
                row = reg.set_status(row.id, "signed", actor=actor)
        return ConventionSignature(
            convention_id=row.id, signatory=signatory, signer=name, document=stored,
            status=row.status, remaining=remaining, level=level, warnings=warnings,
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
    today: date | None = None,
) -> ScanRecord:
    """Archive a scan of the wet-ink signed convention as its signed original."""
    _check_scan(scan)
    if signed_on > (today or clock_today()):
        raise InputError(f"Signing date {signed_on} is in the future.")
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
                "document": stored.relpath, "sha256": stored.sha256,
            })
        if row.status == "generated":
            reg.set_status(row.id, "signing", actor=actor)
        reg.set_status(row.id, "signed", actor=actor, details={"mode": "handwritten"})
        return ScanRecord(row.id, stored, signed_on, keys)


def verify_convention(
    ws: Workspace, convention_id: str, *, trust: Sequence[Path] = ()
) -> ConventionVerification:
    """Verify the latest electronically signed version against the expected signatories."""
    with _open(ws) as reg:
        row = _convention(reg, convention_id)
        doc = reg.latest_document(row.id, ["signed"])
        if doc is None:
            raise StateError(f"{row.id} has no electronically signed version to verify.")
        path = workspace_path(ws, doc.relpath)
    expected = [field_name(k) for k in _keys(row)]
    report = verify_pdf(path, trust=trust, expected_fields=expected)
    digest, _ = sha256_file(path)
    signed_fields = {s.field for s in report.signatures}
    people = tuple(
        {"key": str(s.get("key")), "name": s.get("name"), "field": field_name(str(s.get("key"))),
         "signed": field_name(str(s.get("key"))) in signed_fields}
        for s in row.signatories
    )
    return ConventionVerification(row.id, doc.relpath, digest == doc.sha256, report, people)


__all__ = [
    "COMMUNE_KEY",
    "ConventionSignature",
    "ConventionVerification",
    "ScanRecord",
    "check_can_sign",
    "record_scan",
    "sign_convention",
    "verify_convention",
]
