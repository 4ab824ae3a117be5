"""What the event log says about hand-overs to the archive service and its decisions.

Two event actions, written by :mod:`pipeline.exports` and read here (below the exports
stage, so that ``archive verify`` and ``registry show`` can use them):

- ``transferred``: a SEDA transfer package holding the convention's files was written.
  Details: ``message_id``, ``package`` (file name), ``package_sha256`` and ``files``, a
  list of ``{"path", "sha512", "size"}`` (workspace-relative path of each archived file
  put in the package, with the digest the manifest declares).
- ``archive_decision``: the archive service's answer to a proposed final action
  (destruction or keeping), recorded by the clerk. Details: ``action``, ``approved_by``,
  ``on`` (ISO date) and an optional ``reference``.

Nothing here writes: these are pure readers of :class:`Registry` events.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.records.registry import EventRow, Registry

EVENT_TRANSFERRED = "transferred"
"""A SEDA transfer package with the convention's files was written."""
EVENT_ARCHIVE_DECISION = "archive_decision"
"""The archive service approved a final action (never performed by the tool)."""

_CHUNK = 1 << 20


@dataclass(frozen=True)
class TransferredFile:
    """One archived file as a transfer package declared it."""

    path: str
    """Workspace-relative path of the archived file."""
    sha512: str
    size: int


@dataclass(frozen=True)
class Transfer:
    """One ``transferred`` event of a convention."""

    convention_id: str
    at: str
    """When the package was written (the event's UTC time)."""
    message_id: str
    package: str
    files: tuple[TransferredFile, ...]
    event_seq: int

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "message_id": self.message_id, "package": self.package,
                "files": [{"path": f.path, "sha512": f.sha512, "size": f.size}
                          for f in self.files]}


def _as_transfer(ev: EventRow) -> Transfer:
    d = ev.details
    files: list[TransferredFile] = []
    for item in d.get("files", []) if isinstance(d.get("files"), list) else []:
        if isinstance(item, dict):
            try:
                files.append(TransferredFile(str(item["path"]), str(item["sha512"]),
                                             int(item["size"])))
            except (KeyError, TypeError, ValueError):
                continue
    return Transfer(str(ev.convention_id), ev.at, str(d.get("message_id", "")),
                    str(d.get("package", "")), tuple(files), ev.seq)


def transfers(reg: Registry, convention_id: str | None = None) -> list[Transfer]:
    """Every transfer recorded (of one convention, or of all), oldest first."""
    return [_as_transfer(ev) for ev in reg.events(convention_id)
            if ev.action == EVENT_TRANSFERRED and ev.convention_id is not None]


def last_transfer(reg: Registry, convention_id: str) -> Transfer | None:
    """The most recent transfer of a convention, or ``None``."""
    found = transfers(reg, convention_id)
    return found[-1] if found else None


def decisions(reg: Registry, convention_id: str | None = None) -> list[EventRow]:
    """The archive service's recorded decisions, oldest first."""
    return [ev for ev in reg.events(convention_id) if ev.action == EVENT_ARCHIVE_DECISION]


def sha512_file(path: Path) -> tuple[str, int]:
    """SHA-512 (hex) and size of a file, read in chunks."""
    digest = hashlib.sha512()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


__all__ = ["EVENT_ARCHIVE_DECISION", "EVENT_TRANSFERRED", "Transfer", "TransferredFile",
           "decisions", "last_transfer", "sha512_file", "transfers"]
