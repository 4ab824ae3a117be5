"""Sign a PDF into one of its empty signature fields at a PAdES baseline level.

Levels: ``B-B`` (signature only), ``B-T`` (plus a timestamp from a timestamp authority),
``B-LT`` (plus every certificate and OCSP/CRL answer needed to validate it later, in the
document security store), ``B-LTA`` (plus a document timestamp after the signature, so
the whole can be re-validated after the certificates expire). A level is never lowered
silently: an unreachable or untrusted timestamp authority refuses the signature.

Before a byte is written: the certificate is valid now, chains to a trust root, has a
signing key usage, is not revoked (OCSP or CRL from its own URLs); the field exists and
is empty. After signing in memory, the new file is checked (timestamp trusted, PDF/A-2b
kept when the source declared it) before it is returned. The first signature certifies the document
(DocMDP, form filling allowed), so later expected signatures stay valid.

The file keeps PDF 1.7 (PDF/A-2b): pyHanko would raise an EC-key signature to PDF 2.0.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

import aiohttp
import certifi
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.form_tools import annot_width_height, get_single_field_annot
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    InvalidCertificateError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from pipeline.core.errors import ConfigError, SigningError
from pipeline.core.i18n import _
from pipeline.signatures.appearance import appearance_text, render_appearance_pdf, stamp_style
from pipeline.signatures.credentials import OpenedSigner
from pipeline.signatures.pdfa import declares_pdfa, pdfa_problems

log = logging.getLogger(__name__)
Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]
LEVELS: tuple[Level, ...] = get_args(Level)
TIMESTAMP_TIMEOUT = 10
_SKEW = timedelta(minutes=10)
"""Seconds to wait for a timestamp authority or a revocation server."""


class TimestampError(SigningError):
    """The timestamp authority did not answer, or is not trusted: nothing was written."""

    exit_code = 3


def level_rank(level: str) -> int:
    """0 for B-B … 3 for B-LTA."""
    return LEVELS.index(level)  # type: ignore[arg-type,unused-ignore]


@dataclass(frozen=True)
class SigningPolicy:
    """The level asked for, where timestamps come from, and which roots are trusted."""

    level: Level
    timestamp_url: str | None
    trust_roots: tuple[Any, ...]
    """asn1crypto certificates (see :func:`pipeline.signatures.trust.load_roots`)."""

    def check(self) -> None:
        """A timestamped level needs a timestamp authority: say how to set one."""
        if level_rank(self.level) >= 1 and not self.timestamp_url:
            raise ConfigError(
                _("Level {level} needs a timestamp authority and none is configured.").format(
                    level=self.level),
                hint=_("Set signing.timestamp_url in conventions/commune.yaml (or the "
                       "convention type), pass --timestamp-url URL, or sign at --level B-B "
                       "explicitly."))
        if not self.trust_roots:
            raise SigningError(
                _("No trust root: a signature is accepted only from a certificate that "
                  "chains to a root of the workspace."),
                hint=_("Add the certification authority with 'fiftyfifty trust add CA.pem'."))


@dataclass(frozen=True)
class FieldSignature:
    """One signature to put into one field."""

    field: str
    capacity: str
    """The signatory's capacity, shown under the name in the appearance."""
    reason: str | None = None
    location: str | None = None
    certify: bool = False
    """First signature of the document: certify it (DocMDP, form filling allowed)."""
    when: datetime | None = None
    """Signing time claimed (default: now)."""
    appearance: Callable[[float, float], bytes] | None = None
    """Draws the one-page appearance PDF from the field's width and height, instead of
    the standard text (online signing)."""


@dataclass(frozen=True)
class SignedBytes:
    """What :func:`sign_pdf_bytes` produced."""

    data: bytes
    signer: str
    signed_at: datetime
    level: Level
    warnings: tuple[str, ...] = ()


