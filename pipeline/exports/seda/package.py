"""``archive export-seda``: write a SEDA 2.1 transfer package of signed conventions.

The package is a ZIP: ``manifest.xml`` (the ``ArchiveTransfer`` message) and the files
under ``content/<ID>/``. Before anything is written, each archived file is checked
against the registry's SHA-256 (an altered archive is never handed over), hashed with
SHA-512 for the manifest, and the manifest is validated against the shipped SEDA 2.1
schema: an invalid manifest raises :class:`SedaValidationError` and no file appears.
The ZIP is written to a temp name beside the output, fsynced and renamed inside the
registry transaction that records one ``transferred`` event per convention, so a package
on disk always has its events and an interrupted export leaves neither.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.catalogue.loader import Catalogue
from pipeline.core.errors import ArchiveError, StateError
from pipeline.core.files import sha256_file
from pipeline.core.i18n import _
from pipeline.core.settings import load_settings
from pipeline.core.workspace import Workspace
from pipeline.exports.seda.schema import SchemaProblem, validate_manifest
from pipeline.exports.seda.units import AgencyIds, PackFile, build_message, resolve_agencies
from pipeline.exports.sources import SIGNED_STATUSES, Source, load_source, select_rows
from pipeline.records.archive import workspace_path
from pipeline.records.registry import ConventionRow, DocumentRow, Registry
from pipeline.records.transfers import EVENT_TRANSFERRED, sha512_file

log = logging.getLogger(__name__)

MANIFEST = "manifest.xml"
PACKED_KINDS = ("signed", "scan", "evidence", "evidence_json", "intake", "attachment")
"""Document kinds put in a package (the DOCX and unsigned PDF stay behind)."""
_AMENDMENT = re.compile(r"^(?P<parent>[0-9A-Z_]+)_A(?P<n>\d+)$")


class SedaValidationError(ArchiveError):
    """The manifest does not conform to SEDA 2.1: nothing was written."""

    def __init__(self, problems: Sequence[SchemaProblem]) -> None:
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(_("The transfer manifest is not valid SEDA 2.1; nothing was "
                           "written:") + "\n" + lines,
                         hint=_("Report this to the maintainers with the command you ran."))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class TransferRequest:
    """What to export and to whom."""

    output: Path
    ids: tuple[str, ...] = ()
    year: int | None = None
    status: str | None = None
    agencies: AgencyIds = field(default_factory=AgencyIds)
    actor: str = "fiftyfifty"
    now: datetime | None = None
    """The message date (default: now, UTC)."""


@dataclass(frozen=True)
class TransferResult:
    """What was written."""

    package: Path
    message_id: str
    conventions: tuple[str, ...]
    files: int
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"package": str(self.package), "message_id": self.message_id,
                "conventions": list(self.conventions), "files": self.files, "size": self.size}


def _packed(ws: Workspace, doc: DocumentRow, uri: str) -> PackFile:
    path = workspace_path(ws, doc.relpath)
    if not path.is_file() or path.is_symlink():
        raise ArchiveError(_("{path} is missing: nothing was written.").format(
            path=doc.relpath), hint=_("Run `fiftyfifty archive verify` to see what is wrong."))
    digest, size = sha256_file(path)
    if (digest, size) != (doc.sha256, doc.size):
        raise ArchiveError(_("{path} no longer matches the registry: nothing was written.")
                           .format(path=doc.relpath),
                           hint=_("Run `fiftyfifty archive verify` to see what is wrong."))
    sha512, _size = sha512_file(path)
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return PackFile(doc, path, uri, sha512, size, modified)


def _attached_amendments(cid: str, docs: list[DocumentRow]
                         ) -> tuple[list[DocumentRow], dict[str, list[DocumentRow]]]:
    """Split off amendments archived as attachments of the convention
    (``<ID>_A<n>-signed-<k>-<key>.pdf``, ``<ID>_A<n>-record.json``): per amendment, its
    last signed PDF and its record; an amendment not signed yet is left out."""
    pattern = re.compile(rf"^(?P<aid>{re.escape(cid)}_A\d+)(?P<rest>[-.].*)$")
    plain: list[DocumentRow] = []
    groups: dict[str, list[DocumentRow]] = {}
    for d in docs:
        m = pattern.match(d.relpath.rsplit("/", 1)[-1]) if d.kind == "attachment" else None
        if m is None:
            plain.append(d)
        else:
            groups.setdefault(m["aid"], []).append(d)
    kept: dict[str, list[DocumentRow]] = {}
    for aid, group in sorted(groups.items(), key=lambda kv: int(kv[0].rsplit("_A", 1)[1])):
        signed = [d for d in group if re.search(r"-signed-\d+-", d.relpath)]
        if not signed:
            continue
        last = max(signed, key=lambda d: d.id)
        kept[aid] = [last, *(d for d in group if d.relpath.endswith("-record.json"))]
    return plain, kept


def _files_of(ws: Workspace, src: Source) -> list[PackFile]:
    docs = [d for d in src.documents if d.kind in PACKED_KINDS]
    docs, attached = _attached_amendments(src.id, docs)
    signed = [d for d in docs if d.kind in ("signed", "scan")]
    if not signed:
        raise StateError(_("{id} has no signed document to transfer.").format(id=src.id))
    last_signed = max(signed, key=lambda d: d.id)
    keep = sorted((d for d in docs if d.kind not in ("signed", "scan") or d is last_signed),
                  key=lambda d: (PACKED_KINDS.index(d.kind), d.id))
    out = [_packed(ws, d, f"content/{src.id}/{d.relpath.rsplit('/', 1)[-1]}") for d in keep]
    for aid, group in attached.items():
        out += [replace(_packed(ws, d, f"content/{src.id}/{d.relpath.rsplit('/', 1)[-1]}"),
                        amendment=aid) for d in group]
    return out


def _choose(reg: Registry, req: TransferRequest) -> list[ConventionRow]:
    if not (req.ids or req.year or req.status):
        raise StateError(_("Say which conventions to transfer: numbers, --year or --status."))
    rows = select_rows(reg, ids=req.ids, year=req.year, status=req.status)
    unsigned = [r.id for r in rows if r.status not in SIGNED_STATUSES]
    if unsigned and req.ids:
        raise StateError(_("Only signed conventions are transferred; not signed: {ids}.")
                         .format(ids=", ".join(unsigned)))
    rows = [r for r in rows if r.status in SIGNED_STATUSES]
    chosen = {r.id for r in rows}
    rows = [r for r in rows if not ((m := _AMENDMENT.match(r.id)) and m["parent"] in chosen)]
    if not rows:
        raise StateError(_("No signed convention matches: nothing to transfer."))
    return rows


def _amendments(reg: Registry, row: ConventionRow) -> list[ConventionRow]:
    found = [r for r in reg.list(year=None) if (m := _AMENDMENT.match(r.id))
             and m["parent"] == row.id and r.status in SIGNED_STATUSES]
    return sorted(found, key=lambda r: int(_AMENDMENT.match(r.id)["n"]))  # type: ignore[index]


def _write_zip(target: Path, manifest: bytes, files: Sequence[PackFile]) -> tuple[Path, int]:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    try:
        with zipfile.ZipFile(tmp, "x") as zf:
            zf.writestr(zipfile.ZipInfo(MANIFEST, date_time=(2000, 1, 1, 0, 0, 0)), manifest,
                        compress_type=zipfile.ZIP_DEFLATED)
            for f in files:
                method = zipfile.ZIP_STORED if f.uri.endswith(".pdf") else zipfile.ZIP_DEFLATED
                zf.write(f.path, f.uri, compress_type=method)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target, target.stat().st_size


def export_seda(ws: Workspace, catalogue: Catalogue, req: TransferRequest,
                *, registry: Registry | None = None) -> TransferResult:
    """Build, validate and write the transfer package; record one event per convention."""
    target = req.output.absolute().resolve()
    archive = ws.archive_dir.absolute().resolve()
    if target == archive or target.is_relative_to(archive):
        raise ArchiveError(_("{path} is inside the archive: write the package elsewhere.")
                           .format(path=req.output))
    reg = registry or Registry.open(ws.registry_path, create=False)
    try:
        now = req.now or datetime.now(UTC)
        with reg.transaction():
            rows = _choose(reg, req)
            entries: list[tuple[Source, list[PackFile], list[tuple[Source, list[PackFile]]]]] = []
            for row in rows:
                src = load_source(ws, reg, row)
                amendments = [(a := load_source(ws, reg, r), _files_of(ws, a))
                              for r in _amendments(reg, row)]
                entries.append((src, _files_of(ws, src), amendments))
            seed = "|".join(r.id for r in rows) + now.isoformat()
            message_id = (f"FF-{now:%Y%m%dT%H%M%S}-"
                          f"{hashlib.sha256(seed.encode()).hexdigest()[:8].upper()}")
            agencies = resolve_agencies(req.agencies, load_settings(ws).section("archives"),
                                        entries[0][0].convention.commune)
            message = build_message(reg, catalogue, entries, agencies, message_id, now)
            problems = validate_manifest(message.xml)
            if problems:
                raise SedaValidationError(problems)
            every = [f for _, files, amds in entries
                     for f in [*files, *(g for _, fs in amds for g in fs)]]
            for src, files, amds in entries:
                reg.record_event(src.id, EVENT_TRANSFERRED, req.actor, {
                    "message_id": message_id, "package": req.output.name,
                    "files": [{"path": f.doc.relpath, "sha512": f.sha512, "size": f.size}
                              for f in [*files, *(g for _, fs in amds for g in fs)]]})
            path, size = _write_zip(req.output, message.xml, every)
        log.info("transfer package %s written (%d files)", path, len(every))
        return TransferResult(path, message_id, tuple(r.id for r in rows), len(every), size)
    finally:
        if registry is None:
            reg.close()


__all__ = ["MANIFEST", "PACKED_KINDS", "SedaValidationError", "TransferRequest",
           "TransferResult", "export_seda"]
