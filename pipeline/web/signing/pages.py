"""The convention as the signer sees it: the PDF and its pages as PNG images (pdftoppm),
cached per document hash under ``<workspace>/cache/pages/``."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pypdf import PdfReader

from pipeline.core.workspace import Workspace
from pipeline.records.archive import workspace_path
from pipeline.records.registry import Registry

__all__ = ["current_pdf", "page_count", "page_png"]

RESOLUTION = 70
"""Dots per inch of the page images: readable on a phone, small to send."""


def current_pdf(ws: Workspace, convention_id: str) -> tuple[Path, str]:
    """The latest PDF of the convention (signed or not) and its SHA-256."""
    with Registry.open(ws.registry_path, create=False) as reg:
        doc = reg.latest_document(convention_id, ["signed", "pdf"])
    if doc is None:
        raise FileNotFoundError(convention_id)
    return workspace_path(ws, doc.relpath), doc.sha256


def page_count(path: Path) -> int:
    """Number of pages of a PDF."""
    return len(PdfReader(path).pages)


def page_png(ws: Workspace, path: Path, sha256: str, number: int) -> Path:
    """The PNG of page ``number`` (1-based), rendered once and kept in the cache."""
    folder = ws.root / "cache" / "pages" / sha256[:32]
    target = folder / f"page-{number}.png"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f".render-{number}"
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(RESOLUTION), "-f", str(number), "-l", str(number),
         "-singlefile", str(path), str(stem)],
        check=True, capture_output=True, timeout=60,
    )
    Path(f"{stem}.png").replace(target)
    return target
