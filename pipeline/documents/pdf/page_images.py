"""A convention's pages as PNG images (poppler's ``pdftoppm``), kept per document hash
under ``<workspace>/cache/pages/``: what the signing page shows the inhabitant.

Every page of a document is rendered by one ``pdftoppm`` call; callers asking for the
same document meanwhile wait for that one rendering instead of starting their own.
``fiftyfifty invite`` renders them as it sends the links, so the signers' pages answer
at once.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from pathlib import Path

from PIL import Image

__all__ = ["RESOLUTION", "ensure_page_images", "page_image", "page_images_folder"]

RESOLUTION = 70
"""Dots per inch of the page images: readable on a phone, small to send."""
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def page_images_folder(workspace_root: Path, sha256: str) -> Path:
    """Where the images of the document with this SHA-256 are kept."""
    return workspace_root / "cache" / "pages" / sha256[:32]


def page_image(folder: Path, number: int) -> Path:
    """The file of page ``number`` (1-based) in ``folder``."""
    return folder / f"page-{number}.png"


def _lock(folder: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(str(folder), threading.Lock())


def ensure_page_images(pdf: Path, folder: Path) -> None:
    """Render every page of ``pdf`` into ``folder`` unless it is done already."""
    if page_image(folder, 1).is_file():
        return
    with _lock(folder):
        if not page_image(folder, 1).is_file():
            _render_all(pdf, folder)


def _render_all(pdf: Path, folder: Path) -> None:
    """pdftoppm writes raw images, compressed here with zlib's fastest level: its own
    PNG output takes twice as long as the rendering for the same pixels and files
    barely smaller. Page 1 is moved in last: its presence says all are there."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".render-") as tmp:
        subprocess.run(
            ["pdftoppm", "-r", str(RESOLUTION), str(pdf), str(Path(tmp) / "p")],
            check=True, capture_output=True, timeout=120,
        )
        raws = sorted(((int(raw.stem.rsplit("-", 1)[1]), raw)
                       for raw in Path(tmp).glob("p-*.ppm")), reverse=True)
        for number, raw in raws:
            png = Path(tmp) / f"page-{number}.png"
            with Image.open(raw) as image:
                image.save(png, "PNG", compress_level=1)
            png.replace(page_image(folder, number))
