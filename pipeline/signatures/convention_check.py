"""Verification of a registered convention's latest signed version against what the
registry expects: every slot signed, in the convention's order, each by a certificate
naming the slot's person (the commune: the mayor or a deputy with a valid delegation),
no certificate twice, with the workspace's trust roots."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.catalogue.loader import Catalogue
from pipeline.core.errors import StateError
from pipeline.core.files import sha256_file
from pipeline.core.workspace import Workspace
from pipeline.documents.pdf.sigfields import field_name
from pipeline.records.archive import workspace_path
from pipeline.records.registry import ConventionRow
from pipeline.signatures.identity import describe_allowed, slot_holder
from pipeline.signatures.trust import load_roots
from pipeline.signatures.verify import VerifyReport, verify_pdf
from pipeline.signatures.workflow import _convention, _keys, _open, signing_group, signing_order


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


def convention_order(row: ConventionRow) -> Callable[[str, list[str]], str | None]:
    """The signing order of ``row`` as a check of each signed field against those before."""
    keys = _keys(row)
    fields = {field_name(k): k for k in keys}
    order = signing_order(row.type_id)

    def check(field: str, signed: list[str]) -> str | None:
        key = fields.get(field)
        if key is None:
            return f"{field!r} is not a signature field of {row.id}"
        if field in signed:
            return f"{field!r} was signed twice"
        earlier = set(order[: list(order).index(signing_group(key))])
        done = {fields.get(f) for f in signed}
        waiting = [k for k in keys if signing_group(k) in earlier and k not in done]
        if waiting:
            return f"{key} signed before {', '.join(waiting)}: out of the convention's order"
        return None

    return check


def _identity_problems(row: ConventionRow, report: VerifyReport) -> list[str]:
    profile = Catalogue.load().profile
    by_field = {field_name(str(s.get("key"))): s for s in row.signatories}
    seen: dict[str, str] = {}
    problems: list[str] = []
    for sig in report.signatures:
        entry = by_field.get(sig.field)
        if entry is None:
            continue
        when = sig.timestamp_time or sig.signing_time or datetime.now(UTC)
        if slot_holder(entry, sig.signer, sig.signer_email, profile=profile,
                       day=when.date(), type_id=row.type_id) is None:
            allowed = describe_allowed(entry, profile=profile, day=when.date(),
                                       type_id=row.type_id)
            problems.append(f"signature {sig.field!r}: signed by {sig.signer or '?'}, who "
                            f"may not fill this slot (expected: {allowed})")
        if sig.cert_sha256 and sig.cert_sha256 in seen:
            problems.append(f"signature {sig.field!r}: the same certificate already signed "
                            f"{seen[sig.cert_sha256]!r}")
        seen.setdefault(sig.cert_sha256, sig.field)
    return problems


def verify_convention(
    ws: Workspace, convention_id: str, *, extra_trust: Sequence[Path] = (),
    at: datetime | None = None,
) -> ConventionVerification:
    """Verify the latest electronically signed version against the expected signatories:
    every field signed, in the convention's order, each by the slot's person, with the
    workspace's trust roots (plus ``extra_trust``), as of ``at`` (default: now)."""
    with _open(ws) as reg:
        row = _convention(reg, convention_id)
        doc = reg.latest_document(row.id, ["signed"])
        if doc is None:
            raise StateError(f"{row.id} has no electronically signed version to verify.")
        path = workspace_path(ws, doc.relpath)
    expected = [field_name(k) for k in _keys(row)]
    report = verify_pdf(path, roots=load_roots(ws, extra_trust), expected_fields=expected,
                        order=convention_order(row), at=at)
    extra = _identity_problems(row, report)
    if extra:
        report = replace(report, ok=False, reasons=report.reasons + tuple(extra))
    digest, _ = sha256_file(path)
    signed_fields = {s.field for s in report.signatures}
    people = tuple(
        {"key": str(s.get("key")), "name": s.get("name"), "field": field_name(str(s.get("key"))),
         "signed": field_name(str(s.get("key"))) in signed_fields}
        for s in row.signatories
    )
    return ConventionVerification(row.id, doc.relpath, digest == doc.sha256, report, people)


__all__ = ["ConventionVerification", "convention_order", "verify_convention"]
