"""The convention as the signer sees it: the PDF and its pages as PNG images (pdftoppm),
cached per document hash under ``<workspace>/cache/pages/``.

Every page of a document is rendered by one ``pdftoppm`` call, on the first request of
any of its pages (the browser asks for all of them at once); requests for the same
document meanwhile wait for that one rendering instead of starting their own.
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
import threading
from pathlib import Path

from PIL import Image
from pypdf import PdfReader

from pipeline.core.workspace import Workspace
from pipeline.records.archive import workspace_path
from pipeline.records.registry import Registry

__all__ = ["current_pdf", "page_count", "page_png"]

RESOLUTION = 70
"""Dots per inch of the page images: readable on a phone, small to send."""
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


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


def _lock(sha256: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(sha256, threading.Lock())


def page_png(ws: Workspace, path: Path, sha256: str, number: int) -> Path:
    """The PNG of page ``number`` (1-based), rendered once and kept in the cache."""
    folder = ws.root / "cache" / "pages" / sha256[:32]
    target = folder / f"page-{number}.png"
    if target.is_file():
        return target
    with _lock(sha256):
        if not target.is_file():
            _render_all(path, folder)
    if not target.is_file():
        raise FileNotFoundError(target)
    return target


def _render_all(path: Path, folder: Path) -> None:
    """Every page of ``path`` into ``folder`` as ``page-N.png``, in one pdftoppm call.

    pdftoppm writes raw images, compressed here with zlib's fastest level: its own PNG
    output takes twice as long as the rendering for the same pixels and barely smaller
    files."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".render-") as tmp:
        subprocess.run(
            ["pdftoppm", "-r", str(RESOLUTION), str(path), str(Path(tmp) / "p")],
            check=True, capture_output=True, timeout=120,
        )
        for raw in Path(tmp).glob("p-*.ppm"):
            number = int(raw.stem.rsplit("-", 1)[1])
            png = Path(tmp) / f"page-{number}.png"
            with Image.open(raw) as image:
                image.save(png, "PNG", compress_level=1)
            png.replace(folder / f"page-{number}.png")
