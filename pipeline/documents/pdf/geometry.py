"""Page geometry: the visible box of a PDF page, its rotation, inherited attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["PageFrame", "page_attribute"]


@dataclass(frozen=True)
class PageFrame:
    """The visible part of a page and how a viewer turns it.

    *Display* coordinates have their origin at the bottom-left corner of the page as
    shown (after ``/Rotate``); *user* coordinates are the PDF's own page space.
    """

    box: tuple[float, float, float, float]
    """Visible box (CropBox clipped to MediaBox) in user space: x0, y0, x1, y1."""
    rotation: int = 0
    """Clockwise display rotation, one of 0, 90, 180, 270."""

    @classmethod
    def of(cls, page: Any) -> PageFrame:
        """Frame of a pypdf page (its inherited boxes and rotation)."""
        media = _normalise(page_attribute(page, "/MediaBox")) or (0.0, 0.0, 612.0, 792.0)
        crop = _normalise(page_attribute(page, "/CropBox")) or media
        box = (max(media[0], crop[0]), max(media[1], crop[1]),
               min(media[2], crop[2]), min(media[3], crop[3]))
        if box[2] <= box[0] or box[3] <= box[1]:
            box = media
        rotation = int(page_attribute(page, "/Rotate") or 0) % 360
        return cls(box, rotation if rotation % 90 == 0 else 0)

    @property
    def width(self) -> float:
        """Width of the page as displayed."""
        x0, y0, x1, y1 = self.box
        return (y1 - y0) if self.rotation in (90, 270) else (x1 - x0)

    @property
    def height(self) -> float:
        """Height of the page as displayed."""
        x0, y0, x1, y1 = self.box
        return (x1 - x0) if self.rotation in (90, 270) else (y1 - y0)

    @property
    def matrix(self) -> tuple[float, float, float, float, float, float]:
        """PDF matrix ``[a b c d e f]`` mapping display coordinates to user space."""
        x0, y0, x1, y1 = self.box
        if self.rotation == 90:
            return (0.0, 1.0, -1.0, 0.0, x1, y0)
        if self.rotation == 180:
            return (-1.0, 0.0, 0.0, -1.0, x1, y1)
        if self.rotation == 270:
            return (0.0, -1.0, 1.0, 0.0, x0, y1)
        return (1.0, 0.0, 0.0, 1.0, x0, y0)

    def to_user(self, u: float, v: float) -> tuple[float, float]:
        """Map a display point to user space."""
        a, b, c, d, e, f = self.matrix
        return (a * u + c * v + e, b * u + d * v + f)

    def to_display(self, x: float, y: float) -> tuple[float, float]:
        """Map a user-space point to display coordinates (inverse of :meth:`to_user`)."""
        a, b, c, d, e, f = self.matrix
        # The matrix is a rotation by a multiple of 90 degrees: its inverse is its transpose.
        dx, dy = x - e, y - f
        return (a * dx + b * dy, c * dx + d * dy)


def page_attribute(page: Any, key: str) -> Any:
    """A page attribute (resolved), looked up through the ``/Parent`` chain."""
    node: Any = page
    for _ in range(64):
        if node is None:
            break
        if key in node:
            return node[key]
        parent = node.get("/Parent")
        # pyHanko's ``get`` leaves references unresolved; pypdf's resolves them.
        node = parent.get_object() if hasattr(parent, "get_object") else parent
    return None


def _normalise(raw: Any) -> tuple[float, float, float, float] | None:
    """A PDF rectangle as (x0, y0, x1, y1) with x0 <= x1 and y0 <= y1."""
    if raw is None:
        return None
    values = [float(v) for v in raw]
    if len(values) != 4:
        return None
    x0, x1 = sorted((values[0], values[2]))
    y0, y1 = sorted((values[1], values[3]))
    return (x0, y0, x1, y1)
