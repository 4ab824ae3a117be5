"""The visible appearance of a signature: name, capacity and date in an embedded font.

The appearance is drawn with reportlab on a one-page PDF the size of the signature
field, with DejaVu Sans embedded (so accented names render in every reader), and pyHanko
imports that page as the field's appearance stream. This keeps pyHanko's optional
OpenType stack (uharfbuzz, fontTools) out of the project's dependencies.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.content import ImportedPdfPage
from pyhanko.stamp import StaticStampStyle
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_PATH = FONT_DIR / "DejaVuSans.ttf"
"""The one face embedded (subset) in every appearance; a second face would double its size."""
_FONT = "FFDejaVuSans"
_MAX_SIZE, _MIN_SIZE = 10.0, 4.5
_PADDING = 3.0
_LINES = 6
"""Lines a box is sized for: heading, name, capacity and date over two lines each at most."""


@dataclass(frozen=True)
class AppearanceText:
    """The lines shown in a signature field."""

    heading: str
    """First line (``Signé électroniquement par``)."""
    name: str
    """The signer's name."""
    capacity: str
    """The signatory's capacity; wrapped over several lines when long."""
    date: str
    """The signing date in French (``le 25 novembre 2026 à 14:03``), after the place when
    one is given (``à Loos-en-Gohelle, le 25 novembre 2026 à 14:03``)."""


def french_date(when: datetime) -> str:
    """``le 25 novembre 2026 à 14:03`` in the time zone ``when`` carries."""
    return "le " + format_datetime(when, "d MMMM y 'à' HH:mm", tzinfo=when.tzinfo, locale="fr_FR")


def appearance_text(name: str, capacity: str, when: datetime,
                    place: str | None = None) -> AppearanceText:
    """The standard French wording of a signature appearance, with the place of signing
    when it is known."""
    date = french_date(when)
    if place and place.strip():
        date = f"à {place.strip()}, {date}"
    return AppearanceText(
        heading="Signé électroniquement par", name=name, capacity=capacity, date=date,
    )


def _register_font() -> None:
    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(_FONT, str(FONT_PATH)))


def _layout(text: AppearanceText, width: float, size: float) -> list[str]:
    """The lines at ``size`` points, each part wrapped to ``width``."""
    lines: list[str] = []
    for part in (text.heading, text.name, text.capacity, text.date):
        if part.strip():
            lines += simpleSplit(part, _FONT, size, width)
    return lines


def render_appearance_pdf(text: AppearanceText, width: float, height: float) -> bytes:
    """A one-page PDF of ``width`` × ``height`` points showing ``text``.

    The font size depends on the box only (room for :data:`_LINES` lines), so every box of
    one convention shows the same size; it shrinks further only for a text that would not
    fit even so.
    """
    _register_font()
    inner_w = max(width - 2 * _PADDING, 10.0)
    inner_h = max(height - 2 * _PADDING, 10.0)
    size = max(_MIN_SIZE, min(_MAX_SIZE, (inner_h / (_LINES * 1.2)) // 0.5 * 0.5))
    lines = _layout(text, inner_w, size)
    while size > _MIN_SIZE and len(lines) * size * 1.2 > inner_h:
        size -= 0.5
        lines = _layout(text, inner_w, size)
    buf = io.BytesIO()
    page = canvas.Canvas(
        buf, pagesize=(width, height), pageCompression=1,
        initialFontName=_FONT, initialFontSize=size,
    )
    page.setTitle("Apparence de signature")
    page.setStrokeColorRGB(0.2, 0.3, 0.5)
    page.setLineWidth(0.8)
    page.rect(0.5, 0.5, width - 1, height - 1)
    leading = size * 1.2
    y = height - _PADDING - size
    page.setFont(_FONT, size)
    for line in lines:
        page.drawString(_PADDING, y, line)
        y -= leading
    page.showPage()
    page.save()
    return buf.getvalue()


_imported_page: Any = ImportedPdfPage  # pyHanko leaves its constructor unannotated


def stamp_style(appearance_pdf: Path) -> StaticStampStyle:
    """A pyHanko stamp style showing page 1 of ``appearance_pdf`` across the whole field.

    pyHanko reads the file while it builds the signature, so it must exist until then.
    """
    return StaticStampStyle(
        background=_imported_page(str(appearance_pdf)),
        background_opacity=1.0,
        border_width=0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(0, 0, 0, 0),
        ),
    )


__all__ = [
    "FONT_PATH",
    "AppearanceText",
    "appearance_text",
    "french_date",
    "render_appearance_pdf",
    "stamp_style",
]
