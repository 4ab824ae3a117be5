"""A rules check of PDF/A-2b on a file's structure, run on every signed revision.

Not a full validator (veraPDF is not packaged for Debian): it checks what signing can
break, so a signature never turns a PDF/A convention into a plain PDF:

* the version stays 1.7 (header and catalog ``/Version``; PDF/A-2 is based on PDF 1.7);
* the XMP metadata still says ``pdfaid:part`` 2, conformance B, and the output intent
  is still there;
* no encryption, no JavaScript, no ``/AA`` actions;
* every font used by a page or an annotation appearance is embedded (Type 3 excepted);
* every annotation (signature widgets included) is printable, not hidden, and its
  appearance dictionary has only a normal (``/N``) appearance.
"""

from __future__ import annotations

import io
import re
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

_PRINT, _HIDDEN, _INVISIBLE, _NOVIEW, _TOGGLE = 4, 2, 1, 32, 256


def declares_pdfa(data: bytes, reader: PdfFileReader | None = None) -> bool:
    """The file's XMP metadata claims PDF/A (any part); ``reader``: ``data`` already
    opened."""
    try:
        reader = reader or PdfFileReader(io.BytesIO(data))
        return "/Metadata" in reader.root and b"pdfaid:part" in _xmp(reader)
    except Exception:  # an unreadable file declares nothing
        return False


def _xmp(reader: PdfFileReader) -> bytes:
    return bytes(reader.root["/Metadata"].data)


def _get(container: Any, key: str, default: Any = None) -> Any:
    """``container[key]`` dereferenced, or ``default``."""
    if isinstance(container, generic.DictionaryObject) and key in container:
        return container[key]
    return default


def _fonts_of(resources: Any, seen: set[int], problems: list[str], where: str) -> None:
    if not isinstance(resources, generic.DictionaryObject):
        return
    fonts = _get(resources, "/Font")
    if isinstance(fonts, generic.DictionaryObject):
        for name, ref in fonts.items():
            key = getattr(ref, "idnum", None)
            if key is not None and key in seen:
                continue  # a font shared by several pages is checked once
            if key is not None:
                seen.add(key)
            font = ref.get_object()
            _check_font(font, f"{where} font {name}", problems)
    xobjects = _get(resources, "/XObject")
    if isinstance(xobjects, generic.DictionaryObject):
        for ref in xobjects.values():
            key = getattr(ref, "idnum", None)
            if key is not None and key in seen:
                continue
            if key is not None:
                seen.add(key)
            xobj = ref.get_object()
            if _get(xobj, "/Subtype") == "/Form" and "/Resources" in xobj:
                _fonts_of(xobj["/Resources"], seen, problems, where)


def _check_font(font: Any, label: str, problems: list[str]) -> None:
    subtype = _get(font, "/Subtype")
    if subtype == "/Type3":
        return
    if subtype == "/Type0":
        for desc in _get(font, "/DescendantFonts", []):
            _check_font(desc.get_object(), label, problems)
        return
    descriptor = _get(font, "/FontDescriptor")
    descriptor = descriptor.get_object() if descriptor is not None else None
    if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2",
                                                              "/FontFile3")):
        problems.append(f"{label} ({font.get('/BaseFont')}) is not embedded")


def pdfa_problems(data: bytes, reader: PdfFileReader | None = None) -> list[str]:
    """What makes ``data`` (as it is now, all revisions applied) not PDF/A-2b;
    ``reader``: ``data`` already opened (it is read, never changed)."""
    problems: list[str] = []
    header = re.match(rb"%PDF-(\d)\.(\d)", data)
    if header is None or (int(header[1]), int(header[2])) > (1, 7):
        problems.append("the file header is not %PDF-1.x with x ≤ 7")
    reader = reader or PdfFileReader(io.BytesIO(data))
    root = reader.root
    version = str(_get(root, "/Version", "/1.7")).lstrip("/")
    if version not in ("1.4", "1.5", "1.6", "1.7"):
        problems.append(f"the catalog declares PDF {version} (PDF/A-2 requires 1.7 at most)")
    if "/Encrypt" in reader.trailer_view:
        problems.append("the file is encrypted")
    if "/Metadata" not in root:
        problems.append("no XMP metadata")
    else:
        xmp = _xmp(reader)
        part = re.search(rb"pdfaid:part(?:>|=\")\s*(\d)", xmp)
        level = re.search(rb"pdfaid:conformance(?:>|=\")\s*([ABUabu])", xmp)
        if part is None or part[1] != b"2" or level is None or level[1].upper() != b"B":
            problems.append("the XMP metadata no longer declares PDF/A-2b")
    if "/OutputIntents" not in root:
        problems.append("no output intent")
    if "/AA" in root or b"/JavaScript" in data or b"/JS " in data:
        problems.append("JavaScript or additional actions are present")
    seen: set[int] = set()
    for n, page in enumerate(reader.root["/Pages"]["/Kids"], 1):
        _page(page.get_object(), n, seen, problems)
    return problems


def _page(page: Any, n: int, seen: set[int], problems: list[str]) -> None:
    if _get(page, "/Type") == "/Pages":
        for kid in page["/Kids"]:
            _page(kid.get_object(), n, seen, problems)
        return
    if "/Resources" in page:
        _fonts_of(page["/Resources"], seen, problems, f"page {n}")
    for ref in _get(page, "/Annots", []):
        annot = ref.get_object()
        name = _get(annot, "/T", _get(annot, "/Subtype"))
        if _get(annot, "/Subtype") == "/Popup":
            continue
        flags = int(_get(annot, "/F", 0))
        if not flags & _PRINT or flags & (_HIDDEN | _INVISIBLE | _NOVIEW | _TOGGLE):
            problems.append(f"page {n}: annotation {name} is not printable or is hidden "
                            f"(/F {flags})")
        appearance = _get(annot, "/AP")
        if appearance is not None:
            keys = set(appearance.keys())
            if keys - {"/N"}:
                problems.append(f"page {n}: annotation {name} has appearances other than /N")
            normal = _get(appearance, "/N")
            if normal is not None:
                stream = normal.get_object()
                if isinstance(stream, generic.StreamObject) and "/Resources" in stream:
                    _fonts_of(stream["/Resources"], seen, problems, f"page {n} {name}")


__all__ = ["declares_pdfa", "pdfa_problems"]
