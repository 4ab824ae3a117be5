"""Verify every signature of a PDF and say, in plain words, what is wrong.

For each signature: field, signer, signing time, intact (the signed bytes hash to the
signed digest), valid (the cryptographic signature checks out), coverage, modification
level after it (pyHanko's difference analysis), and trust against the given roots.
The report is ``ok`` only when every signature is intact and valid, nothing but
signature-related updates (further signatures, form filling, DSS/LTA material) came
after any of them, every expected field is signed, and, when trust roots are given,
every signer chains to one of them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from pipeline.core.errors import InputError

Coverage = Literal["entire_file", "entire_revision", "partial"]
_ALLOWED_AFTER = ModificationLevel.FORM_FILLING
"""Later updates up to this level (LTA material, new signatures, form filling) are fine."""


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict on one signature."""

    field: str
    """Name of the signature field."""
    signer: str
    """Common name of the signing certificate."""
    signing_time: datetime | None
    """Time claimed by the signer (``/M``)."""
    timestamp_time: datetime | None
    """Time certified by an RFC 3161 timestamp (PAdES B-T), if any."""
    subfilter: str
    """``ETSI.CAdES.detached`` for PAdES."""
    intact: bool
    """The signed bytes still hash to the digest the signer signed."""
    valid: bool
    """The cryptographic signature over that digest checks out."""
    coverage: Coverage
    """What the signature covers: the entire file, its entire revision, or less."""
    modification_level: str | None
    """pyHanko's judgement of later updates (``none``, ``lta_updates``,
    ``form_filling``, ``annotations``, ``other``), ``None`` when unknown."""
    trusted: bool | None
    """The signer chains to a trust root; ``None`` when no roots were given."""
    problems: tuple[str, ...] = ()
    """Why this signature is not acceptable (empty when it is)."""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class VerifyReport:
    """The verdict on a whole PDF."""

    path: Path
    signatures: tuple[SignatureCheck, ...]
    """One entry per signature, in the document's signing order."""
    expected_fields: tuple[str, ...]
    """Signature fields that had to be signed."""
    unsigned_fields: tuple[str, ...]
    """Expected fields that are not signed (or do not exist)."""
    trust_checked: bool
    """Trust roots were given, so ``trusted`` was required."""
    ok: bool
    """Everything checked out (exit code 0)."""
    reasons: tuple[str, ...]
    """Why the document is not ok, one sentence each (empty when ok)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (dates as ISO 8601 strings)."""
        payload = asdict(self)
        payload["path"] = str(self.path)
        for sig in payload["signatures"]:
            for key in ("signing_time", "timestamp_time"):
                if sig[key] is not None:
                    sig[key] = sig[key].isoformat()
        return payload


def load_trust_roots(paths: Sequence[Path]) -> list[Any]:
    """Read PEM (one or several certificates) or DER files as trust roots.

    Returns asn1crypto certificates, as pyHanko's validation context wants them.
    """
    roots: list[Any] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"Cannot read trust root {path}: {exc.strerror}.") from exc
        try:
            certs = list(load_certs_from_pemder_data(data))
            for cert in certs:
                _ = cert.subject.human_friendly  # parse now, not during validation
        except (ValueError, TypeError) as exc:
            raise InputError(f"{path} is not an X.509 certificate (PEM or DER).") from exc
        if not certs:
            raise InputError(f"{path} holds no certificate.")
        roots += certs
    return roots


