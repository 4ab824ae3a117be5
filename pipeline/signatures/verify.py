"""Verify every signature of a PDF and say, in plain words, what is wrong.

For each signature: field, signer, signing time, intact (the signed bytes hash to the
signed digest), valid (the cryptographic signature checks out), coverage, modification
level after it (pyHanko's difference analysis), and trust against the given roots.
Trust is required: without a trust root the report fails and says how to add one.

Each signature is validated at its *proven* time (its timestamp) with the validation
data embedded in the document (DSS: certificates, OCSP answers, CRLs), so a B-LT/B-LTA
convention still verifies after its certificates expire; a signature without a
timestamp is validated now (or ``at``), checking revocation online. Document timestamps
must be trusted too. After the first signature, every revision must fit the signing
flow (:mod:`pipeline.signatures.structure`). Problems are worded with distinct reasons:
*revoked*, *expired*, *untrusted*.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from pipeline.core.errors import InputError
from pipeline.core.i18n import _
from pipeline.signatures.pades import LEVELS
from pipeline.signatures.pdfa import pdfa_problems
from pipeline.signatures.structure import file_order, revision_problems

log = logging.getLogger(__name__)
Coverage = Literal["entire_file", "entire_revision", "partial"]


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
    cert_sha256: str = ""
    """SHA-256 fingerprint of the signer's certificate."""
    signer_email: str = ""
    """E-mail address in the signer's certificate, if any."""
    verdict: str = "ok"
    """``ok``, ``revoked``, ``expired``, ``untrusted``, ``invalid`` or ``altered``."""
    level: str = "B-B"
    """The PAdES level this signature reached (B-B, B-T, B-LT, B-LTA)."""
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
    level: str
    """The lowest level among the signatures (B-B, B-T, B-LT, B-LTA)."""
    timestamps: tuple[dict[str, Any], ...]
    """Document timestamps: field, time, trusted."""
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


def _coverage(level: SignatureCoverageLevel | None) -> Coverage:
    if level == SignatureCoverageLevel.ENTIRE_FILE:
        return "entire_file"
    if level == SignatureCoverageLevel.ENTIRE_REVISION:
        return "entire_revision"
    return "partial"


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_REASONS = {
    "REVOKED": "revoked", "REVOKED_NO_POE": "revoked", "REVOKED_CA_NO_POE": "revoked",
    "EXPIRED": "expired", "OUT_OF_BOUNDS_NO_POE": "expired", "NOT_YET_VALID": "expired",
    "OUT_OF_BOUNDS_NOT_REVOKED": "expired",
}
_WORDS = {
    "revoked": "REVOKED: the signer's certificate was revoked",
    "expired": "EXPIRED: the signer's certificate was not valid at the proven signing time",
    "untrusted": "UNTRUSTED: the signer's certificate does not chain to a trust root",
}
"""English sources of the verdicts (translated through :func:`_` when reported)."""


def _verdict(status: Any, coverage: Coverage) -> str:
    if coverage == "partial" or not status.intact:
        return "altered"
    if not status.valid:
        return "invalid"
    if status.trusted and not getattr(status, "revoked", False):
        return "ok"
    indic = getattr(status, "trust_problem_indic", None)
    return _REASONS.get(getattr(indic, "name", ""), "untrusted")


def _problems(status: Any, coverage: Coverage, verdict: str) -> list[str]:
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
    if verdict in _WORDS:
        problems.append(_(_WORDS[verdict]))
    ts = status.timestamp_validity
    if ts is not None and not ts.trusted:
        problems.append(_("UNTRUSTED TIMESTAMP: its authority does not chain to a trust "
                          "root; the time it shows proves nothing"))
    return problems


@dataclass(frozen=True)
class _DssData:
    """What a file's document security store holds, parsed once per file (each signature
    and timestamp is then validated with it, each at its own time)."""

    certs: tuple[Any, ...]
    ocsps: tuple[Any, ...]
    crls: tuple[Any, ...]

    @classmethod
    def read(cls, reader: Any) -> _DssData | None:
        if "/DSS" not in reader.root:
            return None
        dss = DocumentSecurityStore.read_dss(reader)
        ocsps = tuple(asn1_ocsp.OCSPResponse.load(ref.get_object().read_data(
            DecodePurpose.OCSP_RESPONSE)) for ref in dss.ocsps)
        crls = tuple(asn1_crl.CertificateList.load(ref.get_object().read_data(
            DecodePurpose.CRL)) for ref in dss.crls)
        return cls(tuple(dss.load_certs()), ocsps, crls)


