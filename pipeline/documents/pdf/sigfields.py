"""Signature anchors and the empty signature fields placed on them.

The Word template puts, in each signatory's cell, an invisible text ``SIG::<key>::``
(white, 2 pt) at the top-left of the space left for the signature; rendering wraps it in a
bookmark that LibreOffice exports as a named destination (see :mod:`.anchors`).
:func:`find_anchors` reads the destinations, or else finds the text with pypdf;
:func:`fields_from_anchors` turns each expected signatory's anchor into a field rectangle
(170 x 55 pt by default, hanging right and down from the anchor as the page is displayed,
clipped to the page), and :func:`add_signature_fields` adds all the empty fields with
pyHanko in one incremental update, so the signatures that follow (one incremental update
each) stay valid.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from pipeline.core.errors import InputError, StateError, TemplateError
from pipeline.core.files import write_atomic
from pipeline.documents.pdf.anchors import ANCHOR_PATTERN, key_of_bookmark
from pipeline.documents.pdf.formless import add_to_formless
from pipeline.documents.pdf.geometry import PageFrame, page_attribute

log = logging.getLogger(__name__)

__all__ = [
    "ANCHOR_PATTERN",
    "DEFAULT_FIELD_SIZE",
    "Anchor",
    "FieldSpec",
    "PageFrame",
    "add_signature_fields",
    "append_fields",
    "field_name",
    "fields_from_anchors",
    "find_anchors",
    "page_attribute",
    "signature_fields_bytes",
]


DEFAULT_FIELD_SIZE: tuple[float, float] = (170.0, 55.0)
"""Width and height, in points, of a signature field hanging from its anchor."""

_FIELD_NAME = re.compile(r"[A-Za-z0-9_-]+")
_ASCENT = 0.8
"""Share of the font size above the baseline, to place an anchor's top edge."""
_ADVANCE = 0.55
"""Rough average glyph width (share of the font size), for an anchor inside a text run."""


@dataclass(frozen=True)
class Anchor:
    """Where a signatory's anchor sits in the PDF."""

    key: str
    """Signatory key, e.g. ``holder-1``, ``guardian-2``, ``commune``."""
    page: int
    """0-based page index."""
    x: float
    """Anchor's top-left corner (as displayed), x in PDF user space."""
    y: float
    """Anchor's top-left corner (as displayed), y in PDF user space."""
    page_width: float
    """Width of the page's visible box (CropBox within MediaBox), in user space."""
    page_height: float
    """Height of the page's visible box, in user space."""
    rotation: int = 0
    """The page's ``/Rotate`` (clockwise, 0/90/180/270)."""
    origin: tuple[float, float] = (0.0, 0.0)
    """Lower-left corner of the visible box in user space (not 0,0 for odd boxes)."""

    @property
    def frame(self) -> PageFrame:
        """The page geometry the anchor was found in."""
        x0, y0 = self.origin
        box = (x0, y0, x0 + self.page_width, y0 + self.page_height)
        return PageFrame(box, self.rotation)


@dataclass(frozen=True)
class FieldSpec:
    """An empty signature field to add."""

    name: str
    """Field name, e.g. ``sig-holder-1``."""
    page: int
    """0-based page index."""
    rect: tuple[float, float, float, float]
    """Rectangle x1, y1, x2, y2 in the page's user space (lower-left, upper-right)."""


def field_name(key: str) -> str:
    """The signature field name for a signatory key: ``holder-1`` gives ``sig-holder-1``."""
    return f"sig-{key}"


def find_anchors(pdf: Path | bytes | PdfReader,
                 keys: Sequence[str] | None = None) -> dict[str, Anchor]:
    """Every ``SIG::<key>::`` anchor of ``pdf`` (a file, its bytes or an open reader), by key.

    With ``keys``, the named destinations come first: when they place every key, no text
    is read. Otherwise the pages most likely to hold anchors (those with tiny text, looked
    at from the end of the document) are read first and the search stops as soon as every
    key is found: text extraction is the costly part, and the signature block is on the
    last page or two. Without ``keys`` the text of every page is read.

    Raises :class:`InputError` if the file is not a readable PDF and
    :class:`TemplateError` if one key is anchored at two different places (on the pages
    read).
    """
    label = pdf.name if isinstance(pdf, Path) else "the PDF"
    try:
        reader = pdf if isinstance(pdf, PdfReader) else PdfReader(
            pdf if isinstance(pdf, Path) else io.BytesIO(pdf))
        pages = list(reader.pages)
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise InputError(f"{label} is not a readable PDF ({exc})") from exc
    wanted = set(keys) if keys is not None else None
    if wanted is not None:
        marked = _destination_anchors(reader, pages, wanted)
        if wanted <= marked.keys():
            return marked
        log.info("%s: signature anchors not all in named destinations (%s); reading page text",
                 label, ", ".join(sorted(wanted - marked.keys())))
    found: dict[str, Anchor] = {}
    for index in _reading_order(pages, wanted is not None):
        page = pages[index]
        frame = PageFrame.of(page)
        for key, x, y in _page_anchors(page):
            anchor = Anchor(
                key=key, page=index, x=x, y=y,
                page_width=frame.box[2] - frame.box[0],
                page_height=frame.box[3] - frame.box[1],
                rotation=frame.rotation, origin=(frame.box[0], frame.box[1]),
            )
            known = found.get(key)
            if known is None:
                found[key] = anchor
            elif (known.page, round(known.x), round(known.y)) != (index, round(x), round(y)):
                first, second = sorted((known.page, index))
                raise TemplateError(
                    f"the signature anchor SIG::{key}:: appears twice in {label} "
                    f"(pages {first + 1} and {second + 1})",
                    hint="Each signatory needs exactly one anchor in the template.",
                )
        if wanted is not None and wanted <= found.keys():
            break
    return found


