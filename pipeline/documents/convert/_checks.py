"""Finding LibreOffice, and the checks made before and after it runs."""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

from pipeline.core.errors import ConverterError
from pipeline.core.i18n import N_, _

ENV_SOFFICE = "FIFTYFIFTY_SOFFICE"
"""Environment variable naming the LibreOffice program to run."""

_INSTALL_HINT = N_(
    "Install LibreOffice Writer (Debian/Ubuntu: apt-get install libreoffice-writer-nogui), "
    "or set $FIFTYFIFTY_SOFFICE to the path of the soffice program.")


def find_soffice(explicit: str | None = None) -> str:
    """Return the path of the LibreOffice program to run.

    ``explicit`` (a path or a command name) wins, then ``$FIFTYFIFTY_SOFFICE``, then
    ``soffice`` or ``libreoffice`` on ``PATH``. Raises :class:`ConverterError` when none
    is usable, with a hint on how to install it.
    """
    given = explicit or os.environ.get(ENV_SOFFICE) or None
    if given:
        found = shutil.which(given)
        if found is None:
            raise ConverterError(_("LibreOffice program not found: {path}").format(path=given),
                                 hint=_(_INSTALL_HINT))
        return str(Path(found).absolute())
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found is not None:
            return found
    raise ConverterError(_("LibreOffice (soffice) is not installed."), hint=_(_INSTALL_HINT))


def docx_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a Word document (``None`` when it may be one).

    A cheap check before LibreOffice, which would otherwise import random bytes as text.
    """
    if not path.is_file():
        return "the source file does not exist"
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return "the file is not a Word document (.docx): it is not a valid package"
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        return "the file is not a Word document (.docx): word/document.xml is missing"
    return None


_PAGE_TREE = re.compile(rb"<<\s*/Type\s*/Pages\b(?:(?!>>).)*?/Count\s+(\d+)", re.DOTALL)
"""LibreOffice's page tree: one uncompressed ``/Pages`` node holding every page."""


def pdf_page_count(path: Path) -> tuple[int, str | None]:
    """Check that ``path`` is a complete PDF; return ``(pages, None)`` or ``(0, reason)``.

    LibreOffice's flat page tree is read from the bytes (a thousandth of what parsing
    the file costs: every converted document is parsed once anyway, when it is stamped);
    any other layout is parsed."""
    try:
        data = path.read_bytes()
    except OSError:
        return 0, "no PDF was produced"
    if data[:5] != b"%PDF-":
        return 0, "the output is not a PDF file"
    if b"%%EOF" not in data[-1024:]:
        return 0, "the PDF is truncated"
    trees = _PAGE_TREE.findall(data)
    if len(trees) == 1 and int(trees[0]) >= 1:
        return int(trees[0]), None
    from pypdf import PdfReader

    try:
        pages = len(PdfReader(path, strict=False).pages)
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        return 0, f"the PDF cannot be read ({type(exc).__name__})"
    return (pages, None) if pages >= 1 else (0, "the PDF has no pages")


def pdfa_conformance(path: Path) -> str | None:
    """The PDF/A level declared in the file's XMP metadata (``"2B"``), or ``None``."""
    from pypdf import PdfReader

    meta = PdfReader(path, strict=False).root_object.get("/Metadata")
    if meta is None:
        return None
    xmp = meta.get_object().get_data().decode("utf-8", "replace")
    part = re.search(r"pdfaid:part(?:>|=\")\s*(\d)", xmp)
    if part is None:
        return None
    conformance = re.search(r"pdfaid:conformance(?:>|=\")\s*([A-Za-z])", xmp)
    return part.group(1) + (conformance.group(1).upper() if conformance else "")
