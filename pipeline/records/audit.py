"""``archive verify``: prove that the archive and the registry still agree.

Checks, in order: SQLite's own integrity check; the event hash chain; each convention's
status and version against its event history; each registered file (present, same size,
same SHA-256, the same hash as in the event that registered it); each folder's
``manifest.json`` against the registry; and that no file in the archive is unregistered.
Temp files left by an interrupted write (``.<name>.<hex>.tmp``) are listed apart in
``temp_files``, not as problems: the next store into that folder removes them.

The chain detects an edited, deleted or inserted event anywhere but at the very end;
``chain_head`` (count and last hash) is reported so a clerk can note it and notice a
later truncation. Document rows, statuses, references, fingerprints and the summary
columns (title, holders, amounts, dates, signatories) are cross-checked with the events, so
editing those tables alone is detected too.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.core.errors import ArchiveError
from pipeline.core.files import TEMP_RE, sha256_file
from pipeline.core.workspace import Workspace
from pipeline.records.archive import MANIFEST_NAME, archive_folder, manifest_payload, workspace_path
from pipeline.records.registry import (
    EVENT_ALLOCATED,
    EVENT_DOCUMENT,
    EVENT_NEW_VERSION,
    EVENT_STATUS,
    SUMMARY_FIELDS,
    DocumentRow,
    Registry,
)
from pipeline.records.transfers import sha512_file, transfers

ProblemKind = Literal[
    "missing", "altered", "unregistered", "chain_broken", "manifest", "registry_mismatch",
    "incomplete", "unsafe_path", "registry_corrupt", "transfer_mismatch",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong, with where and what differs."""

    kind: ProblemKind
    path: str
    """Workspace-relative path (``archive/2026/FF_2026_001/FF_2026_001.pdf``), or
    ``registry.sqlite#events/12`` for a registry row."""
    message: str
    expected: str = ""
    found: str = ""
    convention_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "message": self.message,
                "expected": self.expected, "found": self.found,
                "convention": self.convention_id}


@dataclass(frozen=True)
class AuditReport:
    """What ``verify_archive`` found."""

    workspace: Path
    conventions: int
    files_checked: int
    events: int
    chain_head: str
    problems: tuple[Problem, ...] = ()
    temp_files: tuple[str, ...] = field(default_factory=tuple)

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid, "workspace": str(self.workspace),
            "stats": {"conventions": self.conventions, "files_checked": self.files_checked,
                      "events": self.events, "problems": len(self.problems)},
            "chain_head": self.chain_head,
            "problems": [p.to_dict() for p in self.problems],
            "temp_files": list(self.temp_files),
        }


