"""Stamp a converted convention: number and page count on every page, a QR code, a draft mark.

The stamp is drawn once with reportlab into an overlay document (one embedded TrueType
font, one watermark form per page size) and attached to each source page as a form
XObject, so the source's own content streams are kept byte for byte and the file stays
small. Everything is placed in the page's *visible* frame (CropBox inside MediaBox, with
``/Rotate`` applied), so the stamp reads upright wherever a viewer shows the page.

Public API: :func:`stamp_pdf` and :class:`StampResult`. The page geometry
(:class:`pipeline.fields.PageFrame`) is shared with the signature-field stage.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import qrcode
import qrcode.constants
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
)
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from pipeline.archive import write_atomic
from pipeline.errors import ConfigError, InputError, StateError
from pipeline.fields import PageFrame, page_attribute

__all__ = ["DEFAULT_FONTS", "StampResult", "stamp_pdf"]

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
    for label, value in (("number", number), ("fingerprint", fingerprint)):
        if not _TOKEN.fullmatch(value):
            raise ValueError(f"invalid {label} {value!r}: no spaces or colons allowed")
    font_path = _resolve_font(font)
    source_size = src.stat().st_size
    reader = _open_pdf(src)
    if _has_signature(reader):
        raise StateError(
            f"{src.name} is already signed: stamping it would break the signatures",
            hint="Stamp the unsigned PDF, then add the fields and sign.",
        )
    writer = PdfWriter(clone_from=reader)
    total = len(writer.pages)
    frames = [PageFrame.of(page) for page in writer.pages]
    payload = f"fiftyfifty:{number}:{fingerprint}"
    specs = [
        _OverlayPage(
            matrix=frame.matrix,
            width=frame.width,
            height=frame.height,
            footer=f"Convention n° {number} — page {index + 1} / {total}",
            qr_payload=payload if index == 0 else None,
        )
        for index, frame in enumerate(frames)
    ]
    overlay = PdfReader(io.BytesIO(_draw_overlay(specs, font_path, draft=draft)))
    _attach_overlay(writer, overlay, frames)
    buffer = io.BytesIO()
    writer.write(buffer)
    dst.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(dst, buffer.getvalue())
    return StampResult(
        path=dst,
        pages=total,
        layouts=len({(round(f.width, 1), round(f.height, 1)) for f in frames}),
        qr_payload=payload,
        draft=draft,
        font=font_path,
        source_size=source_size,
        size=dst.stat().st_size,
    )


@dataclass(frozen=True)
class _OverlayPage:
    """What to draw on one page, in display coordinates."""

    matrix: tuple[float, float, float, float, float, float]
    width: float
    height: float
    footer: str
    qr_payload: str | None


_FOOTER_SIZE = 8.0
_FOOTER_BASELINE = 16.0
_QR_SIZE = 44.0
_QR_MARGIN = 8.0
_QR_QUIET = 2


def _draw_overlay(pages: list[_OverlayPage], font_path: Path, *, draft: bool) -> bytes:
    """One reportlab document, a page per source page; one watermark form per page size."""
    font_name = _register_font(font_path)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pageCompression=1, invariant=1, initialFontName=font_name,
                    initialFontSize=_FOOTER_SIZE)
    watermarks: dict[tuple[float, float], str] = {}
    if draft:
        for spec in pages:
            key = (round(spec.width, 1), round(spec.height, 1))
            if key not in watermarks:
                watermarks[key] = f"FFWatermark{len(watermarks)}"
                _define_watermark(canvas, watermarks[key], font_name, *key)
    for spec in pages:
        canvas.saveState()
        canvas.transform(*spec.matrix)
        if draft:
            canvas.saveState()
            canvas.setFillAlpha(0.25)
            canvas.doForm(watermarks[(round(spec.width, 1), round(spec.height, 1))])
            canvas.restoreState()
        natural = pdfmetrics.stringWidth(spec.footer, font_name, 1.0)
        size = min(_FOOTER_SIZE, 0.9 * spec.width / natural) if natural else _FOOTER_SIZE
        canvas.setFont(font_name, size)
        canvas.setFillGray(0.2)
        canvas.drawCentredString(spec.width / 2, _FOOTER_BASELINE, spec.footer)
        if spec.qr_payload is not None:
            side = min(_QR_SIZE, spec.width / 4, spec.height / 4)
            _draw_qr(canvas, spec.qr_payload, spec.width - _QR_MARGIN - side,
                     spec.height - _QR_MARGIN - side, side)
        canvas.restoreState()
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _define_watermark(canvas: Canvas, name: str, font_name: str, width: float,
                      height: float) -> None:
    """A form XObject with a light "PROJET" along the page diagonal."""
    text = "PROJET"
    diagonal = math.hypot(width, height)
    size = 0.55 * diagonal / pdfmetrics.stringWidth(text, font_name, 1.0)
    canvas.beginForm(name, lowerx=0, lowery=0, upperx=width, uppery=height)
    # The transparency is set by the page before ``Do``: reportlab leaves a form's own
    # ExtGState out of its resources. The form's graphics state is isolated by ``Do``.
    canvas.setFillColorRGB(0.55, 0.55, 0.55)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(math.degrees(math.atan2(height, width)))
    canvas.setFont(font_name, size)
    canvas.drawCentredString(0, -0.35 * size, text)
    canvas.endForm()


def _draw_qr(canvas: Canvas, payload: str, x: float, y: float, side: float) -> None:
    """Vector QR code: a white square with a quiet zone, dark modules merged by row runs."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(payload)
    code.make(fit=True)
    modules: list[list[bool]] = code.get_matrix()
    count = len(modules)
    unit = side / (count + 2 * _QR_QUIET)
    canvas.setFillGray(1.0)
    canvas.rect(x, y, side, side, stroke=0, fill=1)
    path = canvas.beginPath()
    for row, cells in enumerate(modules):
        top = y + side - (_QR_QUIET + row + 1) * unit
        col = 0
        while col < count:
            if not cells[col]:
                col += 1
                continue
            start = col
            while col < count and cells[col]:
                col += 1
            path.rect(x + (_QR_QUIET + start) * unit, top, (col - start) * unit, unit)
    canvas.setFillGray(0.0)
    canvas.drawPath(path, stroke=0, fill=1)


