"""Stamp a converted convention: number and page count on every page, a QR code, a draft mark.

The stamp is drawn once with reportlab into an overlay document (one embedded TrueType
font, one watermark form per page size) and attached to each source page as a form
XObject, so the source's own content streams are kept byte for byte and the file stays
small. Everything is placed in the page's *visible* frame (CropBox inside MediaBox, with
``/Rotate`` applied), so the stamp reads upright wherever a viewer shows the page.

The stamp is one incremental update (pyHanko): the source's bytes stay a prefix of the
result and only the new objects and the touched pages are written, which is much faster
than rewriting the whole document.

Public API: :func:`stamp_pdf`, :func:`stamp_bytes` and :class:`StampResult`. The page geometry
(:class:`pipeline.documents.pdf.sigfields.PageFrame`) is shared with the signature-field stage.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from pipeline.core.errors import ConfigError, InputError, StateError
from pipeline.core.files import write_atomic
from pipeline.documents.pdf.geometry import PageFrame, page_attribute
from pipeline.documents.pdf.overlay import OverlayPage, overlay_forms
from pipeline.documents.pdf.sigfields import FieldSpec, append_fields

__all__ = ["DEFAULT_FONTS", "StampResult", "stamp_bytes", "stamp_pdf"]

DEFAULT_FONTS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"),
)
"""Fonts tried in order when :func:`stamp_pdf` is not given one."""

_TOKEN = re.compile(r"[^\s:]+")


@dataclass(frozen=True)
class StampResult:
    """What :func:`stamp_pdf` wrote."""

    path: Path
    """The stamped PDF."""
    pages: int
    """Number of pages stamped."""
    layouts: int
    """Distinct displayed page sizes; the pages of one size share one watermark form."""
    qr_payload: str
    """Text encoded in the QR code of the first page."""
    draft: bool
    """Whether the "PROJET" watermark was added."""
    font: Path
    """TrueType font embedded for the stamp text."""
    source_size: int
    """Size in bytes of the unstamped PDF."""
    size: int
    """Size in bytes of the stamped PDF."""


def stamp_pdf(
    src: Path,
    dst: Path,
    *,
    number: str,
    fingerprint: str,
    draft: bool = False,
    font: Path | None = None,
) -> StampResult:
    """Write ``dst``: ``src`` with the convention number, page X / Y and a QR code.

    Every page gets "Convention n° <number> — page X / Y" in its bottom margin; the first
    page gets a QR code in its top-right margin encoding ``fiftyfifty:<number>:<fingerprint>``;
    ``draft`` adds a light diagonal "PROJET" on every page. The document catalogue (XMP
    metadata with its PDF/A marker, output intents, structure tree) is kept. ``dst`` is
    written atomically and may be ``src``.

    Raises :class:`InputError` if ``src`` is not a readable PDF, :class:`StateError` if it
    already carries a signature, :class:`ConfigError` if no usable font is found, and
    :class:`ValueError` for an empty or malformed number or fingerprint.
    """
    source = src.read_bytes()
    data, pages, layouts, font_path = _stamp(source, src.name, number=number,
                                             fingerprint=fingerprint, draft=draft, font=font)
    dst.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(dst, data)
    return StampResult(
        path=dst,
        pages=pages,
        layouts=layouts,
        qr_payload=f"fiftyfifty:{number}:{fingerprint}",
        draft=draft,
        font=font_path,
        source_size=len(source),
        size=dst.stat().st_size,
    )


def stamp_bytes(data: bytes, *, number: str, fingerprint: str, draft: bool = False,
                font: Path | None = None, name: str = "the PDF",
                reader: PdfReader | None = None, fields: Sequence[FieldSpec] = ()) -> bytes:
    """:func:`stamp_pdf` in memory: the stamped document's bytes (``name`` for messages).

    ``reader``, a pypdf reader already open on ``data``, saves reading it again. With
    ``fields``, the empty signature fields go into the same incremental update as the
    stamp (see :func:`.sigfields.append_fields`): the PDF is parsed and written once."""
    return _stamp(data, name, number=number, fingerprint=fingerprint, draft=draft,
                  font=font, reader=reader, fields=fields)[0]


def _stamp(data: bytes, name: str, *, number: str, fingerprint: str, draft: bool,
           font: Path | None, reader: PdfReader | None = None,
           fields: Sequence[FieldSpec] = ()) -> tuple[bytes, int, int, Path]:
    """The stamped bytes, the page count, the number of page layouts and the font used.

    The source is read lazily (pypdf for its geometry and fields); the stamp is written
    as one incremental update (pyHanko), so the source's bytes are kept as they are and
    only the new objects and the touched pages are written.
    """
    for label, value in (("number", number), ("fingerprint", fingerprint)):
        if not _TOKEN.fullmatch(value):
            raise ValueError(f"invalid {label} {value!r}: no spaces or colons allowed")
    font_path = _resolve_font(font)
    reader = _open_pdf(data, name) if reader is None else _check_reader(reader, name)
    if _has_signature(reader):
        raise StateError(
            f"{name} is already signed: stamping it would break the signatures",
            hint="Stamp the unsigned PDF, then add the fields and sign.",
        )
    frames = [PageFrame.of(page) for page in reader.pages]
    total = len(frames)
    payload = f"fiftyfifty:{number}:{fingerprint}"
    specs = [
        OverlayPage(
            matrix=frame.matrix,
            width=frame.width,
            height=frame.height,
            footer=f"Convention n° {number} — page {index + 1} / {total}",
            qr_payload=payload if index == 0 else None,
        )
        for index, frame in enumerate(frames)
    ]
    contents, resources = overlay_forms(specs, font_path, draft=draft)
    try:
        writer = _KeepMetadataWriter(io.BytesIO(data))
        _attach_overlay(writer, contents, resources, frames)
        if fields:
            append_fields(writer, fields, name)
        buffer = io.BytesIO()
        writer.write(buffer)  # type: ignore[no-untyped-call]
    except (PdfError, ValueError, KeyError) as exc:
        raise InputError(f"{name} cannot be stamped ({exc})") from exc
    layouts = len({(round(f.width, 1), round(f.height, 1)) for f in frames})
    return buffer.getvalue(), total, layouts, font_path


class _KeepMetadataWriter(IncrementalPdfFileWriter):
    """An incremental writer that leaves the document information and the XMP packet
    alone (pyHanko refreshes them on every write): the stamp keeps the converter's
    metadata, PDF/A marker included, byte for byte."""

    def _update_meta(self) -> None:
        return None


def _attach_overlay(writer: IncrementalPdfFileWriter, drawings: Sequence[bytes],
                    shared_resources: Sequence[generic.PdfObject],
                    frames: list[PageFrame]) -> None:
    """Turn each page's drawing into a form XObject and paint it last on the page.

    The page's own content is wrapped in ``q … Q`` so whatever graphics state it leaves
    cannot shift the stamp. The drawings' resources (the one embedded font, the watermark
    forms) are imported once and shared by every page's form.
    """
    # pyHanko's page-tree helpers and object constructors are untyped.
    out_doc: Any = writer
    pdf: Any = generic
    opening = writer.add_object(_stream(b"q\n"))
    closings: dict[str, generic.IndirectObject] = {}
    imported: tuple[generic.PdfObject, generic.PdfObject] | None = None
    page_refs = _page_refs(out_doc, len(frames))
    for index, frame in enumerate(frames):
        raw_resources = shared_resources[index]
        if imported is None or imported[0] is not raw_resources:
            copy = writer.import_object(raw_resources)
            shared = copy if isinstance(copy, generic.IndirectObject) else writer.add_object(copy)
            imported = (raw_resources, shared)
        form = _stream(drawings[index])
        form.update({
            generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/Form"),
            generic.pdf_name("/BBox"): generic.ArrayObject(
                pdf.FloatObject(v) for v in frame.box),
            generic.pdf_name("/Resources"): imported[1],
        })
        form_ref = writer.add_object(form)

        page_ref = page_refs[index]
        page = page_ref.get_object()
        resources = page_attribute(page, "/Resources")
        own = pdf.DictionaryObject(dict(resources.items()) if resources is not None else {})
        xobjects = own.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else None
        own_xobjects = pdf.DictionaryObject(dict(xobjects.items()) if xobjects else {})
        name = "/FFStamp"
        suffix = 0
        while name in own_xobjects:
            suffix += 1
            name = f"/FFStamp{suffix}"
        own_xobjects[generic.pdf_name(name)] = form_ref
        own[generic.pdf_name("/XObject")] = own_xobjects
        page[generic.pdf_name("/Resources")] = own

        if name not in closings:
            closings[name] = writer.add_object(_stream(f"\nQ\nq {name} Do Q\n".encode()))
        contents: list[generic.PdfObject] = [opening]
        if "/Contents" in page:
            raw = page.raw_get("/Contents")
            resolved = raw.get_object()
            if isinstance(resolved, generic.ArrayObject):
                contents.extend(resolved)
            else:
                contents.append(raw)
        contents.append(closings[name])
        page[generic.pdf_name("/Contents")] = generic.ArrayObject(contents)
        writer.mark_update(page_ref)


def _page_refs(doc: Any, count: int) -> list[Any]:
    """The references of a document's ``count`` pages, in order, from one walk of its
    page tree (asking for each page by number walks the tree again every time)."""
    refs: list[Any] = []
    stack: list[Any] = [doc.root.raw_get("/Pages")]
    seen: set[tuple[int, int]] = set()
    well_formed = True
    while stack and well_formed and len(refs) <= count:
        ref: Any = stack.pop()
        key: tuple[int, int] = (getattr(ref, "idnum", -1), getattr(ref, "generation", -1))
        if not isinstance(ref, generic.IndirectObject) or key in seen:
            well_formed = False  # ask pyHanko page by page instead
            break
        seen.add(key)
        node = _resolve(ref)
        if "/Kids" in node:
            kids = node.raw_get("/Kids").get_object()
            stack.extend(kids.raw_get(i) for i in reversed(range(len(kids))))
        else:
            refs.append(ref)
    if not well_formed or stack or len(refs) != count:
        refs = [doc.find_page_for_modification(index)[0] for index in range(count)]
    return refs


def _resolve(ref: Any) -> Any:
    return ref.get_object()


def _stream(data: bytes) -> generic.StreamObject:
    """A Flate-compressed stream holding ``data``."""
    stream: Any = generic.StreamObject(stream_data=data)
    stream.compress()
    return stream  # type: ignore[no-any-return]


def _open_pdf(data: bytes, name: str) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
    except (PdfReadError, ValueError, KeyError) as exc:
        raise InputError(f"{name} is not a readable PDF ({exc})") from exc
    return _check_reader(reader, name)


def _check_reader(reader: PdfReader, name: str) -> PdfReader:
    try:
        if reader.is_encrypted:
            raise InputError(f"{name} is encrypted and cannot be stamped")
        if len(reader.pages) == 0:
            raise InputError(f"{name} has no pages")
    except (PdfReadError, ValueError, KeyError) as exc:
        raise InputError(f"{name} is not a readable PDF ({exc})") from exc
    return reader


def _has_signature(reader: PdfReader) -> bool:
    """Whether any field of the document holds a signature value."""
    root: Any = reader.trailer["/Root"]
    form = root.get("/AcroForm")
    if form is None:
        return False
    pending = list(form.get("/Fields", ()))
    while pending:
        field = pending.pop().get_object()
        if field.get("/FT") == "/Sig" and field.get("/V") is not None:
            return True
        pending.extend(field.get("/Kids", ()))
    return False


def _resolve_font(font: Path | None) -> Path:
    if font is not None:
        if not font.is_file():
            raise ConfigError(f"stamp font not found: {font}")
        return font
    for candidate in DEFAULT_FONTS:
        if candidate.is_file():
            return candidate
    raise ConfigError(
        "no font for the stamp: neither DejaVuSans nor LiberationSans is installed",
        hint="Install fonts-dejavu-core or fonts-liberation2 (see `make system`).",
    )