def _coverage(level: SignatureCoverageLevel | None) -> Coverage:
    if level == SignatureCoverageLevel.ENTIRE_FILE:
        return "entire_file"
    if level == SignatureCoverageLevel.ENTIRE_REVISION:
        return "entire_revision"
    return "partial"


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _problems(status: Any, coverage: Coverage, trust: bool) -> list[str]:
    """Plain-language problems of one validated signature."""
    problems: list[str] = []
    if coverage == "partial":
        problems.append(
            "the file was rewritten after signing (the signed byte range no longer matches "
            "the file's revisions): another PDF tool re-saved it as a whole"
        )
    elif not status.intact:
        problems.append("bytes covered by the signature were altered after signing")
    if not status.valid:
        problems.append("the cryptographic signature does not verify")
    level = status.modification_level
    if coverage != "partial" and (level is None or level > _ALLOWED_AFTER):
        detail = status.diff_result
        why = f" ({_first_line(detail)})" if isinstance(detail, SuspiciousModification) else ""
        problems.append(
            "the document was changed after this signature by an update that is not a "
            f"signature (for example page content){why}"
        )
    if trust and status.intact and status.valid and not status.trusted:
        problems.append("the signer's certificate does not chain to a given trust root")
    return problems


def _check_one(embedded: Any, roots: list[Any], trust: bool) -> SignatureCheck:
    context = ValidationContext(trust_roots=roots)
    field = str(embedded.field_name)
    sub = str(embedded.sig_object.get("/SubFilter", "")).lstrip("/")
    try:
        status = validate_pdf_signature(embedded, signer_validation_context=context)
    except (SignatureValidationError, PdfError, ValueError) as exc:
        return SignatureCheck(
            field=field, signer="", signing_time=None, timestamp_time=None, subfilter=sub,
            intact=False, valid=False, coverage="partial", modification_level=None,
            trusted=False if trust else None,
            problems=(f"the signature cannot be read: {_first_line(exc)}",),
        )
    coverage = _coverage(status.coverage)
    level = status.modification_level
    ts = status.timestamp_validity
    return SignatureCheck(
        field=field,
        signer=str(status.signing_cert.subject.native.get("common_name", "")),
        signing_time=status.signer_reported_dt,
        timestamp_time=ts.timestamp if ts is not None else None,
        subfilter=sub,
        intact=bool(status.intact),
        valid=bool(status.valid),
        coverage=coverage,
        modification_level=level.name.lower() if level is not None else None,
        trusted=bool(status.trusted) if trust else None,
        problems=tuple(_problems(status, coverage, trust)),
    )


def verify_pdf(
    path: Path, *, trust: Sequence[Path] = (), expected_fields: Sequence[str] = ()
) -> VerifyReport:
    """Check every signature of ``path``; ``expected_fields`` must all be signed.

    Raises :class:`InputError` when ``path`` or a trust root cannot be read; a file
    that is not a readable PDF is a failed report, not an exception.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}.") from exc
    roots = load_trust_roots(trust)
    trust_on = bool(trust)
    expected = tuple(expected_fields)
    try:
        reader = PdfFileReader(io.BytesIO(data))
        embedded = list(reader.embedded_regular_signatures)
        filled = {
            str(name): value is not None for name, value, _ in fields.enumerate_sig_fields(reader)
        }
    except (PdfError, ValueError, KeyError) as exc:
        return VerifyReport(
            path=path, signatures=(), expected_fields=expected, unsigned_fields=expected,
            trust_checked=trust_on, ok=False,
            reasons=(f"{path.name} is not a readable PDF: {_first_line(exc)}",),
        )
    checks = tuple(_check_one(sig, roots, trust_on) for sig in embedded)
    reasons = [f"signature {c.field!r}: {p}" for c in checks for p in c.problems]
    unsigned: list[str] = []
    for name in expected:
        if name not in filled:
            unsigned.append(name)
            reasons.append(f"expected signature field {name!r} does not exist in the document")
        elif not filled[name]:
            unsigned.append(name)
            reasons.append(f"expected signature field {name!r} is not signed")
    if not checks and not expected:
        reasons.append("the document carries no signature")
    return VerifyReport(
        path=path, signatures=checks, expected_fields=expected,
        unsigned_fields=tuple(unsigned), trust_checked=trust_on, ok=not reasons,
        reasons=tuple(reasons),
    )


__all__ = ["Coverage", "SignatureCheck", "VerifyReport", "load_trust_roots", "verify_pdf"]