def _register_font(font_path: Path) -> str:
    """Register the TrueType font with reportlab once; return its name."""
    name = "FFStamp-" + re.sub(r"[^A-Za-z0-9]", "", font_path.stem)
    if name not in pdfmetrics.getRegisteredFontNames():
        try:
            pdfmetrics.registerFont(TTFont(name, str(font_path), asciiReadable=False))
        except Exception as exc:  # reportlab raises bare TTFError/ValueError subclasses
            raise ConfigError(f"stamp font {font_path} is not a usable TrueType font") from exc
    return name


def _attach_overlay(writer: PdfWriter, overlay: PdfReader, frames: list[PageFrame]) -> None:
    """Turn each overlay page into a form XObject and paint it last on the matching page."""
    opening = writer._add_object(_stream(b"q\n"))
    closings: dict[str, IndirectObject] = {}
    for page, stamp_page, frame in zip(writer.pages, overlay.pages, frames, strict=True):
        drawn = stamp_page.get_contents()
        form = _stream(drawn.get_data() if drawn is not None else b"")
        form.update({
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(FloatObject(v) for v in frame.box),
            NameObject("/Resources"): stamp_page["/Resources"].clone(writer),
        })
        form_ref = writer._add_object(form)

        resources = page_attribute(page, "/Resources")
        own = DictionaryObject(resources.items() if resources is not None else ())
        xobjects = own.get("/XObject")
        own_xobjects = DictionaryObject(xobjects.get_object().items() if xobjects else ())
        name = "/FFStamp"
        suffix = 0
        while name in own_xobjects:
            suffix += 1
            name = f"/FFStamp{suffix}"
        own_xobjects[NameObject(name)] = form_ref
        own[NameObject("/XObject")] = own_xobjects
        page[NameObject("/Resources")] = own

        if name not in closings:
            closings[name] = writer._add_object(_stream(f"\nQ\nq {name} Do Q\n".encode()))
        contents: list[PdfObject] = [opening]
        if "/Contents" in page:
            raw = page.raw_get("/Contents")
            resolved = raw.get_object()
            if isinstance(resolved, ArrayObject):
                contents.extend(resolved)
            else:
                contents.append(raw)
        contents.append(closings[name])
        page[NameObject("/Contents")] = ArrayObject(contents)


def _stream(data: bytes) -> StreamObject:
    """A Flate-compressed stream holding ``data``."""
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream.flate_encode()


def _open_pdf(src: Path) -> PdfReader:
    try:
        reader = PdfReader(src)
        if reader.is_encrypted:
            raise InputError(f"{src.name} is encrypted and cannot be stamped")
        if len(reader.pages) == 0:
            raise InputError(f"{src.name} has no pages")
    except (PdfReadError, ValueError, KeyError) as exc:
        raise InputError(f"{src.name} is not a readable PDF ({exc})") from exc
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
