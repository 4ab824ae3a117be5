"""Signature anchors found in real PDFs, and empty signature fields added in one update.

The anchors are checked against poppler's word boxes (an independent reading of the same
PDF); the fields with pypdf, qpdf, pdfsig and pyHanko's own reader; and two signatures
made afterwards with pyHanko prove the fields leave the document signable.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from docx import Document
from docx.enum.text import WD_BREAK
from docx.shared import Pt, RGBColor
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pypdf import PdfReader, PdfWriter
from pypdf.generic import RectangleObject
from reportlab.pdfgen.canvas import Canvas

from pipeline.core.errors import StateError, TemplateError
from pipeline.documents.pdf import sigfields
from pipeline.documents.pdf.sigfields import (
    Anchor,
    FieldSpec,
    add_signature_fields,
    field_name,
    fields_from_anchors,
    find_anchors,
)

PDFA_EXPORT = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'
KEYS = ["holder-1", "guardian-2", "holder-2", "commune"]


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=300).stdout


def anchor_cell(cell: Any, label: str, key: str) -> None:
    """A signatory's cell as the template draws it: a label, the white 2 pt anchor, room."""
    cell.paragraphs[0].add_run(label)
    run_ = cell.add_paragraph().add_run(f"SIG::{key}::")
    run_.font.size = Pt(2)
    run_.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
    for _ in range(6):
        cell.add_paragraph("")


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DOCX with anchors in table cells on pages 1 and 2, converted by LibreOffice."""
    folder = tmp_path_factory.mktemp("anchors")
    doc = Document()
    doc.add_paragraph("Article 17 — Signatures. Fait à Loos-en-Gohelle, en trois exemplaires.")
    table = doc.add_table(rows=2, cols=2)
    table.style = "Table Grid"
    anchor_cell(table.cell(0, 0), "Le porteur", "holder-1")
    anchor_cell(table.cell(0, 1), "Le représentant légal", "guardian-2")
    anchor_cell(table.cell(1, 0), "La porteuse", "holder-2")
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    second = doc.add_table(rows=1, cols=1)
    second.style = "Table Grid"
    anchor_cell(second.cell(0, 0), "Pour la commune, le maire", "commune")
    docx = folder / "signatures.docx"
    doc.save(str(docx))
    profile = folder / "profile"
    run("soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
        "--convert-to", PDFA_EXPORT, "--outdir", str(folder), str(docx))
    return docx.with_suffix(".pdf")


def poppler_words(pdf: Path) -> dict[str, tuple[int, float, float]]:
    """Anchor words as poppler reads them: page index, xMin, yMin (top-left origin)."""
    xml = run("pdftotext", "-bbox", str(pdf), "-")
    found: dict[str, tuple[int, float, float]] = {}
    for page, chunk in enumerate(xml.split("<page ")[1:]):
        for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>SIG::([a-z0-9-]+)::<',
                             chunk):
            found[m.group(3)] = (page, float(m.group(1)), float(m.group(2)))
    return found


def test_anchors_survive_libreoffice_where_poppler_sees_them(converted: Path) -> None:
    anchors = find_anchors(converted)
    assert sorted(anchors) == sorted(KEYS)
    words = poppler_words(converted)
    assert sorted(words) == sorted(KEYS)
    for key, anchor in anchors.items():
        page, x_min, y_min = words[key]
        assert anchor.page == page == (1 if key == "commune" else 0)
        assert (anchor.page_width, anchor.page_height) == (612, 792)
        assert abs(anchor.x - x_min) < 1
        assert abs((anchor.page_height - anchor.y) - y_min) < 1
    # Side by side in one row: the right-hand anchor is found at its own place.
    assert anchors["guardian-2"].x - anchors["holder-1"].x > 150
    assert abs(anchors["guardian-2"].y - anchors["holder-1"].y) < 0.5


def test_fields_hang_from_the_anchors(converted: Path) -> None:
    anchors = find_anchors(converted)
    specs = fields_from_anchors(anchors, KEYS)
    assert [spec.name for spec in specs] == [f"sig-{key}" for key in KEYS]
    for spec, key in zip(specs, KEYS, strict=True):
        anchor = anchors[key]
        assert spec.page == anchor.page
        assert spec.rect == pytest.approx((anchor.x, anchor.y - 55, anchor.x + 170, anchor.y),
                                          abs=0.01)


def test_missing_anchor_is_a_template_error_naming_it(converted: Path) -> None:
    with pytest.raises(TemplateError) as caught:
        fields_from_anchors(find_anchors(converted), ["holder-1", "holder-3", "guardian-3"])
    assert "SIG::holder-3::" in caught.value.msg and "SIG::guardian-3::" in caught.value.msg
    assert "SIG::holder-1::" not in caught.value.msg.split("(")[0]


def test_all_fields_in_one_incremental_update(converted: Path, tmp_path: Path) -> None:
    specs = fields_from_anchors(find_anchors(converted), KEYS)
    out = tmp_path / "fields.pdf"
    add_signature_fields(converted, out, specs)
    before, after = converted.read_bytes(), out.read_bytes()
    assert after.startswith(before)
    with converted.open("rb") as a, out.open("rb") as b:
        assert PdfFileReader(b).xrefs.total_revisions == PdfFileReader(a).xrefs.total_revisions + 1
    assert "No syntax or stream encoding errors" in run("qpdf", "--check", str(out))

    reader = PdfReader(out)
    root: Any = reader.trailer["/Root"]
    fields = [ref.get_object() for ref in root["/AcroForm"]["/Fields"]]
    assert len(fields) == len(KEYS)
    page_ids: list[int] = []
    for page in reader.pages:
        assert page.indirect_reference is not None
        page_ids.append(page.indirect_reference.idnum)
    by_name = {str(field["/T"]): field for field in fields}
    for spec in specs:
        field = by_name[spec.name]
        assert field["/FT"] == "/Sig" and "/V" not in field
        assert [float(v) for v in field["/Rect"]] == pytest.approx(list(spec.rect), abs=0.01)
        assert page_ids.index(field.raw_get("/P").idnum) == spec.page
        annots: Any = reader.pages[spec.page]["/Annots"]
        assert field.indirect_reference.idnum in [ref.idnum for ref in annots]
    assert b"pdfaid:part" in root["/Metadata"].get_data()
    listing = run("pdfsig", str(out))
    assert listing.count("The signature form field is not signed.") == len(KEYS)


def self_signed() -> signers.SimpleSigner:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Camille Dupré")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.KeyUsage(True, True, False, False, False, True, False, False, False),
                       critical=True)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    asn1_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    asn1_key = asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    registry = SimpleCertificateStore.from_certs([asn1_cert])  # type: ignore[no-untyped-call]
    return signers.SimpleSigner(signing_cert=asn1_cert, signing_key=asn1_key,
                                cert_registry=registry)


def test_fields_take_successive_signatures(converted: Path, tmp_path: Path) -> None:
    current = tmp_path / "fields.pdf"
    add_signature_fields(converted, current, fields_from_anchors(find_anchors(converted), KEYS))
    signer = self_signed()
    for key in ("holder-1", "commune"):
        signed = tmp_path / f"signed-{key}.pdf"
        with current.open("rb") as src, signed.open("wb") as dst:
            meta = signers.PdfSignatureMetadata(field_name=field_name(key))
            signers.sign_pdf(IncrementalPdfFileWriter(src), meta, signer=signer, output=dst)
        current = signed
    context = ValidationContext(trust_roots=[signer.signing_cert])
    with current.open("rb") as handle:
        reader = PdfFileReader(handle)
        assert len(reader.embedded_signatures) == 2
        for embedded in reader.embedded_signatures:
            status = validate_pdf_signature(embedded, context)
            assert status.intact and status.valid and status.trusted
            assert status.docmdp_ok is not False
    with pytest.raises(StateError):
        add_signature_fields(current, tmp_path / "late.pdf",
                             [FieldSpec("sig-holder-2", 0, (50, 50, 220, 105))])


# --- rotated pages, boxes off the origin, runs --------------------------------------


@pytest.fixture
def odd_pdf(tmp_path: Path) -> Path:
    """Page 1: /Rotate 90, text upright on screen. Page 2: MediaBox and CropBox off 0,0."""
    raw = tmp_path / "raw.pdf"
    canvas = Canvas(str(raw), pagesize=(595, 842), invariant=1)
    canvas.saveState()
    canvas.transform(0, 1, -1, 0, 595, 0)  # screen (u, v) -> page (595 - v, u)
    canvas.setFont("Helvetica", 2)
    canvas.drawString(100, 500, "SIG::holder-1::")
    canvas.restoreState()
    canvas.showPage()
    canvas.setFont("Helvetica", 2)
    canvas.drawString(150, 700, "SIG::hol")  # one anchor drawn in two runs
    canvas.drawString(150 + canvas.stringWidth("SIG::hol", "Helvetica", 2), 700, "der-2::")
    canvas.drawString(500, 300, "SIG::commune::")  # near the right edge of the crop box
    canvas.drawString(150, 200, "Signature SIG::guardian-2::")  # inside a text run
    canvas.showPage()
    canvas.save()
    writer = PdfWriter(clone_from=PdfReader(raw))
    writer.pages[0].rotate(90)
    writer.pages[1].mediabox = RectangleObject((50, 60, 662, 852))
    writer.pages[1].cropbox = RectangleObject((100, 100, 600, 800))
    out = tmp_path / "odd.pdf"
    writer.write(out)
    return out


def test_anchor_and_field_on_a_rotated_page(odd_pdf: Path) -> None:
    anchor = find_anchors(odd_pdf)["holder-1"]
    assert (anchor.page, anchor.rotation) == (0, 90)
    # Top-left on screen is (100, 501.6): in page space x = 595 - 501.6, y = 100.
    assert (anchor.x, anchor.y) == pytest.approx((93.4, 100.0), abs=0.05)
    [spec] = fields_from_anchors({"holder-1": anchor}, ["holder-1"])
    # On screen the field spans u 100..270, v 446.6..501.6.
    assert spec.rect == pytest.approx((93.4, 100.0, 148.4, 270.0), abs=0.05)


def test_anchors_on_offset_boxes_split_runs_and_mid_run(odd_pdf: Path) -> None:
    anchors = find_anchors(odd_pdf)
    assert sorted(anchors) == ["commune", "guardian-2", "holder-1", "holder-2"]
    split = anchors["holder-2"]
    assert (split.page, split.origin) == (1, (100.0, 100.0))
    assert (split.page_width, split.page_height) == (500, 700)
    assert (split.x, split.y) == pytest.approx((150.0, 701.6), abs=0.05)
    # Inside a run, the place is estimated: poppler puts the word at x 159.1.
    assert anchors["guardian-2"].x == pytest.approx(159.1, abs=3)
    specs = {s.name: s for s in fields_from_anchors(anchors, ["holder-2", "commune"])}
    assert specs["sig-holder-2"].rect == pytest.approx((150.0, 646.6, 320.0, 701.6), abs=0.05)
    # Clipped at the crop box's right edge (x = 600).
    assert specs["sig-commune"].rect == pytest.approx((500.0, 246.6, 600.0, 301.6), abs=0.05)


def test_anchor_outside_the_visible_page_leaves_no_room() -> None:
    lost = Anchor("commune", 0, x=700, y=400, page_width=595, page_height=842)
    with pytest.raises(TemplateError, match="no room"):
        fields_from_anchors({"commune": lost}, ["commune"])


def test_duplicate_anchor_is_a_template_error(tmp_path: Path) -> None:
    pdf = tmp_path / "twice.pdf"
    canvas = Canvas(str(pdf), invariant=1)
    canvas.drawString(100, 700, "SIG::commune::")
    canvas.drawString(100, 300, "SIG::commune::")
    canvas.save()
    with pytest.raises(TemplateError, match="twice"):
        find_anchors(pdf)


def test_field_specs_are_checked(odd_pdf: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    good = FieldSpec("sig-commune", 1, (150, 200, 320, 255))
    bad = [
        [],
        [good, good],
        [FieldSpec("sig commune", 1, good.rect)],
        [FieldSpec("sig-commune", 2, good.rect)],
        [FieldSpec("sig-commune", 1, (320, 200, 150, 255))],
    ]
    for specs in bad:
        with pytest.raises(ValueError):
            add_signature_fields(odd_pdf, out, specs)
    assert not out.exists()
    add_signature_fields(odd_pdf, out, [good])
    with pytest.raises(StateError, match="sig-commune"):
        add_signature_fields(out, tmp_path / "again.pdf", [good])


def test_a_formless_pdf_gets_the_fields_pyhanko_would_write(converted: Path) -> None:
    """The fields of a document without a form are written without ``pyhanko.sign``;
    the update is the one pyHanko's own field functions write, byte for byte (the
    trailer's new file identifier apart, which is random)."""
    data = converted.read_bytes()
    specs = fields_from_anchors(find_anchors(converted), KEYS)
    updates = []
    for write in (sigfields.append_fields, sigfields._append_with_pyhanko):
        writer = IncrementalPdfFileWriter(io.BytesIO(data))
        assert "/AcroForm" not in writer.root
        write(writer, specs, "the PDF")
        out = io.BytesIO()
        writer.write(out)  # type: ignore[no-untyped-call]
        updates.append(re.sub(rb"/ID \[ <[0-9a-f]+> <[0-9a-f]+> \]", b"",
                              out.getvalue()[len(data):]))
    assert b"/FT /Sig" in updates[0]
    assert updates[0] == updates[1]
