"""Low-level file helpers every stage shares: atomic writes, hashing, safe CSV cells.

Crash safety: :func:`write_atomic` writes to ``.<name>.<12 hex>.tmp`` in the same folder,
flushes and fsyncs it, renames it over the target and fsyncs the folder, so a reader sees
the old file or the new one, never half a file.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "TEMP_RE",
    "WrittenFile",
    "clean_temp_files",
    "ensure_folder",
    "fsync_folder",
    "neutralise_cell",
    "sha256_file",
    "write_atomic",
]

TEMP_RE = re.compile(r"\.(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\.[0-9a-f]{12}\.tmp")
"""Names of the temporary files :func:`write_atomic` creates."""


_CHUNK = 1 << 20


@dataclass(frozen=True)
class WrittenFile:
    """A file :func:`write_atomic` put in place."""

    path: Path
    sha256: str
    size: int


def fsync_folder(folder: Path) -> None:
    """Make a rename or a new entry in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_folder(folder: Path) -> None:
    """Create ``folder`` and its missing parents, each new entry made durable."""
    missing = []
    cur = folder
    while not cur.exists():
        missing.append(cur)
        cur = cur.parent
    for path in reversed(missing):
        path.mkdir(mode=0o755, exist_ok=True)
        fsync_folder(path.parent)


def write_atomic(path: Path, data: bytes | Path, *, sync_folder: bool = True) -> WrittenFile:
    """Write ``data`` (bytes, or the content of a source file) to ``path`` atomically.

    Temp name in the same folder, flushed and fsynced, mode 0o644, renamed over ``path``,
    then the folder fsynced: readers see the old file or the new one, never a half file.
    ``sync_folder=False`` leaves the folder's fsync to the caller, who writes several files
    into it and then makes all their renames durable at once (:func:`fsync_folder`).
    """
    folder = path.parent
    tmp = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
    digest = hashlib.sha256()
    size = 0
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(data, bytes | bytearray | memoryview):
                blob = bytes(data)
                out.write(blob)
                digest.update(blob)
                size = len(blob)
            else:
                with open(data, "rb") as src:
                    while chunk := src.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
            out.flush()
            os.fchmod(out.fileno(), 0o644)
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_folder:
        fsync_folder(folder)
    return WrittenFile(path, digest.hexdigest(), size)


def clean_temp_files(folder: Path) -> list[Path]:
    """Remove the temp files a crashed writer left in ``folder``; return them.

    Only safe while holding the registry's write transaction, as every archive writer does.
    """
    removed = []
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.is_file() and TEMP_RE.fullmatch(entry.name):
                entry.unlink(missing_ok=True)
                removed.append(entry)
    return removed


def sha256_file(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as src:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# Characters that make a spreadsheet treat a cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?\d[\d \u00a0\u202f]*(?:[.,]\d+)?")


def neutralise_cell(value: object) -> str:
    """Return ``value`` as text a spreadsheet shows as-is (formula injection defused)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text