def _destination_anchors(reader: PdfReader, pages: Sequence[Any],
                         wanted: set[str]) -> dict[str, Anchor]:
    """The anchors LibreOffice exported as named destinations (``/XYZ left top``)."""
    try:
        destinations = reader.named_destinations
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    found: dict[str, Anchor] = {}
    for name, dest in destinations.items():
        key = key_of_bookmark(str(name))
        if key is None or key not in wanted:
            continue
        try:
            index = reader.get_destination_page_number(dest)
            left, top = dest.left, dest.top
            if index is None or not 0 <= index < len(pages) or left is None or top is None:
                continue
            frame = PageFrame.of(pages[index])
            found[key] = Anchor(
                key=key, page=index, x=float(left), y=float(top),
                page_width=frame.box[2] - frame.box[0],
                page_height=frame.box[3] - frame.box[1],
                rotation=frame.rotation, origin=(frame.box[0], frame.box[1]))
        except (PdfReadError, ValueError, KeyError, TypeError):
            continue
    return found


_TINY_TEXT = re.compile(rb"(?<![\d.])(?:[0-2](?:\.\d*)?|\.\d+)\s+Tf\b")
"""A font size under 3 pt in a content stream: where an invisible anchor is likely."""


def _reading_order(pages: Sequence[Any], targeted: bool) -> list[int]:
    """All page indices; for a targeted search, pages with tiny text first, from the end."""
    order = list(range(len(pages)))
    if not targeted:
        return order
    order.reverse()
    likely: list[int] = []
    for index in order:
        try:
            contents = pages[index].get_contents()
            data = contents.get_data() if contents is not None else b""
        except (PdfReadError, ValueError, KeyError):
            data = b""
        if _TINY_TEXT.search(data):
            likely.append(index)
    return likely + [index for index in order if index not in likely]


def fields_from_anchors(
    anchors: Mapping[str, Anchor],
    keys: Sequence[str],
    *,
    size: tuple[float, float] = DEFAULT_FIELD_SIZE,
) -> list[FieldSpec]:
    """One field per expected signatory key, hanging right and down from its anchor.

    Raises :class:`TemplateError` naming every expected key whose anchor is missing, or
    whose anchor leaves no room on the page.
    """
    missing = [key for key in keys if key not in anchors]
    if missing:
        present = ", ".join(sorted(anchors)) or "none"
        raise TemplateError(
            "the PDF has no signature anchor for "
            + ", ".join(f"SIG::{key}::" for key in missing)
            + f" (anchors found: {present})",
            hint="The template's signature block needs one anchor per signatory.",
        )
    width, height = size
    specs: list[FieldSpec] = []
    for key in keys:
        anchor = anchors[key]
        frame = anchor.frame
        u, v = frame.to_display(anchor.x, anchor.y)
        left, right = max(u, 0.0), min(u + width, frame.width)
        bottom, top = max(v - height, 0.0), min(v, frame.height)
        if right - left < 1 or top - bottom < 1:
            raise TemplateError(
                f"the signature anchor SIG::{key}:: on page {anchor.page + 1} "
                "leaves no room for a signature on the page"
            )
        corners = [frame.to_user(left, bottom), frame.to_user(right, top)]
        xs = sorted(point[0] for point in corners)
        ys = sorted(point[1] for point in corners)
        rect = (round(xs[0], 2), round(ys[0], 2), round(xs[1], 2), round(ys[1], 2))
        specs.append(FieldSpec(name=field_name(key), page=anchor.page, rect=rect))
    return specs


def add_signature_fields(src: Path, dst: Path, fields: Sequence[FieldSpec]) -> None:
    """Write ``dst``: ``src`` plus all ``fields`` as empty signature fields, in ONE update.

    The update is incremental (``src``'s bytes are a prefix of ``dst``). ``dst`` is written
    atomically and may be ``src``. Raises :class:`ValueError` for malformed specs,
    :class:`InputError` for an unreadable PDF and :class:`StateError` if the PDF already
    has one of these fields or any signature.
    """
    data = signature_fields_bytes(src.read_bytes(), fields, name=src.name)
    dst.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(dst, data)


