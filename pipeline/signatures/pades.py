"""Sign a PDF into one of its empty signature fields (PAdES baseline B-B, or B-T).

The signature is appended as an incremental update, so every earlier signature stays
valid. Its visible appearance shows the signer's name (from the certificate), the
signatory's capacity and the date, in an embedded DejaVu Sans so accents render.

Everything that can refuse a signature is checked before a byte is written: the PKCS#12
and its passphrase, the certificate's validity at the signing time, the field (it must
exist and be empty). A refusal raises :class:`~pipeline.core.errors.SigningError` and leaves
the destination untouched.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.form_tools import annot_width_height, get_single_field_annot
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as HankoSigningError
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko.stamp import StaticStampStyle

from pipeline.core.errors import InputError, SigningError
from pipeline.signatures.appearance import appearance_text, render_appearance_pdf, stamp_style

TIMESTAMP_TIMEOUT = 10
"""Seconds to wait for a timestamp authority before signing without a timestamp."""

Level = Literal["B-B", "B-T"]


@dataclass(frozen=True)
class SignResult:
    """What :func:`sign_pdf` produced."""

    path: Path
    """The signed PDF (the destination)."""
    field: str
    """The signature field that now holds the signature."""
    signer: str
    """Signer's name as shown in the appearance (the certificate's common name)."""
    capacity: str
    """The signatory's capacity shown under the name."""
    signed_at: datetime
    """Signing time claimed in the signature (``/M``) and shown in the appearance."""
    level: Level
    """PAdES baseline level reached: B-B, or B-T when a timestamp was obtained."""
    sha256: str
    """Hex SHA-256 of the signed file."""
    size: int
    """Size of the signed file in bytes."""
    warnings: tuple[str, ...] = ()
    """Non-fatal problems (an unreachable timestamp authority)."""


def load_credential(
    pkcs12_path: Path, passphrase: bytes, *, when: datetime, name_hint: str | None = None
) -> tuple[signers.SimpleSigner, str]:
    """Open a PKCS#12, check its certificate is valid at ``when``; return signer and name.

    Raises :class:`SigningError` for a wrong passphrase, an unreadable file, or a
    certificate that has expired or is not yet valid at ``when``.
    """
    path = Path(pkcs12_path)
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"Cannot read the PKCS#12 file {path}: {exc.strerror}.") from exc
    try:
        key, cert, _chain = pkcs12.load_key_and_certificates(blob, passphrase)
    except ValueError as exc:
        raise SigningError(
            f"Cannot open {path.name}: wrong passphrase, or not a PKCS#12 file."
        ) from exc
    if key is None or cert is None:
        raise SigningError(f"{path.name} holds no private key with its certificate.")
    if cert.not_valid_after_utc < when:
        raise SigningError(
            f"The certificate in {path.name} expired on "
            f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC; it cannot sign any more."
        )
    if cert.not_valid_before_utc > when:
        raise SigningError(
            f"The certificate in {path.name} is not valid before "
            f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC."
        )
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(names[0].value) if names else ""
    name = common_name or (name_hint or "").strip()
    if not name:
        raise SigningError(f"The certificate in {path.name} carries no signer name (CN).")
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(blob, other_certs=[], passphrase=passphrase)
    except ValueError as exc:  # pragma: no cover - cryptography accepted it above
        raise SigningError(f"pyHanko cannot use {path.name}: {exc}") from exc
    return signer, name


def _check_field(data: bytes, field: str) -> tuple[float, float]:
    """Refuse a missing or already filled field; return the field's width and height."""
    try:
        reader = PdfFileReader(io.BytesIO(data))
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


async def _sign(
    data: bytes,
    meta: signers.PdfSignatureMetadata,
    signer: signers.SimpleSigner,
    name: str,
    style: StaticStampStyle,
    timestamper: HTTPTimeStamper | None,
    when: datetime,
) -> bytes:
    """pyHanko's signing steps, with the signing time fixed to ``when``."""
    pdf_signer = signers.PdfSigner(meta, signer, timestamper=timestamper, stamp_style=style)
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    session = pdf_signer.init_signing_session(writer, existing_fields_only=True)
    session.system_time = when
    info = await session.perform_presign_validation(writer)
    reserved = await session.estimate_signature_container_size(info, tight=False)
    tbs = session.prepare_tbs_document(
        validation_info=info, bytes_reserved=reserved,
        appearance_text_params={"signer": name},
    )
    digest, output = tbs.digest_tbs_document(output=io.BytesIO())
    post = await tbs.perform_signature(
        document_digest=digest.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(signing_time=when),
    )
    await post.post_signature_processing(output)
    result: Any = output
    return bytes(result.getvalue())


