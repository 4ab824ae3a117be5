"""The convention as the signer sees it: the PDF and its pages as PNG images (see
:mod:`pipeline.documents.pdf.page_images`)."""

from __future__ import annotations

import functools
from pathlib import Path

from pypdf import PdfReader

from pipeline.core.workspace import Workspace
from pipeline.documents.pdf.page_images import (
    ensure_page_images,
    page_image,
    page_images_folder,
)
from pipeline.records.archive import workspace_path
from pipeline.records.registry import Registry

__all__ = ["current_pdf", "page_count", "page_png"]


def current_pdf(ws: Workspace, convention_id: str) -> tuple[Path, str]:
    """The latest PDF of the convention (signed or not) and its SHA-256."""
    with Registry.open(ws.registry_path, create=False) as reg:
        doc = reg.latest_document(convention_id, ["signed", "pdf"])
    if doc is None:
        raise FileNotFoundError(convention_id)
    return workspace_path(ws, doc.relpath), doc.sha256


def page_count(path: Path, sha256: str | None = None) -> int:
    """Number of pages of a PDF (read once per document when its ``sha256`` is given)."""
    if sha256 is None:
        return len(PdfReader(path).pages)
    return _count(str(path), sha256)


@functools.lru_cache(maxsize=512)
def _count(path: str, sha256: str) -> int:
    return len(PdfReader(path).pages)


def page_png(ws: Workspace, path: Path, sha256: str, number: int) -> Path:
    """The PNG of page ``number`` (1-based), rendered once and kept in the cache."""
    folder = page_images_folder(ws.root, sha256)
    target = page_image(folder, number)
    if not target.is_file():
        ensure_page_images(path, folder)
    if not target.is_file():
        raise FileNotFoundError(target)
    return target
