"""Format identification of the files put in a transfer package (PRONOM identifiers).

The archive service's format check (Siegfried, DROID, Vitam's FIDO) compares what it
finds with what the manifest declares, so a PDF is looked into: its XMP metadata gives
the PDF/A part and level, otherwise the header gives the plain PDF version.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PDFA_PUIDS = {
    "1A": "fmt/95", "1B": "fmt/354", "2A": "fmt/476", "2B": "fmt/477", "2U": "fmt/478",
    "3A": "fmt/479", "3B": "fmt/480", "3U": "fmt/481",
}
"""PRONOM identifiers of the PDF/A parts and levels (PDF/A-2b is fmt/477)."""
PDF_PUIDS = {"1.2": "fmt/16", "1.3": "fmt/17", "1.4": "fmt/18", "1.5": "fmt/19",
             "1.6": "fmt/20", "1.7": "fmt/276", "2.0": "fmt/1129"}
"""PRONOM identifiers of plain PDF versions."""


@dataclass(frozen=True)
class FileFormat:
    """What ``FormatIdentification`` says about one file."""

    literal: str
    """Human name of the format (``FormatLitteral``)."""
    mime: str
    puid: str | None
    """PRONOM identifier, or ``None`` when unknown."""


_BY_SUFFIX = {
    ".json": FileFormat("JSON Data Interchange Format", "application/json", "fmt/817"),
    ".xml": FileFormat("Extensible Markup Language", "text/xml", "fmt/101"),
    ".docx": FileFormat("Microsoft Word for Windows 2007 onwards",
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                        "fmt/412"),
    ".png": FileFormat("Portable Network Graphics", "image/png", "fmt/12"),
    ".jpg": FileFormat("JPEG File Interchange Format", "image/jpeg", "fmt/43"),
    ".jpeg": FileFormat("JPEG File Interchange Format", "image/jpeg", "fmt/43"),
    ".txt": FileFormat("Plain Text File", "text/plain", "x-fmt/111"),
    ".csv": FileFormat("Comma Separated Values", "text/csv", "x-fmt/18"),
}
_UNKNOWN = FileFormat("Unknown", "application/octet-stream", None)


def _pdfa_level(path: Path) -> str | None:
    """``"2B"`` from the XMP packet, read without a PDF library (the packet is plain text
    in files LibreOffice and pyHanko write; a compressed one gives ``None``)."""
    data = path.read_bytes()
    part = re.search(rb"pdfaid:part(?:>|=[\"'])\s*(\d)", data)
    if part is None:
        return None
    level = re.search(rb"pdfaid:conformance(?:>|=[\"'])\s*([A-Za-z])", data)
    return part.group(1).decode() + (level.group(1).decode().upper() if level else "")


def identify(path: Path) -> FileFormat:
    """The format of ``path`` for the manifest."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        with open(path, "rb") as fh:
            head = fh.read(16)
        version = re.match(rb"%PDF-(\d\.\d)", head)
        level = _pdfa_level(path)
        if level in PDFA_PUIDS:
            return FileFormat(f"Acrobat PDF/A - Portable Document Format {level.lower()}",
                              "application/pdf", PDFA_PUIDS[level])
        if version is not None:
            v = version.group(1).decode()
            return FileFormat(f"Acrobat PDF {v} - Portable Document Format", "application/pdf",
                              PDF_PUIDS.get(v))
        return FileFormat("Portable Document Format", "application/pdf", None)
    found = _BY_SUFFIX.get(suffix)
    if found is None:
        log.debug("no PRONOM identifier for %s", path.name)
    return found or _UNKNOWN


__all__ = ["PDFA_PUIDS", "PDF_PUIDS", "FileFormat", "identify"]