@dataclass
class _History:
    """What the events say each convention and file should be."""

    state: dict[str, tuple[str, int]] = field(default_factory=dict)
    """(status, version) per convention."""
    docs: dict[str, tuple[str, int]] = field(default_factory=dict)
    """(sha256, size) per archived path."""
    identity: dict[str, tuple[str, str]] = field(default_factory=dict)
    """(reference, fingerprint) per convention."""
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The summary columns per convention (histories written before 0.2 lack them)."""


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _replay(reg: Registry) -> _History:
    """Replay the event history."""
    h = _History()
    state, docs, identity = h.state, h.docs, h.identity
    for ev in reg.events():
        cid, d = ev.convention_id, ev.details
        if cid is None:
            continue
        if ev.action == EVENT_ALLOCATED:
            state[cid] = ("pending", int(d.get("version", 1)))
            identity[cid] = (str(d.get("reference")), str(d.get("fingerprint")))
            if isinstance(d.get("summary"), dict):
                h.summary[cid] = d["summary"]
        elif ev.action == EVENT_NEW_VERSION:
            state[cid] = ("pending", int(d.get("to_version", 0)))
            if cid in identity:
                identity[cid] = (identity[cid][0], str(d.get("new_fingerprint")))
            if isinstance(d.get("summary"), dict):
                h.summary[cid] = d["summary"]
        elif ev.action == EVENT_STATUS and cid in state:
            state[cid] = (str(d.get("to")), state[cid][1])
        elif ev.action == EVENT_DOCUMENT:
            docs[str(d.get("path"))] = (str(d.get("sha256")), int(d.get("size", -1)))
    return h


def _check_document(ws: Workspace, doc: DocumentRow, from_events: tuple[str, int] | None,
                    out: list[Problem]) -> bool:
    """Check one registered file; return True when it was hashed."""
    cid = doc.convention_id
    if from_events is None:
        out.append(Problem("registry_mismatch", doc.relpath,
                           "registered file has no matching event in the history",
                           convention_id=cid))
    elif from_events != (doc.sha256, doc.size):
        out.append(Problem("registry_mismatch", doc.relpath,
                           "the registry's hash differs from the one recorded in the history",
                           f"{from_events[0]} ({from_events[1]} bytes)",
                           f"{doc.sha256} ({doc.size} bytes)", cid))
    try:
        path = workspace_path(ws, doc.relpath)
    except ArchiveError as exc:
        out.append(Problem("unsafe_path", doc.relpath, exc.msg, convention_id=cid))
        return False
    if not path.is_file() or path.is_symlink():
        out.append(Problem("missing", doc.relpath, f"registered {doc.kind} file is missing",
                           f"{doc.sha256} ({doc.size} bytes)", "no file", cid))
        return False
    digest, size = sha256_file(path)
    if (digest, size) != (doc.sha256, doc.size):
        out.append(Problem("altered", doc.relpath, f"{doc.kind} file content changed",
                           f"sha256 {doc.sha256}, {doc.size} bytes",
                           f"sha256 {digest}, {size} bytes", cid))
    return True


def _check_manifest(ws: Workspace, folder: Path, cid: str, docs: list[DocumentRow],
                    out: list[Problem]) -> None:
    rel = (folder / MANIFEST_NAME).relative_to(ws.root).as_posix()
    try:
        found = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        out.append(Problem("missing", rel, "manifest is missing", convention_id=cid))
        return
    except (OSError, ValueError) as exc:
        out.append(Problem("manifest", rel, f"manifest is unreadable: {exc}",
                           convention_id=cid))
        return
    expected = manifest_payload(cid, docs)
    if found == expected:
        return
    want = {f["name"]: f for f in expected["files"]}
    have = {f.get("name"): f for f in found.get("files", []) if isinstance(f, dict)} \
        if isinstance(found, dict) else {}
    differing = sorted(str(n) for n in set(want) | set(have) if want.get(n) != have.get(n))
    for name in differing or ["(header)"]:
        out.append(Problem("manifest", rel, f"manifest entry {name} disagrees with the registry",
                           json.dumps(want.get(name), ensure_ascii=False),
                           json.dumps(have.get(name), ensure_ascii=False), cid))


def _check_transfers(ws: Workspace, reg: Registry, out: list[Problem]) -> None:
    """Files handed to the archive service in a SEDA package still have the SHA-512
    digest the package's manifest declared (see :mod:`pipeline.records.transfers`)."""
    seen: set[tuple[str, str]] = set()
    for t in transfers(reg):
        for f in t.files:
            if (f.path, f.sha512) in seen:
                continue
            seen.add((f.path, f.sha512))
            try:
                path = workspace_path(ws, f.path)
            except ArchiveError as exc:
                out.append(Problem("unsafe_path", f.path, exc.msg, convention_id=t.convention_id))
                continue
            if not path.is_file() or path.is_symlink():
                out.append(Problem("transfer_mismatch", f.path, f"file transferred in package"
                                   f" {t.message_id} is missing", f"sha512 {f.sha512}",
                                   "no file", t.convention_id))
                continue
            digest, size = sha512_file(path)
            if (digest, size) != (f.sha512, f.size):
                out.append(Problem("transfer_mismatch", f.path, f"file differs from the copy"
                                   f" transferred in package {t.message_id}",
                                   f"sha512 {f.sha512}, {f.size} bytes",
                                   f"sha512 {digest}, {size} bytes", t.convention_id))


def _walk_files(ws: Workspace) -> list[Path]:
    files: list[Path] = []
    for top, dirs, names in os.walk(ws.archive_dir, followlinks=False):
        dirs.sort()
        files.extend(Path(top) / n for n in sorted(names))
        files.extend(Path(top) / d for d in dirs if (Path(top) / d).is_symlink())
    return files


