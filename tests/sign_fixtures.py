"""Fixtures and helpers for the signature tests: a demo PKI, a blank convention PDF with
three empty signature fields, the same PDF signed in order, and poppler's ``pdfsig``.

Import the fixtures into a test module (``from sign_fixtures import demo_pki, ...``).
"""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from pipeline.signatures.demo_pki import DemoPki, create_demo_pki
from pipeline.signatures.pades import SignResult, sign_pdf

FIELDS = ("sig-holder-1", "sig-holder-2", "sig-commune")
ROLES = (
    ("holder-1", "Camille Dupré"),
    ("holder-2", "Léa Martin"),
    ("commune", "Jean-François Maëlle"),
)
CAPACITIES = {
    "holder-1": "Présidente de l'association « Les Éco-Jardins »",
    "holder-2": "Porteur du projet",
    "commune": "Maire de Loos-en-Gohelle",
}
PAGE_ONE_TEXT = "Convention FF_2026_001 entre la commune et les porteurs"


def make_unsigned_pdf(path: Path, fields: tuple[str, ...] = FIELDS) -> Path:
    """A two-page PDF (reportlab), then all ``fields`` added in one incremental update."""
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, pageCompression=0)
    pdf.drawString(72, 780, PAGE_ONE_TEXT)
    pdf.showPage()
    pdf.drawString(72, 780, "Article 17 - Signatures")
    pdf.showPage()
    pdf.save()
    writer = IncrementalPdfFileWriter(io.BytesIO(buf.getvalue()))
    for i, name in enumerate(fields):
        x = 40 + 180 * i
        append_signature_field(writer, SigFieldSpec(name, on_page=1, box=(x, 560, x + 170, 640)))
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    path.write_bytes(out.getvalue())
    return path


@dataclass(frozen=True)
class SignedChain:
    """A convention signed by its three signatories in order, every version kept."""

    unsigned: Path
    versions: tuple[Path, ...]
    """``versions[i]`` carries the first ``i + 1`` signatures."""
    results: tuple[SignResult, ...]


@pytest.fixture(scope="session")
def demo_pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    """A fresh demo PKI for the whole session (never committed)."""
    return create_demo_pki(tmp_path_factory.mktemp("pki") / "pki", ROLES)


@pytest.fixture(scope="session")
def signed_chain(tmp_path_factory: pytest.TempPathFactory, demo_pki: DemoPki) -> SignedChain:
    """The blank PDF signed by holder-1, holder-2, then the commune."""
    folder = tmp_path_factory.mktemp("chain")
    current = make_unsigned_pdf(folder / "convention.pdf")
    unsigned = current
    versions: list[Path] = []
    results: list[SignResult] = []
    for n, (key, _) in enumerate(ROLES, start=1):
        dst = folder / f"convention-signed-{n}.pdf"
        results.append(sign_pdf(
            current, dst, field=f"sig-{key}", pkcs12=demo_pki.pkcs12_for(key),
            passphrase=demo_pki.passphrase, capacity=CAPACITIES[key],
            reason="Signature de la convention", location="Loos-en-Gohelle",
        ))
        versions.append(dst)
        current = dst
    return SignedChain(unsigned=unsigned, versions=tuple(versions), results=tuple(results))


@dataclass(frozen=True)
class PdfsigEntry:
    """One signature as poppler's ``pdfsig`` sees it."""

    field: str
    common_name: str
    subfilter: str
    validation: str


def pdfsig(path: Path) -> list[PdfsigEntry]:
    """Run poppler's ``pdfsig`` (an independent implementation) and parse its report."""
    proc = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    entries: list[PdfsigEntry] = []
    for block in re.split(r"^Signature #\d+:\s*$", proc.stdout, flags=re.M)[1:]:
        def grab(label: str, text: str = block) -> str:
            found = re.search(rf"- {label}: (.*)$", text, flags=re.M)
            return found.group(1).strip() if found else ""

        entries.append(PdfsigEntry(
            field=grab("Signature Field Name"),
            common_name=grab("Signer Certificate Common Name"),
            subfilter=grab("Signature Type"),
            validation=grab("Signature Validation"),
        ))
    return entries
