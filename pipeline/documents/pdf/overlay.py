"""What the stamp draws on each page: the footer, the QR code, the draft watermark.

Each page's drawing becomes a form XObject painted over the page (see :mod:`.stamp`); the
drawings share one set of resources: the embedded TrueType font (a subset), and for a
draft the "PROJET" forms and their transparency.

Two ways to get them, the same picture either way:

- a *kit*, made once per font (and per set of page sizes for a draft) and kept: the
  resources, with a font subset holding every character a stamp's footer may need
  (:data:`KIT_CHARACTERS`), read once with pyHanko; per document only the page drawings
  are written, as PDF operators, with the subset's character codes. This saves drawing,
  subsetting and writing a reportlab document, and reading it back, for every document.
- reportlab (:func:`draw_overlay`), for a footer with a character outside the kit.
"""

from __future__ import annotations

import io
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import qrcode
import qrcode.constants
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from pipeline.core.errors import ConfigError

# Binary Flate streams, not ASCII85 on top: smaller, and nothing to encode here and decode
# again when the overlay is copied into the document.
rl_config.useA85 = 0

__all__ = ["KIT_CHARACTERS", "OverlayPage", "draw_overlay", "overlay_forms", "register_font"]


@dataclass(frozen=True)
class OverlayPage:
    """What to draw on one page, in display coordinates."""

    matrix: tuple[float, float, float, float, float, float]
    width: float
    height: float
    footer: str
    qr_payload: str | None


FOOTER_SIZE = 8.0
FOOTER_BASELINE = 16.0
FOOTER_GRAY = 0.2
QR_SIZE = 64.0
"""Side of the QR code in points (22.6 mm). The payload (about 90 characters) makes a
version 6 code at level M: 41 modules, 45 with the quiet zone, so a module is 1.4 pt, three
pixels when a scan or a rendering is made at 150 dpi (zbar reads it; 44 pt did not)."""
QR_MARGIN = 6.0
_QR_QUIET = 2
_QR_MASK = 2
_QR_LEVEL = qrcode.constants.ERROR_CORRECT_M
"""Level M (15 % of the code may be damaged): a stained or folded paper original still
reads, while the code stays small enough for the top margin (level Q needs version 8)."""
WATERMARK_ALPHA = 0.25
KIT_CHARACTERS = "Convention n° — page / 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_-"
"""Every character the kit's font subset holds: the footer's own words, and what a number
(``[0-9A-Z_]``) or a draft label (``PROJET-`` and an upper-case reference) is made of."""


def draw_overlay(pages: Sequence[OverlayPage], font_path: Path, *, draft: bool) -> bytes:
    """One reportlab document, a page per source page; one watermark form per page size."""
    font_name = register_font(font_path)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pageCompression=1, invariant=1, initialFontName=font_name,
                    initialFontSize=FOOTER_SIZE)
    watermarks = _define_watermarks(canvas, font_name, pages) if draft else {}
    for spec in pages:
        canvas.saveState()
        canvas.transform(*spec.matrix)
        if draft:
            canvas.saveState()
            canvas.setFillAlpha(WATERMARK_ALPHA)
            canvas.doForm(watermarks[_size(spec)])
            canvas.restoreState()
        size = _footer_size(spec, font_name)
        canvas.setFont(font_name, size)
        canvas.setFillGray(FOOTER_GRAY)
        canvas.drawCentredString(spec.width / 2, FOOTER_BASELINE, spec.footer)
        if spec.qr_payload is not None:
            canvas.addLiteral(_qr_ops(spec))
        canvas.restoreState()
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _size(spec: OverlayPage) -> tuple[float, float]:
    return (round(spec.width, 1), round(spec.height, 1))


def _footer_size(spec: OverlayPage, font_name: str) -> float:
    natural = pdfmetrics.stringWidth(spec.footer, font_name, 1.0)
    return min(FOOTER_SIZE, 0.9 * spec.width / natural) if natural else FOOTER_SIZE


def _define_watermarks(canvas: Canvas, font_name: str, pages: Sequence[OverlayPage]
                       ) -> dict[tuple[float, float], str]:
    """One "PROJET" form per displayed page size, by size."""
    names: dict[tuple[float, float], str] = {}
    for spec in pages:
        key = _size(spec)
        if key not in names:
            names[key] = f"FFWatermark{len(names)}"
            _define_watermark(canvas, names[key], font_name, *key)
    return names


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


