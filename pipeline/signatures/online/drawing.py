"""The drawn signature and the appearance of a signature made online.

The drawing comes from the page's canvas as a PNG ``data:`` URL; it is decoded with
Pillow, bounded, flattened on white (no transparency) and re-encoded, so nothing but
pixels reaches the PDF. The appearance shows the drawing, the typed name, the capacity,
"Signé électroniquement le … à …" and how the signer was identified.
"""

from __future__ import annotations

import base64
import binascii
import io
from datetime import datetime
from typing import Any

from PIL import Image, UnidentifiedImageError
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfgen import canvas

from pipeline.core.errors import InputError
from pipeline.signatures.appearance import _FONT, _register_font, french_date

__all__ = ["MAX_DRAWING_BYTES", "decode_drawing", "online_appearance"]

MAX_DRAWING_BYTES = 300_000
_PREFIX = "data:image/png;base64,"


def decode_drawing(data_url: str) -> bytes | None:
    """A clean PNG from the canvas's data URL; ``None`` when nothing was drawn.

    Raises :class:`InputError` for anything that is not a reasonable PNG."""
    text = (data_url or "").strip()
    if not text:
        return None
    if not text.startswith(_PREFIX) or len(text) > MAX_DRAWING_BYTES * 4 // 3 + 100:
        raise InputError("The drawn signature is not a PNG image of a reasonable size.")
    try:
        raw = base64.b64decode(text[len(_PREFIX):], validate=True)
        with Image.open(io.BytesIO(raw)) as img:
            if img.format != "PNG" or img.width > 2000 or img.height > 1000:
                raise InputError("The drawn signature has an unexpected format or size.")
            img.load()
            rgba = img.convert("RGBA")
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputError("The drawn signature cannot be read.") from exc
    extrema: Any = rgba.getextrema()
    if extrema[3][1] == 0:  # fully transparent: nothing drawn
        return None
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    bbox = Image.eval(flat.convert("L"), lambda v: 255 - v).getbbox()
    if bbox is None:
        return None
    out = io.BytesIO()
    flat.crop(bbox).save(out, format="PNG", optimize=True)
    return out.getvalue()


def online_appearance(*, name: str, capacity: str, when: datetime, identified_by: str,
                      drawing: bytes | None, width: float, height: float) -> bytes:
    """A one-page PDF of the field's size with the drawing (left) and the text (right)."""
    _register_font()
    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=(width, height), pageCompression=1,
                         initialFontName=_FONT, initialFontSize=7)
    page.setTitle("Apparence de signature")
    page.setStrokeColorRGB(0.2, 0.3, 0.5)
    page.setLineWidth(0.8)
    page.rect(0.5, 0.5, width - 1, height - 1)
    text_x = 3.0
    if drawing:
        img = ImageReader(io.BytesIO(drawing))
        iw, ih = img.getSize()
        box_w, box_h = width * 0.38, height - 6
        scale = min(box_w / iw, box_h / ih)
        page.drawImage(img, 3, (height - ih * scale) / 2, iw * scale, ih * scale)
        text_x = 6 + box_w
    lines_in = [name, capacity, "Signé électroniquement " + french_date(when), identified_by]
    avail = width - text_x - 3
    size = 8.0
    while True:
        lines = [ln for part in lines_in if part for ln in simpleSplit(part, _FONT, size, avail)]
        if len(lines) * size * 1.2 <= height - 6 or size <= 4:
            break
        size -= 0.5
    y = height - 3 - size
    for line in lines:
        page.setFont(_FONT, size)
        page.drawString(text_x, y, line)
        y -= size * 1.2
    page.showPage()
    page.save()
    return buf.getvalue()