def _asn1(cert: x509.Certificate) -> Any:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _has_revocation_source(cert: x509.Certificate) -> bool:
    for ext_type in (x509.AuthorityInformationAccess, x509.CRLDistributionPoints):
        try:
            cert.extensions.get_extension_for_class(ext_type)
            return True
        except x509.ExtensionNotFound:
            continue
    return False


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The certificate authorities trusted for HTTPS fetches (timestamp, OCSP, CRL),
    read once per process: the same file pyHanko would read for each signature."""
    return ssl.create_default_context(cafile=certifi.where())


def _http_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=_tls_context()))


def validation_context(policy: SigningPolicy, moment: datetime, *, fetch: bool,
                       backend: AIOHttpFetcherBackend | None = None,
                       extra: tuple[x509.Certificate, ...] = ()) -> ValidationContext:
    """pyHanko's context: the policy's roots, revocation checked online when ``fetch``."""
    return ValidationContext(
        trust_roots=list(policy.trust_roots), other_certs=[_asn1(c) for c in extra],
        allow_fetching=fetch, revocation_mode="hard-fail" if fetch else "soft-fail",
        moment=moment.astimezone(UTC), retroactive_revinfo=not fetch,
        fetcher_backend=backend,
    )


async def check_certificate(opened: OpenedSigner, policy: SigningPolicy, moment: datetime,
                            backend: AIOHttpFetcherBackend,
                            context: ValidationContext | None = None) -> list[str]:
    """Refuse an expired, untrusted, revoked or non-signing certificate; return warnings.

    ``context``: the validation context to check it with (default: a new one with the
    policy's roots, fetching revocation information when the certificate names a source);
    given, it keeps what it fetched for the signature's own validation data."""
    cert, name = opened.cert, opened.common_name or opened.source
    if cert.not_valid_after_utc < moment:
        raise SigningError(f"The certificate of {name} expired on "
                           f"{cert.not_valid_after_utc:%Y-%m-%d}; it cannot sign any more.")
    if cert.not_valid_before_utc > moment:
        raise SigningError(f"The certificate of {name} is not valid before "
                           f"{cert.not_valid_before_utc:%Y-%m-%d}.")
    warnings: list[str] = []
    has_source = _has_revocation_source(cert)
    if not has_source:
        if level_rank(policy.level) >= 2:
            raise SigningError(
                f"The certificate of {name} names no revocation source (OCSP or CRL): it "
                f"cannot sign at {policy.level}; use B-T or B-B.")
        warnings.append(f"The certificate of {name} names no revocation source: its "
                        "revocation could not be checked.")
    if context is None or not has_source:
        context = validation_context(policy, moment, fetch=has_source, backend=backend,
                                     extra=opened.chain)
    validator = CertificateValidator(
        _asn1(cert), intermediate_certs=[_asn1(c) for c in opened.chain],
        validation_context=context)
    try:
        await validator.async_validate_usage(  # type: ignore[no-untyped-call]
            {"non_repudiation"})
    except RevokedError as exc:
        raise SigningError(_("The certificate of {name} is REVOKED: {why}").format(
            name=name, why=exc)) from exc
    except PathBuildingError as exc:
        raise SigningError(
            _("The certificate of {name} does not chain to a trusted root of the "
              "workspace.").format(name=name),
            hint=_("Add its certification authority with 'fiftyfifty trust add CA.pem'."),
        ) from exc
    except InvalidCertificateError as exc:
        raise SigningError(f"The certificate of {name} cannot sign: {exc}") from exc
    except PathValidationError as exc:
        raise SigningError(
            f"The certificate of {name} does not chain to a trusted root of the workspace "
            f"({exc}).",
            hint="Add its certification authority with 'fiftyfifty trust add CA.pem'.",
        ) from exc
    return warnings


def check_field(data: bytes, field: str, reader: PdfFileReader | None = None
                ) -> tuple[float, float]:
    """Refuse a missing or already filled field; return the field's width and height.
    ``reader``: ``data`` already opened."""
    try:
        reader = reader or PdfFileReader(io.BytesIO(data))
        found = list(fields.enumerate_sig_fields(reader))
    except (PdfError, ValueError) as exc:
        raise SigningError(f"The document is not a readable PDF: {exc}") from exc
    for name, value, ref in found:
        if name != field:
            continue
        if value is not None:
            raise SigningError(f"Signature field {field!r} is already signed.")
        try:
            width, height = annot_width_height(get_single_field_annot(ref.get_object()))
        except (PdfError, ValueError, KeyError):
            width = height = 0
        if not (width and height):
            raise SigningError(f"Signature field {field!r} has no visible area on a page.")
        return float(width), float(height)
    known = ", ".join(str(n) for n, _, _ in found) or "none"
    raise SigningError(f"The document has no signature field {field!r} (fields: {known}).")


class _Pdf17Signer(signers.PdfSigner):
    """pyHanko's signer, keeping PDF 1.7 with the ESIC extension (PDF/A-2 allows no 2.0)."""

    def register_extensions(self, pdf_out: BasePdfFileWriter, *, md_algorithm: str) -> None:
        pdf_out.ensure_output_version(version=(1, 7))  # type: ignore[no-untyped-call]
        if pdf_out.output_version < (2, 0):
            from pyhanko.sign.signers import constants as pdf_constants

            pdf_out.register_extension(pdf_constants.ESIC_EXTENSION_1)


_CMS_ROOM = 2048
"""Bytes a B-B signature's CMS needs beyond its certificates and the issuer's name (named
twice): signed attributes, algorithms and the signature value (about 500 for an EC key,
under 1,100 for RSA 8192)."""


def _reservation(signer: Any) -> int | None:
    """Room for the hex-encoded CMS of a B-B signature (no timestamp, no validation data),
    counted from the certificates it embeds, instead of pyHanko's estimate (a dry-run
    signature, a sixth of the signature's CPU); ``None`` when the certificate is unknown."""
    cert = signer.signing_cert
    if cert is None:
        return None
    embedded = [cert, *(signer.cert_registry or ()), *(signer.attribute_certs or ())]
    size = sum(len(c.dump()) for c in embedded) + 2 * len(cert.issuer.dump()) + _CMS_ROOM
    return 2 * size


async def _sign(writer: IncrementalPdfFileWriter, meta: signers.PdfSignatureMetadata,
                opened: OpenedSigner, name: str, style: Any,
                stamper: HTTPTimeStamper | None, when: datetime) -> bytes:
    pdf_signer = _Pdf17Signer(meta, opened.signer, timestamper=stamper, stamp_style=style)
    session = pdf_signer.init_signing_session(writer, existing_fields_only=True)
    session.system_time = when
    info = await session.perform_presign_validation(writer)
    reserved = _reservation(opened.signer) if stamper is None and not \
        meta.embed_validation_info else None
    if reserved is None:
        reserved = await session.estimate_signature_container_size(info, tight=False)
    tbs = session.prepare_tbs_document(
        validation_info=info, bytes_reserved=reserved, appearance_text_params={"signer": name})
    digest, output = tbs.digest_tbs_document(output=io.BytesIO())
    post = await tbs.perform_signature(
        document_digest=digest.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(signing_time=when))
    await post.post_signature_processing(output)
    result: Any = output
    return bytes(result.getvalue())


def _writer(data: bytes) -> IncrementalPdfFileWriter:
    """The document opened for an incremental update (its ``prev``: the document read)."""
    try:
        return IncrementalPdfFileWriter(io.BytesIO(data))
    except (PdfError, ValueError) as exc:
        raise SigningError(f"The document is not a readable PDF: {exc}") from exc


def _timestamp_problem(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        text = f"{type(seen).__module__}.{type(seen).__name__}"
        if "Timestamp" in text or isinstance(seen, OSError | asyncio.TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _check_timestamp(reader: PdfFileReader, field: str, policy: SigningPolicy,
                           moment: datetime) -> None:
    """Refuse a signature whose timestamp does not chain to a trust root (``reader``:
    the signed file)."""
    embedded = next(s for s in reader.embedded_regular_signatures if s.field_name == field)
    context = validation_context(policy, datetime.now(UTC), fetch=False)
    status = await async_validate_pdf_signature(
        embedded, signer_validation_context=context, ts_validation_context=context,
        skip_diff=True)
    stamp = status.timestamp_validity
    if stamp is None or not stamp.trusted:
        raise TimestampError(
            _("The timestamp authority {url} is not trusted (its certificate does not chain "
              "to a root of the workspace); nothing was signed.").format(
                  url=policy.timestamp_url),
            hint=_("Add its certification authority with 'fiftyfifty trust add CA.pem'."))
    if abs((stamp.timestamp - moment).total_seconds()) > 600 and moment > datetime.now(
            UTC) - _SKEW:
        raise TimestampError(f"The timestamp authority {policy.timestamp_url} gives "
                             f"{stamp.timestamp:%Y-%m-%d %H:%M} UTC, far from now: refused.")


async def _check_and_sign(data: bytes, spec: FieldSignature, opened: OpenedSigner,
                         policy: SigningPolicy, moment: datetime) -> SignedBytes:
    session = _http_session()
    backend = AIOHttpFetcherBackend(session, per_request_timeout=TIMESTAMP_TIMEOUT)
    try:
        rank = level_rank(policy.level)
        # One context for the certificate check and, from B-LT, the validation data
        # embedded: the revocation answers fetched for the check are the ones embedded.
        context = validation_context(policy, moment, fetch=True, backend=backend,
                                     extra=opened.chain)
        warnings = await check_certificate(opened, policy, moment, backend, context)
        name = opened.common_name or opened.source
        writer = _writer(data)
        box = check_field(data, spec.field, writer.prev)
        pdfa = declares_pdfa(data, writer.prev)
        stamper = (HTTPTimeStamper(policy.timestamp_url, timeout=TIMESTAMP_TIMEOUT,
                                   session=session)
                   if rank >= 1 and policy.timestamp_url else None)
        meta = signers.PdfSignatureMetadata(
            field_name=spec.field, md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES, reason=spec.reason,
            location=spec.location, name=name, certify=spec.certify,
            docmdp_permissions=MDPPerm.FILL_FORMS,
            embed_validation_info=rank >= 2, use_pades_lta=rank >= 3,
            validation_context=context if rank >= 2 else None,
        )
        text = appearance_text(name, spec.capacity, moment, place=spec.location)
        with tempfile.TemporaryDirectory(prefix="fiftyfifty-sig-") as tmp:
            picture = Path(tmp) / "appearance.pdf"
            picture.write_bytes(spec.appearance(*box) if spec.appearance
                                else render_appearance_pdf(text, *box))
            try:
                signed = await _sign(writer, meta, opened, name, stamp_style(picture),
                                     stamper, moment)
            except (SigningError, ConfigError):
                raise
            except Exception as exc:
                if stamper is not None and _timestamp_problem(exc):
                    raise TimestampError(_(
                        "The timestamp authority {url} did not answer ({why}); nothing was "
                        "signed (level {level} asked).").format(
                            url=policy.timestamp_url, why=f"{type(exc).__name__}: {exc}",
                            level=policy.level)) from exc
                raise SigningError(
                    f"pyHanko refused to sign: {type(exc).__name__}: {exc}") from exc
        reader = PdfFileReader(io.BytesIO(signed))  # the new file, read once for both checks
        if stamper is not None:
            await _check_timestamp(reader, spec.field, policy, moment)
        if pdfa:
            broken = pdfa_problems(signed, reader)
            if broken:
                raise SigningError("The signed file would no longer be PDF/A-2b: "
                                   + "; ".join(broken) + ". Nothing was written.")
        return SignedBytes(signed, name, moment, policy.level, tuple(warnings))
    finally:
        await session.close()


def sign_pdf_bytes(data: bytes, spec: FieldSignature, opened: OpenedSigner,
                   policy: SigningPolicy) -> SignedBytes:
    """Sign ``data`` into ``spec.field`` with ``opened`` at ``policy.level``, in memory.

    Raises :class:`SigningError` (untrusted, revoked, expired certificate; missing or
    filled field), :class:`TimestampError` (authority unreachable or untrusted) or
    :class:`ConfigError` (no authority for a timestamped level).
    """
    policy.check()
    moment = (spec.when or datetime.now(UTC)).astimezone()
    return asyncio.run(_check_and_sign(data, spec, opened, policy, moment))


__all__ = ["LEVELS", "FieldSignature", "Level", "SignedBytes", "SigningPolicy",
           "TimestampError", "check_certificate", "check_field", "level_rank",
           "sign_pdf_bytes", "validation_context"]