def _qr_ops(spec: OverlayPage) -> str:
    """The QR code of ``spec`` in its top-right margin, as PDF operators: a white square
    with a quiet zone, the dark modules as one path of rectangles (one per run of a row)."""
    assert spec.qr_payload is not None
    side = min(QR_SIZE, spec.width / 4, spec.height / 4)
    x = spec.width - QR_MARGIN - side
    y = spec.height - QR_MARGIN - side
    # A fixed mask: choosing the "best" of the eight costs more than the rest of the stamp
    # (it scores every mask in Python), and any mask is valid for every reader.
    code = qrcode.QRCode(error_correction=_QR_LEVEL, border=0, mask_pattern=_QR_MASK)
    code.add_data(spec.qr_payload)
    code.make(fit=True)
    modules: list[list[bool]] = code.get_matrix()
    count = len(modules)
    unit = side / (count + 2 * _QR_QUIET)
    ops = [f"1 g\n{x:.3f} {y:.3f} {side:.3f} {side:.3f} re\nf\n0 g"]
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
            ops.append(f"{x + (_QR_QUIET + start) * unit:.3f} {top:.3f} "
                       f"{(col - start) * unit:.3f} {unit:.3f} re")
    return "\n".join(ops) + "\nf"


def register_font(font_path: Path) -> str:
    """Register the TrueType font with reportlab once; return its name."""
    name = "FFStamp-" + re.sub(r"[^A-Za-z0-9]", "", font_path.stem)
    if name not in pdfmetrics.getRegisteredFontNames():
        try:
            pdfmetrics.registerFont(TTFont(name, str(font_path), asciiReadable=False))
        except Exception as exc:  # reportlab raises bare TTFError/ValueError subclasses
            raise ConfigError(f"stamp font {font_path} is not a usable TrueType font") from exc
    return name


# ------------------------------------------------------------------ the kit


@dataclass(frozen=True)
class _Kit:
    """Resources made once, and how page drawings refer to them."""

    resources: generic.PdfObject
    """The shared resources dictionary (in :attr:`reader`, every object already read)."""
    font_name: str
    """The reportlab font (for widths)."""
    font: str
    """The subset's resource name (``/F1+0``)."""
    codes: dict[str, int]
    """Each character's code in the subset."""
    alpha: str
    """The transparency's resource name (draft)."""
    watermarks: dict[tuple[float, float], str]
    """The "PROJET" form's resource name, by displayed page size (draft)."""


_KITS: dict[tuple[str, bool, tuple[tuple[float, float], ...]], _Kit] = {}
_KITS_LOCK = threading.Lock()
_KITS_KEPT = 16


def overlay_forms(pages: Sequence[OverlayPage], font_path: Path, *, draft: bool
                  ) -> tuple[list[bytes], list[generic.PdfObject]]:
    """Each page's drawing (a content stream) and its resources, objects of a document
    read by pyHanko, to import into the stamped one."""
    if all(c in KIT_CHARACTERS for spec in pages for c in spec.footer):
        kit = _kit(font_path, draft, pages)
        return [_kit_drawing(kit, spec, draft) for spec in pages], [kit.resources] * len(pages)
    overlay: Any = PdfFileReader(io.BytesIO(draw_overlay(pages, font_path, draft=draft)))
    contents: list[bytes] = []
    resources: list[generic.PdfObject] = []
    for index in range(len(pages)):
        page = overlay.find_page_for_modification(index)[0].get_object()
        drawn = page["/Contents"]
        contents.append(drawn.data if isinstance(drawn, generic.StreamObject) else b"")
        resources.append(page.raw_get("/Resources"))
    return contents, resources


def _kit(font_path: Path, draft: bool, pages: Sequence[OverlayPage]) -> _Kit:
    sizes = tuple(sorted({_size(spec) for spec in pages})) if draft else ()
    key = (str(font_path), draft, sizes)
    with _KITS_LOCK:
        found = _KITS.get(key)
        if found is None:
            found = _make_kit(font_path, draft, sizes)
            if len(_KITS) >= _KITS_KEPT:
                _KITS.clear()
            _KITS[key] = found
    return found


