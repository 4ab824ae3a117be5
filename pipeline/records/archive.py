"""The archive folder: safe paths, atomic files, the manifest, and storing documents.

Layout: ``<workspace>/archive/<year>/<ID>/`` holds the normalised intake, the rendered
documents, the signed PDFs and ``manifest.json`` (every registered file of the folder
with its kind, version, SHA-256 and size). Version 1 files keep their plain name; later
versions get ``_v<N>`` before the extension (``FF_2026_001_v2.pdf``), so a new version
never touches an earlier one. A registered file is never overwritten.

Crash safety: every file goes to ``.<name>.<12 hex>.tmp`` in the same folder, is flushed
and fsynced, and renamed; once the files and the manifest of a store are in place, the
folder is fsynced, once, so every rename is durable before the registry commits. Storing
happens inside one registry write transaction (which also serialises writers of the
archive): files, then document rows, then the manifest, then the folder's fsync, then the
status, then COMMIT. A crash before the commit leaves
the convention ``pending``; ``Registry.claim`` then answers ``resume`` and the rerun
overwrites the unregistered leftovers. Temp files left by a crash are removed by the next
store into that folder; ``archive verify`` lists them apart, never as user files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.errors import ArchiveError, StateError
from pipeline.core.files import (
    clean_temp_files,
    ensure_folder,
    fsync_folder,
    write_atomic,
)
from pipeline.core.workspace import Workspace
from pipeline.records.registry import DOCUMENT_KINDS, DocumentRow, Registry, is_valid_convention_id

MANIFEST_NAME = "manifest.json"
FILE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")
"""What a stored file's name may look like (no folder part, no leading dot)."""
@dataclass(frozen=True)
class StoredDocument:
    """A file stored in the archive and registered."""

    name: str
    """File name inside the convention folder (with the version suffix)."""
    kind: str
    version: int
    relpath: str
    """Path relative to the workspace (``archive/2026/FF_2026_001/FF_2026_001.pdf``)."""
    path: Path
    sha256: str
    size: int


def archive_folder(ws: Workspace, year: int, convention_id: str) -> Path:
    """``<ws>/archive/<year>/<ID>``, refusing any ID or year that could leave the archive."""
    if not is_valid_convention_id(convention_id):
        raise ArchiveError(
            f"Refused convention number {convention_id!r}: only 1 to 15 characters among"
            " A-Z, 0-9 and _ are allowed."
        )
    if isinstance(year, bool) or not isinstance(year, int) or not 1000 <= year <= 9999:
        raise ArchiveError(f"Refused archive year {year!r}: four digits expected.")
    return inside_archive(ws, ws.archive_dir / f"{year:04d}" / convention_id)


def inside_archive(ws: Workspace, path: Path) -> Path:
    """Return ``path`` if it resolves (symlinks followed) inside ``<ws>/archive``."""
    root = ws.archive_dir.resolve()
    target = path.resolve()
    if target != root and not target.is_relative_to(root):
        raise ArchiveError(f"Refused path {path}: it leads outside the archive {root}.")
    return path


def workspace_path(ws: Workspace, relpath: str) -> Path:
    """The absolute path of a registered relative path, refused if it leaves the archive."""
    if not relpath or relpath.startswith("/") or "\\" in relpath:
        raise ArchiveError(f"Refused registered path {relpath!r}.")
    return inside_archive(ws, ws.root / relpath)


def versioned_name(name: str, version: int) -> str:
    """``FF_2026_001.pdf`` for version 1, ``FF_2026_001_v2.pdf`` for version 2, ..."""
    if not FILE_NAME_RE.fullmatch(name) or name == MANIFEST_NAME:
        raise ArchiveError(f"Refused file name {name!r} for the archive.")
    if version < 1:
        raise ArchiveError(f"Refused version {version}.")
    if version == 1:
        return name
    stem, dot, ext = name.partition(".")
    return f"{stem}_v{version}{dot}{ext}"


