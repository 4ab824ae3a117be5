"""Signature anchors: the invisible ``SIG::<key>::`` text of the template, and the Word
bookmark that rendering wraps around it.

The text anchor is what staff see (in white, 2 pt) and what ``templates check`` looks
for. Rendering wraps each one in a bookmark named :func:`bookmark_name`; LibreOffice
exports bookmarks as PDF named destinations, so the field placement reads the anchor's
page and position from the document catalogue instead of extracting the text of a page,
which costs a hundred times more. Reading the text remains the fallback for a PDF made
without the bookmarks.
"""

from __future__ import annotations

import re
from typing import Any

from docx.oxml.ns import nsmap, qn
from lxml import etree  # type: ignore[import-untyped]

from pipeline.core.errors import TemplateError

ANCHOR_PATTERN = re.compile(r"SIG::([a-z0-9-]+)::")
"""The anchor text the template puts in each signatory's cell."""

_PREFIX = "FFSIG"
_BOOKMARK = re.compile(r"FFSIG([a-z0-9X]+)")
_BOOKMARK_IDS = etree.XPath("//w:bookmarkStart/@w:id", namespaces={"w": nsmap["w"]})


def bookmark_name(key: str) -> str:
    """The bookmark for a signatory key: letters and digits only, as Word wants them
    (``holder-1`` gives ``FFSIGholderX1``; keys are lower case, so ``X`` is free)."""
    return _PREFIX + key.replace("-", "X")


def key_of_bookmark(name: str) -> str | None:
    """The signatory key a bookmark (or named destination, with or without ``/``) stands
    for, or ``None`` when it is not an anchor bookmark."""
    match = _BOOKMARK.fullmatch(name.lstrip("/"))
    return match.group(1).replace("X", "-") if match else None


def bookmark_anchors(body: Any, label: str) -> list[str]:
    """Wrap every anchor run of a rendered document ``body`` (lxml) in its bookmark.

    Returns the keys in document order. Raises :class:`TemplateError` when a key is
    anchored twice: its signature field would have two places.
    """
    ids = [int(v) for v in _BOOKMARK_IDS(body) if str(v).isdigit()]
    next_id = max(ids, default=0) + 1
    keys: list[str] = []
    for text in body.iter(qn("w:t")):
        match = ANCHOR_PATTERN.search(text.text or "")
        if match is None:
            continue
        key = match.group(1)
        if key in keys:
            raise TemplateError(
                f"{label}: the signature anchor SIG::{key}:: appears twice",
                hint="Each signatory needs exactly one anchor in the template.")
        keys.append(key)
        run = text.getparent()
        start = run.makeelement(qn("w:bookmarkStart"), {qn("w:id"): str(next_id),
                                                        qn("w:name"): bookmark_name(key)})
        end = run.makeelement(qn("w:bookmarkEnd"), {qn("w:id"): str(next_id)})
        run.addprevious(start)
        run.addnext(end)
        next_id += 1
    return keys