def _make_kit(font_path: Path, draft: bool, sizes: tuple[tuple[float, float], ...]) -> _Kit:
    """A one-page reportlab document holding the resources, read back by pyHanko."""
    font_name = register_font(font_path)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pageCompression=1, invariant=1, initialFontName=font_name,
                    initialFontSize=FOOTER_SIZE)
    specs = [OverlayPage((1, 0, 0, 1, 0, 0), w, h, "", None) for w, h in sizes]
    watermarks = _define_watermarks(canvas, font_name, specs) if draft else {}
    if draft:
        canvas.saveState()
        canvas.setFillAlpha(WATERMARK_ALPHA)
        for name in watermarks.values():
            canvas.doForm(name)
        canvas.restoreState()
    canvas.setFont(font_name, FOOTER_SIZE)
    canvas.drawString(0, 0, KIT_CHARACTERS)
    font: Any = pdfmetrics.getFont(font_name)
    state = font.state[canvas._doc]
    codes = {c: state.assignments[ord(c)] for c in KIT_CHARACTERS}
    if any(code > 0xFF for code in codes.values()):
        raise ConfigError(f"stamp font {font_path}: its subset does not fit one font")
    internal = font.getSubsetInternalName(0, canvas._doc)
    canvas.showPage()
    canvas.save()
    reader: Any = PdfFileReader(io.BytesIO(buffer.getvalue()))
    page = reader.find_page_for_modification(0)[0].get_object()
    resources = page.raw_get("/Resources")
    _read_all(resources)  # read now, under the lock: later imports only copy
    res = resources.get_object()
    alpha = next((str(name) for name, gs in res.get("/ExtGState", {}).items()
                  if float(gs.get_object().get("/ca", 1)) == WATERMARK_ALPHA), "")
    forms = {size: f"/FormXob.{name}" for size, name in watermarks.items()}
    return _Kit(resources, font_name, internal, codes, alpha, forms)


def _read_all(obj: Any, seen: set[int] | None = None) -> None:
    """Read every object ``obj`` leads to (pyHanko keeps what it has read)."""
    seen = set() if seen is None else seen
    if isinstance(obj, generic.IndirectObject):
        ref: Any = obj
        if ref.idnum in seen:
            return
        seen.add(ref.idnum)
        obj = ref.get_object()
    if isinstance(obj, generic.DictionaryObject):
        for key in obj:
            _read_all(obj.raw_get(key), seen)
    elif isinstance(obj, generic.ArrayObject):
        for index in range(len(obj)):
            _read_all(obj.raw_get(index), seen)


def _kit_drawing(kit: _Kit, spec: OverlayPage, draft: bool) -> bytes:
    """One page's drawing with the kit's resources, as reportlab would draw it."""
    a, b, c, d, e, f = spec.matrix
    ops = ["q", f"{_n(a)} {_n(b)} {_n(c)} {_n(d)} {_n(e)} {_n(f)} cm"]
    if draft:
        ops.append(f"q {kit.alpha} gs {kit.watermarks[_size(spec)]} Do Q")
    size = _footer_size(spec, kit.font_name)
    x = spec.width / 2 - pdfmetrics.stringWidth(spec.footer, kit.font_name, size) / 2
    text = "".join(_literal(kit.codes[ch]) for ch in spec.footer)
    ops.append(f"{_n(FOOTER_GRAY)} g")
    ops.append(f"BT 1 0 0 1 {_n(x)} {_n(FOOTER_BASELINE)} Tm {kit.font} {_n(size)} Tf "
               f"({text}) Tj ET")
    if spec.qr_payload is not None:
        ops.append(_qr_ops(spec))
    ops.append("Q")
    return ("\n".join(ops) + "\n").encode("latin-1")


def _n(value: float) -> str:
    """A number as PDF writes it: at most 4 decimals, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _literal(code: int) -> str:
    """One byte of a PDF literal string."""
    if 0x20 <= code < 0x7F and chr(code) not in "()\\":
        return chr(code)
    return f"\\{code:03o}"
