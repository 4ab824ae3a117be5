"""A stand-in for ``soffice --convert-to pdf`` used by tests/test_convert.py.

It takes the same command line as LibreOffice and, for each input in order, writes a
one-page PDF named after it in ``--outdir`` (with reportlab), except for inputs whose
name contains:

- ``hang``: it starts a sleeping child (to prove the whole process group is killed) and
  sleeps itself, as a LibreOffice stuck on a document would;
- ``crash``: it kills itself with SIGKILL, as a LibreOffice crash would.

Every process it starts carries the output folder on its command line, so a test can
find them in /proc.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from reportlab.pdfgen import canvas


def main(argv: list[str]) -> int:
    outdir = Path(".")
    inputs: list[Path] = []
    args = iter(argv)
    for arg in args:
        if arg in ("--outdir", "--convert-to"):
            value = next(args)
            if arg == "--outdir":
                outdir = Path(value)
        elif not arg.startswith("-"):
            inputs.append(Path(arg))
    for source in inputs:
        target = outdir / f"{source.stem}.pdf"
        print(f"convert {source} -> {target} using filter : writer_pdf_Export", flush=True)
        if "hang" in source.name:
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", str(outdir)])
            time.sleep(600)
        if "crash" in source.name:
            os.kill(os.getpid(), signal.SIGKILL)
        pdf = canvas.Canvas(str(target))
        pdf.drawString(72, 720, f"Converted {source.name}")
        pdf.save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
