"""Fixtures and helpers for the signature tests: a local PKI served on loopback, a blank
convention PDF with
three empty signature fields, the same PDF signed in order, and poppler's ``pdfsig``.

Registered as a plugin by ``conftest.py`` so the session fixtures are built once; test
modules import only the helpers, and ask for English messages with
``pytestmark = pytest.mark.usefixtures("english")``.
"""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from pipeline.signatures.credentials import KeyCredential
from pipeline.signatures.local_pki import LocalPki, pem
from pipeline.signatures.pades import (
    FieldSignature,
    Level,
    SignedBytes,
    SigningPolicy,
    sign_pdf_bytes,
)
from pipeline.signatures.pki_server import PkiServer, start_local_pki

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
    """A convention signed by its three signatories in order (B-LTA), every version kept."""

    unsigned: Path
    versions: tuple[Path, ...]
    """``versions[i]`` carries the first ``i + 1`` signatures."""
    results: tuple[SignedBytes, ...]


@pytest.fixture(scope="session")
def pki_server() -> Iterator[PkiServer]:
    """A root and intermediate CA, TSA, OCSP and CRLs served on 127.0.0.1 (session-wide)."""
    server = start_local_pki()
    yield server
    server.stop()


def roots_of(pki: LocalPki) -> tuple[Any, ...]:
    """The PKI's root as pyHanko trust roots."""
    return tuple(load_certs_from_pemder_data(pem(pki.root.cert)))


@pytest.fixture(scope="session")
def people(pki_server: PkiServer) -> dict[str, KeyCredential]:
    """One good credential per role of :data:`ROLES`, issued by the local PKI."""
    pki = pki_server.pki
    out: dict[str, KeyCredential] = {}
    for key, name in ROLES:
        issued = pki.issue_signer(name)
        out[key] = KeyCredential(issued.key, issued.cert, tuple(pki.chain), key)
    return out


def sign_file(pki: LocalPki, data: bytes, key: str, cred: KeyCredential, *,
              level: Level = "B-LTA", certify: bool = False) -> SignedBytes:
    """Sign ``data`` into ``sig-KEY`` with ``cred`` against the local PKI."""
    policy = SigningPolicy(level, pki.tsa_url, roots_of(pki))
    with cred.open() as opened:
        return sign_pdf_bytes(data, FieldSignature(
            f"sig-{key}", CAPACITIES.get(key, "Signataire"), reason="Signature de la convention",
            location="Loos-en-Gohelle", certify=certify), opened, policy)


@pytest.fixture(scope="session")
def signed_chain(tmp_path_factory: pytest.TempPathFactory, pki_server: PkiServer,
                 people: dict[str, KeyCredential]) -> SignedChain:
    """The blank PDF signed by holder-1, holder-2, then the commune, at B-LTA."""
    folder = tmp_path_factory.mktemp("chain")
    unsigned = make_unsigned_pdf(folder / "convention.pdf")
    data = unsigned.read_bytes()
    versions: list[Path] = []
    results: list[SignedBytes] = []
    for n, (key, _) in enumerate(ROLES, start=1):
        result = sign_file(pki_server.pki, data, key, people[key], certify=n == 1)
        dst = folder / f"convention-signed-{n}.pdf"
        dst.write_bytes(result.data)
        results.append(result)
        versions.append(dst)
        data = result.data
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


@dataclass(frozen=True)
class Pkcs12Set:
    """PKCS#12 files issued by the local PKI, one per role, sharing one passphrase."""

    folder: Path
    passphrase: bytes
    root: Path
    """The PKI's root certificate (PEM)."""

    def p12(self, key: str) -> Path:
        return self.folder / f"{key}.p12"


MALLORY = "Mallory Intrus"


@pytest.fixture(scope="session")
def p12_set(tmp_path_factory: pytest.TempPathFactory, pki_server: PkiServer) -> Pkcs12Set:
    """``KEY.p12`` for every role of :data:`ROLES`, plus ``mallory.p12`` (an intruder with
    a perfectly valid certificate of the same CA)."""
    folder = tmp_path_factory.mktemp("p12")
    pki = pki_server.pki
    passphrase = b"correct horse battery"
    for key, name in [*ROLES, ("mallory", MALLORY)]:
        issued = pki.issue_signer(name)
        (folder / f"{key}.p12").write_bytes(issued.pkcs12(pki.chain, passphrase, key))
    root = folder / "root.pem"
    root.write_bytes(pem(pki.root.cert))
    return Pkcs12Set(folder, passphrase, root)


def make_scan(path: Path, payload: str | None) -> Path:
    """A one-page "scan" (an image PDF) carrying ``payload`` as a QR code, or none."""
    import qrcode
    from reportlab.lib.utils import ImageReader

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    pdf.drawString(72, 780, "Convention signée à la main")
    if payload is not None:
        image = qrcode.make(payload, border=2)
        png = io.BytesIO()
        image.save(png)
        png.seek(0)
        pdf.drawImage(ImageReader(png), 400, 650, 150, 150)
    pdf.showPage()
    pdf.save()
    path.write_bytes(buf.getvalue())
    return path


