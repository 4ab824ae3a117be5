"""Renew the archive timestamps of signed conventions before their authority expires.

A B-LTA convention stays provable as long as its last document timestamp can be
validated: its authority's certificate must still be valid. Before it expires, a new
document timestamp (with the validation data of the previous one) is appended, as a new
archived version and a ``timestamp_renewed`` event. Run it every year or so:
``fiftyfifty archive renew-timestamps --before 2031-01-01``.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession

from pipeline.core.errors import ConfigError, SigningError
from pipeline.core.workspace import Workspace
from pipeline.records.archive import add_files, workspace_path
from pipeline.records.registry import Registry
from pipeline.signatures.pades import TIMESTAMP_TIMEOUT, TimestampError
from pipeline.signatures.trust import load_roots

EVENT_RENEWED = "timestamp_renewed"


@dataclass(frozen=True)
class Renewal:
    """One convention whose archive timestamp was renewed."""

    convention_id: str
    document: str
    expired_on: date | None
    """When the previous last timestamp's authority certificate expires (None: none)."""


def last_stamp_expiry(data: bytes) -> date | None:
    """Expiry of the authority certificate of the document's last timestamp."""
    reader = PdfFileReader(io.BytesIO(data))
    stamps = list(reader.embedded_timestamp_signatures)
    if not stamps:
        return None
    cert = stamps[-1].signer_cert
    return cert["tbs_certificate"]["validity"]["not_after"].native.date()  # type: ignore[no-any-return]


async def _stamp(data: bytes, url: str, roots: tuple[Any, ...]) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    session = LazySession()  # type: ignore[no-untyped-call]
    backend = AIOHttpFetcherBackend(per_request_timeout=TIMESTAMP_TIMEOUT)
    try:
        stamper = PdfTimeStamper(HTTPTimeStamper(url, timeout=TIMESTAMP_TIMEOUT,
                                                 session=session))
        context = ValidationContext(trust_roots=list(roots), allow_fetching=True,
                                    revocation_mode="soft-fail", fetcher_backend=backend)
        out = io.BytesIO()
        writer = IncrementalPdfFileWriter(io.BytesIO(data))
        await stamper.async_timestamp_pdf(writer, "sha256", validation_context=context,
                                          output=out)
        return out.getvalue()
    finally:
        await backend.close()  # type: ignore[no-untyped-call]
        await session.close()  # type: ignore[no-untyped-call]


def renew_timestamps(ws: Workspace, *, before: date, timestamp_url: str | None,
                     actor: str = "fiftyfifty") -> list[Renewal]:
    """Add a document timestamp to every signed convention whose last timestamp's
    authority expires before ``before`` (or that has none)."""
    if not timestamp_url:
        raise ConfigError("Renewing timestamps needs a timestamp authority.",
                          hint="Pass --timestamp-url URL or set signing.timestamp_url in "
                          "conventions/commune.yaml.")
    roots = load_roots(ws)
    done: list[Renewal] = []
    with Registry.open(ws.registry_path, create=False) as reg:
        for row in reg.list(status="signed"):
            doc = reg.latest_document(row.id, ["signed"])
            if doc is None:
                continue
            data = workspace_path(ws, doc.relpath).read_bytes()
            expiry = last_stamp_expiry(data)
            if expiry is not None and expiry >= before:
                continue
            try:
                stamped = asyncio.run(_stamp(data, timestamp_url, roots))
            except Exception as exc:
                raise TimestampError(f"{row.id}: the timestamp authority {timestamp_url} "
                                     f"refused or did not answer ({exc}).") from exc
            if stamped[: len(data)] != data:
                raise SigningError(f"{row.id}: the renewal rewrote the file; refused.")
            with reg.transaction():
                count = len(reg.documents(row.id)) + 1
                (stored,) = add_files(ws, reg, row.id, row.version, [(
                    f"{row.id}-signed-{count}-timestamp.pdf", "signed", stamped)], actor=actor)
                reg.record_event(row.id, EVENT_RENEWED, actor, {
                    "document": stored.relpath, "sha256": stored.sha256,
                    "from_document": doc.relpath,
                    "previous_expiry": expiry.isoformat() if expiry else None,
                    "at": datetime.now(UTC).isoformat()})
            done.append(Renewal(row.id, stored.relpath, expiry))
    return done


__all__ = ["EVENT_RENEWED", "Renewal", "last_stamp_expiry", "renew_timestamps"]