def _context(roots: tuple[Any, ...], dss: _DssData | None, moment: datetime | None,
             online: bool) -> ValidationContext:
    kwargs: dict[str, Any] = {
        "trust_roots": list(roots), "moment": moment, "allow_fetching": online,
        "revocation_mode": "soft-fail", "retroactive_revinfo": True,
    }
    if dss is not None:
        return ValidationContext(other_certs=list(dss.certs), ocsps=list(dss.ocsps),
                                 crls=list(dss.crls), **kwargs)
    return ValidationContext(**kwargs)


def _level(status: Any, dss: Any, stamped_after: bool) -> str:
    if status.timestamp_validity is None:
        return "B-B"
    if dss is None:
        return "B-T"
    return "B-LTA" if stamped_after else "B-LT"


def _check_one(embedded: Any, roots: tuple[Any, ...], dss: Any, at: datetime | None,
               stamped_after: bool) -> SignatureCheck:
    field = str(embedded.field_name)
    sub = str(embedded.sig_object.get("/SubFilter", "")).lstrip("/")
    try:
        proven = None
        for tst in extract_tst_data_iter(embedded.signer_info, signed=False):
            proven = tst["encap_content_info"]["content"].parsed["gen_time"].native
        moment = proven if proven is not None and (at is None or proven <= at) else at
        now = at or datetime.now(UTC)
        lapsed = dss is None and embedded.signer_cert.not_valid_after < now
        online = dss is None and not lapsed
        status = validate_pdf_signature(
            embedded, signer_validation_context=_context(roots, dss, moment, online),
            ts_validation_context=_context(roots, dss, proven or at, False),
            skip_diff=True,  # later revisions: judged by pipeline.signatures.structure
        )
    except (SignatureValidationError, PdfError, ValueError, KeyError) as exc:
        return SignatureCheck(
            field=field, signer="", signing_time=None, timestamp_time=None, subfilter=sub,
            intact=False, valid=False, coverage="partial", modification_level=None,
            trusted=False, verdict="invalid",
            problems=(f"the signature cannot be read: {_first_line(exc)}",),
        )
    coverage = _coverage(status.coverage)
    level = status.modification_level
    ts = status.timestamp_validity
    verdict = _verdict(status, coverage)
    problems = _problems(status, coverage, verdict)
    if lapsed and verdict == "ok":
        verdict = "expired"
        problems.append(
            f"EXPIRED: the signer's certificate expired on "
            f"{embedded.signer_cert.not_valid_after:%Y-%m-%d} and the file carries no "
            "validation data (B-LT) proving it was valid and not revoked when it signed")
    return SignatureCheck(
        field=field,
        signer=str(status.signing_cert.subject.native.get("common_name", "")),
        signing_time=status.signer_reported_dt,
        timestamp_time=ts.timestamp if ts is not None else None,
        subfilter=sub, intact=bool(status.intact), valid=bool(status.valid),
        coverage=coverage,
        modification_level=level.name.lower() if level is not None else None,
        trusted=bool(status.trusted), verdict=verdict,
        cert_sha256=status.signing_cert.sha256.hex(),
        signer_email=str(status.signing_cert.subject.native.get("email_address", "")),
        level=_level(status, dss, stamped_after),
        problems=tuple(problems),
    )


def _gen_time(embedded: Any) -> datetime:
    return embedded.signed_data["encap_content_info"]["content"].parsed[  # type: ignore[no-any-return]
        "gen_time"].native


