"""Check that a scan of a paper original is the convention it claims to be.

Every generated convention carries, on page 1, a QR code ``fiftyfifty:NUMBER:FINGERPRINT``
(the convention's number and the fingerprint of its content version). The scan's first
page is rendered with poppler's ``pdftoppm`` and read with zbar's ``zbarimg``; a code of
another convention or another version refuses the scan.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from pipeline.core.errors import ConfigError, SigningError
from pipeline.core.i18n import _

QR_PREFIX = "fiftyfifty:"


class UnreadableScan(SigningError):
    """No fiftyfifty QR code could be read on the scan's first page."""
_TIMEOUT = 60


def read_codes(scan: Path) -> list[str]:
    """Every QR code zbar finds on page 1 of the PDF ``scan`` (may be empty)."""
    with tempfile.TemporaryDirectory(prefix="fiftyfifty-scan-") as tmp:
        image = Path(tmp) / "page"
        try:
            subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "200", "-gray", "-png",
                            "-singlefile", str(scan), str(image)],
                           check=True, capture_output=True, timeout=_TIMEOUT)
            found = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable",
                                    "-Sqrcode.enable", str(image.with_suffix(".png"))],
                                   capture_output=True, text=True, timeout=_TIMEOUT, check=False)
        except FileNotFoundError as exc:
            raise ConfigError(f"{exc.filename} is missing: install poppler-utils and "
                              "zbar-tools (make deps).") from exc
        except subprocess.CalledProcessError as exc:
            raise SigningError(f"{scan.name}: page 1 cannot be rendered "
                               f"({exc.stderr.decode(errors='replace').strip()}).") from exc
    # zbarimg exits 4 when it finds no code: that is an empty list, not an error.
    return [line.strip() for line in found.stdout.splitlines() if line.strip()]


def check_scan_code(scan: Path, number: str, fingerprint: str) -> str:
    """The code read on the scan when it is this convention's; else :class:`SigningError`.

    Raises :class:`SigningError` with ``unreadable`` in the message when no fiftyfifty
    code is found (the caller may then accept ``--unchecked-scan REASON``).
    """
    codes = [c for c in read_codes(scan) if c.startswith(QR_PREFIX)]
    if not codes:
        raise UnreadableScan(_(
            "{file}: no readable fiftyfifty QR code on page 1 (unreadable); check the "
            "scan, or record it with --unchecked-scan REASON.").format(file=scan.name))
    expected = f"{QR_PREFIX}{number}:{fingerprint}"
    if expected in codes:
        return expected
    parts = codes[0].split(":")
    other = parts[1] if len(parts) > 1 else "?"
    if other != number:
        raise SigningError(_("{file} is a scan of {other}, not of {number}: refused.").format(
            file=scan.name, other=other, number=number))
    raise SigningError(_("{file} is a scan of another version of {number} (its code does "
                         "not carry the current content's fingerprint): refused.").format(
                             file=scan.name, number=number))


__all__ = ["QR_PREFIX", "UnreadableScan", "check_scan_code", "read_codes"]