def _is_timestamp_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimestampRequestError | OSError | asyncio.TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _sign_with_fallback(
    data: bytes,
    meta: signers.PdfSignatureMetadata,
    signer: signers.SimpleSigner,
    name: str,
    style: StaticStampStyle,
    timestamp_url: str | None,
    moment: datetime,
) -> tuple[bytes, Level, tuple[str, ...]]:
    """Sign with a timestamp when one was asked for and answers; else without."""
    warnings: list[str] = []
    if timestamp_url:
        stamper = HTTPTimeStamper(timestamp_url, timeout=TIMESTAMP_TIMEOUT)
        try:
            signed = asyncio.run(_sign(data, meta, signer, name, style, stamper, moment))
            return signed, "B-T", ()
        except Exception as exc:
            if not _is_timestamp_failure(exc):
                raise SigningError(f"pyHanko refused to sign: {exc}") from exc
            warnings.append(
                f"Timestamp authority {timestamp_url} unreachable ({exc}); "
                "signed without a timestamp (PAdES B-B)."
            )
    try:
        signed = asyncio.run(_sign(data, meta, signer, name, style, None, moment))
    except (HankoSigningError, PdfError) as exc:
        raise SigningError(f"pyHanko refused to sign: {exc}") from exc
    return signed, "B-B", tuple(warnings)


def sign_pdf_bytes(
    data: bytes,
    *,
    field: str,
    pkcs12: Path,
    passphrase: bytes,
    name_hint: str | None = None,
    capacity: str,
    reason: str | None = None,
    location: str | None = None,
    timestamp_url: str | None = None,
    when: datetime | None = None,
    appearance: Callable[[float, float], bytes] | None = None,
) -> tuple[bytes, str, datetime, Level, tuple[str, ...]]:
    """Sign ``data`` in memory; return (signed bytes, signer name, time, level, warnings).

    ``appearance`` (hook for online signing) draws the field's one-page appearance PDF
    from the field's width and height, instead of the standard text."""
    moment = (when or datetime.now(UTC)).astimezone()
    signer, name = load_credential(pkcs12, passphrase, when=moment, name_hint=name_hint)
    box = _check_field(data, field)
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=name,
    )
    text = appearance_text(name, capacity, moment, place=location)
    with tempfile.TemporaryDirectory(prefix="fiftyfifty-sig-") as tmp:
        picture = Path(tmp) / "appearance.pdf"
        picture.write_bytes(appearance(*box) if appearance else render_appearance_pdf(text, *box))
        signed, level, warnings = _sign_with_fallback(
            data, meta, signer, name, stamp_style(picture), timestamp_url, moment
        )
    return signed, name, moment, level, tuple(warnings)


def _write_new(dst: Path, data: bytes) -> None:
    """Write ``dst`` through a synced temporary file; refuse to replace a file."""
    if dst.exists():
        raise SigningError(f"{dst} already exists; a signed document is never overwritten.")
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".part", dir=dst.parent)
    try:
        os.chmod(tmp, 0o644)  # an ordinary document, not a secret
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, dst)  # fails instead of replacing a file created meanwhile
    finally:
        os.unlink(tmp)


def sign_pdf(
    src: Path,
    dst: Path,
    *,
    field: str,
    pkcs12: Path,
    passphrase: bytes,
    name_hint: str | None = None,
    capacity: str,
    reason: str | None = None,
    location: str | None = None,
    timestamp_url: str | None = None,
    when: datetime | None = None,
) -> SignResult:
    """Sign ``src`` into its empty signature ``field`` and write the result to ``dst``.

    PAdES B-B (``ETSI.CAdES.detached``, SHA-256) as an incremental update; B-T when
    ``timestamp_url`` answers (an unreachable authority is a warning in the result).
    ``when`` fixes the signing time (default: now). Raises :class:`SigningError`, with
    ``dst`` not created, for a wrong passphrase, an expired or not-yet-valid
    certificate, a missing or already signed field, or an existing ``dst``.
    """
    src, dst = Path(src), Path(dst)
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read {src}: {exc.strerror}.") from exc
    if dst.exists():
        raise SigningError(f"{dst} already exists; a signed document is never overwritten.")
    signed, name, moment, level, warnings = sign_pdf_bytes(
        data, field=field, pkcs12=pkcs12, passphrase=passphrase, name_hint=name_hint,
        capacity=capacity, reason=reason, location=location,
        timestamp_url=timestamp_url, when=when,
    )
    _write_new(dst, signed)
    return SignResult(
        path=dst, field=field, signer=name, capacity=capacity, signed_at=moment,
        level=level, sha256=hashlib.sha256(signed).hexdigest(), size=len(signed),
        warnings=warnings,
    )


__all__ = ["SignResult", "load_credential", "sign_pdf", "sign_pdf_bytes"]