def verify_archive(ws: Workspace, *, registry: Registry | None = None) -> AuditReport:
    """Recompute every hash and cross-check the archive, manifests and event chain."""
    reg = registry or Registry.open(ws.registry_path, create=False)
    try:
        return _verify(ws, reg)
    finally:
        if registry is None:
            reg.close()


def _verify(ws: Workspace, reg: Registry) -> AuditReport:
    out: list[Problem] = []
    check = reg.integrity_check()
    if check != "ok":
        out.append(Problem("registry_corrupt", "registry.sqlite", "SQLite integrity check",
                           "ok", str(check)))
    chain = reg.verify_chain()
    for br in chain.breaks:
        what = {"altered": "event content was edited (its hash no longer matches)",
                "link": "event does not follow the one before (an event was removed, "
                        "inserted or edited)",
                "gap": "event numbers are missing before this one (events were deleted)"}
        out.append(Problem("chain_broken", f"registry.sqlite#events/{br.seq}",
                           what[br.reason], br.expected, br.found))
    history = _replay(reg)
    state, doc_events, identity = history.state, history.docs, history.identity
    registered: set[str] = set()
    folders: set[str] = set()
    files_checked = 0
    conventions = reg.list()
    for conv in conventions:
        cid = conv.id
        if state.get(cid) != (conv.status, conv.version):
            st = state.get(cid)
            out.append(Problem("registry_mismatch", f"registry.sqlite#conventions/{cid}",
                               "status/version differ from the event history",
                               f"{st[0]} v{st[1]}" if st else "no allocation event",
                               f"{conv.status} v{conv.version}", cid))
        if identity.get(cid, (conv.reference, conv.fingerprint)) != (conv.reference,
                                                                     conv.fingerprint):
            out.append(Problem("registry_mismatch", f"registry.sqlite#conventions/{cid}",
                               "reference/fingerprint differ from the event history",
                               " ".join(identity[cid]), f"{conv.reference} {conv.fingerprint}",
                               cid))
        recorded = history.summary.get(cid)
        if recorded is not None:
            current = conv.summary()
            for name in SUMMARY_FIELDS:
                if recorded.get(name) != current[name]:
                    out.append(Problem(
                        "registry_mismatch", f"registry.sqlite#conventions/{cid}",
                        f"{name} differs from the event history",
                        _short(recorded.get(name)), _short(current[name]), cid))
        if conv.status == "pending":
            out.append(Problem("incomplete", f"registry.sqlite#conventions/{cid}",
                               "numbered but documents not stored yet (a batch is running or"
                               " was interrupted: run it again)", convention_id=cid))
        try:
            folder = archive_folder(ws, conv.year, cid)
        except ArchiveError as exc:
            out.append(Problem("unsafe_path", f"registry.sqlite#conventions/{cid}", exc.msg,
                               convention_id=cid))
            continue
        docs = reg.documents(cid)
        for doc in docs:
            registered.add(doc.relpath)
            files_checked += _check_document(ws, doc, doc_events.pop(doc.relpath, None), out)
        if docs:
            folders.add(folder.relative_to(ws.root).as_posix())
            _check_manifest(ws, folder, cid, docs, out)
    for lost, (digest, size) in sorted(doc_events.items()):
        out.append(Problem("registry_mismatch", lost,
                           "the history registered this file but the registry lost it",
                           f"{digest} ({size} bytes)", "no document row"))
    _check_transfers(ws, reg, out)
    temp: list[str] = []
    for path in _walk_files(ws):
        rel = path.relative_to(ws.root).as_posix()
        parent = path.parent.relative_to(ws.root).as_posix()
        if rel in registered or (path.name == MANIFEST_NAME and parent in folders):
            continue
        if TEMP_RE.fullmatch(path.name) and not path.is_symlink():
            temp.append(rel)
            continue
        size = path.lstat().st_size
        out.append(Problem("unregistered", rel, "file in the archive that the registry does"
                           " not know", "no such file", f"a file of {size} bytes"))
    return AuditReport(ws.root, len(conventions), files_checked, chain.events, chain.head,
                       tuple(out), tuple(temp))