def _check_stamps(reader: Any, roots: tuple[Any, ...], dss: Any,
                  at: datetime | None) -> tuple[list[dict[str, Any]], list[str]]:
    """Each document timestamp is validated at its own time; the newest one's authority
    certificate must still be valid now (else: renew the timestamps)."""
    out: list[dict[str, Any]] = []
    reasons: list[str] = []
    newest_end: datetime | None = None
    for stamp in reader.embedded_timestamp_signatures:
        try:
            when = _gen_time(stamp)
            status = validate_pdf_timestamp(stamp, validation_context=_context(
                roots, dss, when, False))
            ok = bool(status.intact and status.valid and status.trusted)
            newest_end = status.signing_cert["tbs_certificate"]["validity"][
                "not_after"].native
        except (SignatureValidationError, PdfError, ValueError, KeyError) as exc:
            ok, when = False, None
            log.debug("document timestamp %s: %s", stamp.field_name, exc)
        out.append({"field": str(stamp.field_name), "time": when.isoformat() if when else None,
                    "trusted": ok})
        if not ok:
            reasons.append(_("document timestamp {field} is not valid or not trusted "
                             "(UNTRUSTED TIMESTAMP)").format(field=repr(str(stamp.field_name))))
    now = at or datetime.now(UTC)
    if newest_end is not None and newest_end < now:
        reasons.append(_(
            "EXPIRED: the last document timestamp's authority certificate expired on "
            "{day}; it should have been renewed ('fiftyfifty archive renew-timestamps')"
        ).format(day=f"{newest_end:%Y-%m-%d}"))
    return out, reasons


def verify_pdf(
    path: Path, *, roots: tuple[Any, ...], expected_fields: Sequence[str] | None = None,
    order: Callable[[str, list[str]], str | None] | None = None, at: datetime | None = None,
) -> VerifyReport:
    """Check every signature of ``path`` against the trust ``roots``.

    ``expected_fields``: the fields that must all be signed (default: every signature
    field the document had before its first signature). ``order`` judges each signature
    against those signed before it (default: any expected field, once). ``at``: verify
    as of that moment instead of now. Raises :class:`InputError` when ``path`` cannot be
    read; a file that is not a readable PDF is a failed report, not an exception.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}.") from exc
    try:
        reader = PdfFileReader(io.BytesIO(data))
        embedded = list(reader.embedded_regular_signatures)
        stamps = list(reader.embedded_timestamp_signatures)
        filled = {
            str(name): value is not None for name, value, _ in fields.enumerate_sig_fields(reader)
        }
        stamp_names = {str(s.field_name) for s in stamps}
        expected = tuple(expected_fields) if expected_fields is not None else tuple(
            n for n in filled if n not in stamp_names)
        dss = _DssData.read(reader)
        last_sig = max((s.signed_revision for s in embedded), default=-1)
        stamped_after = any(s.signed_revision > last_sig for s in stamps)
        checks = tuple(_check_one(sig, roots, dss, at, stamped_after) for sig in embedded)
        try:
            structure = revision_problems(reader, order or file_order(expected))
        except (PdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
            structure = [f"the revisions after the first signature cannot be read "
                         f"({_first_line(exc)}): the file was rebuilt"]
        stamp_info, stamp_reasons = _check_stamps(reader, roots, dss, at)
    except (PdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return VerifyReport(
            path=path, signatures=(), expected_fields=tuple(expected_fields or ()),
            unsigned_fields=tuple(expected_fields or ()), trust_checked=bool(roots),
            level="B-B", timestamps=(), ok=False,
            reasons=(f"{path.name} is not a readable PDF: {_first_line(exc)}",),
        )
    reasons: list[str] = []
    if not roots:
        reasons.append(_("no trust root: nothing can be trusted. Add the certification "
                         "authority with 'fiftyfifty trust add CA.pem' (or pass --trust)."))
    reasons += [f"signature {c.field!r}: {p}" for c in checks for p in c.problems]
    reasons += structure + stamp_reasons
    if b"pdfaid:part" in data:  # declared PDF/A once: it must still be PDF/A-2b
        reasons += [f"no longer PDF/A-2b: {p}" for p in pdfa_problems(data, reader)]
    unsigned: list[str] = []
    for name in expected:
        if name not in filled:
            unsigned.append(name)
            reasons.append(_("expected signature field {field} does not exist in the "
                             "document").format(field=repr(name)))
        elif not filled[name]:
            unsigned.append(name)
            reasons.append(_("expected signature field {field} is not signed").format(
                field=repr(name)))
    if not checks:
        reasons.append(_("the document carries no signature"))
    levels = [c.level for c in checks] or ["B-B"]
    return VerifyReport(
        path=path, signatures=checks, expected_fields=expected,
        unsigned_fields=tuple(unsigned), trust_checked=bool(roots),
        level=min(levels, key=LEVELS.index), timestamps=tuple(stamp_info),
        ok=not reasons, reasons=tuple(reasons),
    )


__all__ = ["Coverage", "SignatureCheck", "VerifyReport", "verify_pdf"]