def signature_fields_bytes(data: bytes, fields: Sequence[FieldSpec], *,
                           name: str = "the PDF") -> bytes:
    """:func:`add_signature_fields` in memory: ``data`` plus one incremental update."""
    _check_specs(fields)
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data))
    except (PdfError, ValueError, KeyError) as exc:
        raise InputError(f"{name} is not a readable PDF ({exc})") from exc
    append_fields(writer, fields, name)
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def append_fields(writer: IncrementalPdfFileWriter, fields: Sequence[FieldSpec],
                  name: str = "the PDF") -> None:
    """Add the empty ``fields`` to the update ``writer`` is preparing (not yet written).

    Same checks and errors as :func:`add_signature_fields`."""
    _check_specs(fields)
    try:
        page_count = int(writer.root["/Pages"]["/Count"])
        formless = "/AcroForm" not in writer.root
    except (PdfError, ValueError, KeyError) as exc:
        raise InputError(f"{name} is not a readable PDF ({exc})") from exc
    for spec in fields:
        if spec.page >= page_count:
            raise ValueError(f"field {spec.name}: page {spec.page + 1} > {page_count} pages")
    if formless:  # no form, so no field and no signature yet
        add_to_formless(writer, [s.name for s in fields], [s.page for s in fields],
                        [s.rect for s in fields])
        return
    _append_with_pyhanko(writer, fields, name)


def _append_with_pyhanko(writer: IncrementalPdfFileWriter, fields: Sequence[FieldSpec],
                         name: str) -> None:
    """:func:`append_fields` for a document that already has a form."""
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field, enumerate_sig_fields

    try:
        existing = list(enumerate_sig_fields(writer.prev, filled_status=None))
    except (PdfError, ValueError, KeyError) as exc:
        raise InputError(f"{name} is not a readable PDF ({exc})") from exc
    if any(value is not None for _, value, _ in existing):
        raise StateError(
            f"{name} is already signed: fields must be added before any signature"
        )
    clashing = sorted({field for field, _, _ in existing} & {spec.name for spec in fields})
    if clashing:
        raise StateError(f"{name} already has the signature field(s) {', '.join(clashing)}")
    for spec in fields:
        box: Any = spec.rect  # pyHanko annotates ints but writes any number
        append_signature_field(
            writer, SigFieldSpec(sig_field_name=spec.name, on_page=spec.page, box=box)
        )


def _check_specs(fields: Sequence[FieldSpec]) -> None:
    if not fields:
        raise ValueError("no signature fields to add")
    names = [spec.name for spec in fields]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate field names in {names}")
    for spec in fields:
        x1, y1, x2, y2 = spec.rect
        if not _FIELD_NAME.fullmatch(spec.name):
            raise ValueError(f"invalid field name {spec.name!r}")
        if spec.page < 0 or x2 <= x1 or y2 <= y1:
            raise ValueError(f"field {spec.name}: bad page or rectangle {spec.rect}")


def _page_anchors(page: Any) -> list[tuple[str, float, float]]:
    """Anchors of one page: key and top-left corner in user space.

    pypdf reports text in runs, each with the matrices at its start. LibreOffice writes
    every text portion in its own BT/ET block, so an anchor normally starts a run; if it
    sits inside one, its place is estimated from an average glyph width.
    """
    runs: list[tuple[str, list[float], float]] = []

    def visit(text: Any, cm: Any, tm: Any, _font: Any, font_size: Any) -> None:
        if text:
            runs.append((str(text), _multiply(tm, cm), float(font_size or 0.0)))

    page.extract_text(visitor_text=visit)
    # Glue runs without whitespace so an anchor split over runs is still found, keeping
    # for each kept character its run and its place in that run.
    chars: list[tuple[int, int]] = []
    glued: list[str] = []
    for run_index, (text, _, _) in enumerate(runs):
        for char_index, char in enumerate(text):
            if not char.isspace():
                chars.append((run_index, char_index))
                glued.append(char)
    anchors: list[tuple[str, float, float]] = []
    for match in ANCHOR_PATTERN.finditer("".join(glued)):
        run_index, char_index = chars[match.start()]
        _, m, font_size = runs[run_index]
        along = _ADVANCE * font_size * char_index
        up = _ASCENT * font_size
        x = m[4] + along * m[0] + up * m[2]
        y = m[5] + along * m[1] + up * m[3]
        anchors.append((match.group(1), x, y))
    return anchors


def _multiply(tm: Sequence[float], cm: Sequence[float]) -> list[float]:
    """Text matrix times CTM (row-vector convention): text space to user space."""
    a, b, c, d, e, f = (float(v) for v in tm)
    p, q, r, s, t, u = (float(v) for v in cm)
    return [a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
            e * p + f * r + t, e * q + f * s + u]