def manifest_payload(convention_id: str, docs: Sequence[DocumentRow]) -> dict[str, Any]:
    """What ``manifest.json`` holds for these registered documents."""
    files = sorted(
        ({"name": d.relpath.rsplit("/", 1)[-1], "kind": d.kind, "version": d.version,
          "sha256": d.sha256, "size": d.size} for d in docs),
        key=lambda f: str(f["name"]),
    )
    return {"format": "fiftyfifty-manifest/1", "convention": convention_id, "files": files}


def write_manifest(folder: Path, convention_id: str, docs: Sequence[DocumentRow], *,
                   sync_folder: bool = True) -> Path:
    """Rewrite ``manifest.json`` atomically from the registered documents."""
    text = json.dumps(manifest_payload(convention_id, docs), ensure_ascii=False, indent=2)
    return write_atomic(folder / MANIFEST_NAME, (text + "\n").encode("utf-8"),
                        sync_folder=sync_folder).path


FileSpec = tuple[str, str, Path | bytes]
"""(base file name, document kind, source path or bytes)."""


def add_files(ws: Workspace, reg: Registry, convention_id: str, version: int,
              files: Sequence[FileSpec], *, actor: str = "fiftyfifty") -> list[StoredDocument]:
    """Write and register files of a convention (e.g. a signed PDF); rewrite the manifest.

    Refuses (:class:`ArchiveError`) a name already registered: nothing is ever replaced.
    """
    if not files:
        raise ArchiveError(f"Nothing to archive for {convention_id}.")
    with reg.transaction():
        row = reg.get(convention_id)
        if row is None:
            raise StateError(f"No convention {convention_id} in the registry.")
        folder = archive_folder(ws, row.year, row.id)
        names = [versioned_name(name, version) for name, _, _ in files]
        if len(set(names)) != len(names):
            raise ArchiveError(f"Two files of {convention_id} would have the same name.")
        registered = {d.relpath for d in reg.documents(convention_id)}
        rel_folder = folder.relative_to(ws.root).as_posix()
        for (_, kind, _), name in zip(files, names, strict=True):
            if kind not in DOCUMENT_KINDS:
                raise ArchiveError(f"Unknown document kind {kind!r}.")
            if f"{rel_folder}/{name}" in registered:
                raise ArchiveError(
                    f"{rel_folder}/{name} is already archived and is never overwritten.",
                    hint="A change after signature is an amendment: archive it as a new file.",
                )
        ensure_folder(folder)
        clean_temp_files(folder)
        stored = []
        for (_, kind, data), name in zip(files, names, strict=True):
            written = write_atomic(folder / name, data, sync_folder=False)
            rel = f"{rel_folder}/{name}"
            reg.add_document(convention_id, kind, version, rel, written.sha256, written.size,
                             actor=actor)
            stored.append(StoredDocument(name, kind, version, rel, written.path,
                                         written.sha256, written.size))
        write_manifest(folder, convention_id, reg.documents(convention_id), sync_folder=False)
        fsync_folder(folder)  # every rename above made durable at once, before the commit
        return stored


def store_documents(ws: Workspace, reg: Registry, convention_id: str, year: int, version: int,
                    files: Sequence[FileSpec], *,
                    actor: str = "fiftyfifty") -> list[StoredDocument]:
    """Archive the documents produced for a claim and mark the convention ``generated``.

    All in one registry transaction. If another process already stored this version
    (two batches resumed the same record), nothing is written and the documents already
    registered for it are returned. A version superseded meanwhile raises StateError.
    """
    with reg.transaction():
        row = reg.get(convention_id)
        if row is None:
            raise StateError(f"No convention {convention_id} in the registry.")
        if row.year != year:
            raise ArchiveError(f"{convention_id} belongs to {row.year}, not {year}.")
        if row.version != version:
            raise StateError(
                f"{convention_id} is now at version {row.version}; version {version} was"
                " superseded while its documents were produced."
            )
        if row.status != "pending":
            return [
                StoredDocument(d.relpath.rsplit("/", 1)[-1], d.kind, d.version, d.relpath,
                               ws.root / d.relpath, d.sha256, d.size)
                for d in reg.documents(convention_id) if d.version == version
            ]
        stored = add_files(ws, reg, convention_id, version, files, actor=actor)
        reg.set_status(convention_id, "generated", actor=actor,
                       details={"files": [s.name for s in stored]})
        return stored
