"""Stamping: number and page count on every page, QR code, draft mark, odd page geometries.

Real tools only: a convention converted by LibreOffice, then checked with qpdf, pdffonts,
pdftotext, pdftoppm + zbarimg, and pypdf.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.shared import Pt, RGBColor
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, RectangleObject
from reportlab.pdfgen.canvas import Canvas

from pipeline.core.errors import ConfigError, InputError, StateError
from pipeline.documents.pdf.sigfields import (
    FieldSpec,
    add_signature_fields,
    fields_from_anchors,
    find_anchors,
)
from pipeline.documents.pdf.stamp import stamp_pdf

NUMBER = "FF_2026_001"
FINGERPRINT = "3f" * 32
PAYLOAD = f"fiftyfifty:{NUMBER}:{FINGERPRINT}"
PDFA_EXPORT = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'
LIBERATION = Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf")

ARTICLE = (
    "Les porteurs du projet s'engagent à réaliser l'aménagement décrit à l'article 2, "
    "à respecter les consignes de sécurité données par les services techniques et à "
    "rendre compte de l'avancement des travaux. La commune apporte une aide financière "
    "et technique dont le montant figure au plan de financement annexé. "
)


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=300).stdout


def convert(docx: Path, profile: Path) -> Path:
    """Real LibreOffice conversion to PDF/A-2b, with a private profile."""
    run("soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
        "--convert-to", PDFA_EXPORT, "--outdir", str(docx.parent), str(docx))
    pdf = docx.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    return pdf


@pytest.fixture(scope="module")
def convention(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A typical convention: about nine pages of clauses, then the signature block."""
    folder = tmp_path_factory.mktemp("convention")
    doc = Document()
    doc.add_heading(f"Convention fifty-fifty n° {NUMBER}", level=0)
    for number in range(1, 13):
        doc.add_heading(f"Article {number} — Engagements des parties", level=1)
        for _ in range(3):
            doc.add_paragraph(ARTICLE * 2)
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    for cell, key in zip(table.rows[0].cells, ("holder-1", "commune"), strict=True):
        cell.paragraphs[0].add_run("Pour le porteur" if key != "commune" else "Pour la commune")
        run_ = cell.add_paragraph().add_run(f"SIG::{key}::")
        run_.font.size = Pt(2)
        run_.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
        for _ in range(6):
            cell.add_paragraph("")
    docx = folder / "convention.docx"
    doc.save(str(docx))
    return convert(docx, folder / "profile")


@pytest.fixture
def stamped(convention: Path, tmp_path: Path) -> Path:
    out = tmp_path / "stamped.pdf"
    stamp_pdf(convention, out, number=NUMBER, fingerprint=FINGERPRINT)
    return out


def page_text(pdf: Path, page: int) -> str:
    return run("pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-")


def render_gray(pdf: Path, prefix: Path) -> bytes:
    """Page 1 as 8-bit grey pixels (pdftoppm's PGM, header dropped)."""
    run("pdftoppm", "-r", "36", "-f", "1", "-l", "1", "-gray", "-singlefile",
        str(pdf), str(prefix))
    data = prefix.with_suffix(".pgm").read_bytes()
    magic, width, height, depth, pixels = data.split(maxsplit=4)
    assert (magic, depth) == (b"P5", b"255")
    return pixels[: int(width) * int(height)]


def stamp_fonts(pdf: Path) -> set[int]:
    """Object numbers of the fonts used by the stamp forms, over all pages."""
    ids: set[int] = set()
    for page in PdfReader(pdf).pages:
        resources: Any = page["/Resources"]
        form = resources["/XObject"]["/FFStamp"]
        ids.update(ref.idnum for ref in form["/Resources"]["/Font"].values())
    return ids


def test_every_page_carries_number_and_page_count(convention: Path, stamped: Path) -> None:
    total = len(PdfReader(convention).pages)
    assert 8 <= total <= 10
    for page in range(1, total + 1):
        text = page_text(stamped, page)
        assert f"Convention n° {NUMBER} — page {page} / {total}" in text
        assert "PROJET" not in text
    assert "No syntax or stream encoding errors" in run("qpdf", "--check", str(stamped))


def test_every_font_is_embedded_and_the_stamp_font_only_once(stamped: Path) -> None:
    rows = run("pdffonts", str(stamped)).splitlines()[2:]
    assert rows
    for row in rows:
        emb = re.search(r"\s(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", row)
        assert emb is not None and emb.group(1) == "yes", row
    assert any("DejaVuSans " in row for row in rows)
    assert len(stamp_fonts(stamped)) == 1


def test_qr_code_in_top_right_margin_decodes_to_payload(stamped: Path, tmp_path: Path) -> None:
    reader = PdfReader(stamped)
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    dpi = 300
    scale = dpi / 72
    # Render only the top-right quarter of page 1: the QR code must be there.
    prefix = tmp_path / "corner"
    run("pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-png", "-singlefile",
        "-x", str(int(width * scale / 2)), "-y", "0",
        "-W", str(int(width * scale / 2)), "-H", str(int(height * scale / 4)),
        str(stamped), str(prefix))
    decoded = run("zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable",
                  str(prefix.with_suffix(".png")))
    assert decoded.strip() == PAYLOAD
    # No QR code on the other pages.
    other = tmp_path / "page2"
    run("pdftoppm", "-r", "150", "-f", "2", "-l", "2", "-png", "-singlefile",
        str(stamped), str(other))
    found = subprocess.run(["zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable",
                            str(other.with_suffix(".png"))], capture_output=True, text=True)
    assert found.stdout.strip() == ""


@pytest.mark.parametrize("draft", [False, True])
def test_stamped_file_stays_small(convention: Path, tmp_path: Path, draft: bool) -> None:
    out = tmp_path / "out.pdf"
    result = stamp_pdf(convention, out, number=NUMBER, fingerprint=FINGERPRINT, draft=draft)
    assert result.size == out.stat().st_size
    assert result.source_size == convention.stat().st_size
    assert result.size <= 1.5 * result.source_size, (result.size, result.source_size)


def test_pdfa_markers_and_metadata_are_kept(convention: Path, stamped: Path) -> None:
    before, after = PdfReader(convention), PdfReader(stamped)
    for reader in (before, after):
        root: Any = reader.trailer["/Root"]
        assert root["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"
        xmp = root["/Metadata"].get_data()
        assert b"pdfaid:part" in xmp
    before_root: Any = before.trailer["/Root"]
    after_root: Any = after.trailer["/Root"]
    assert before_root["/Metadata"].get_data() == after_root["/Metadata"].get_data()
    assert after.metadata is not None and before.metadata is not None
    assert after.metadata.producer == before.metadata.producer


def test_draft_adds_projet_on_every_page(convention: Path, tmp_path: Path) -> None:
    out = tmp_path / "draft.pdf"
    result = stamp_pdf(convention, out, number=NUMBER, fingerprint=FINGERPRINT, draft=True)
    assert result.draft and result.layouts == 1
    for page in range(1, result.pages + 1):
        # Diagonal text comes out one letter a line; -raw keeps the drawing order.
        raw = run("pdftotext", "-raw", "-f", str(page), "-l", str(page), str(out), "-")
        assert "PROJET" in re.sub(r"\s", "", raw)
        assert f"page {page} / {result.pages}" in raw
    # Light: on page 1, the mark greys a good share of the white page, never darkly.
    final = tmp_path / "final.pdf"
    stamp_pdf(convention, final, number=NUMBER, fingerprint=FINGERPRINT)
    with_mark, without = render_gray(out, tmp_path / "a"), render_gray(final, tmp_path / "b")
    assert len(with_mark) == len(without)
    marked = [a for a, b in zip(with_mark, without, strict=True) if b == 255 and a < 250]
    assert len(marked) > 0.01 * len(without)
    assert min(marked) > 150
    # One watermark form for the one layout, shared by every page.
    forms: set[int] = set()
    for page_obj in PdfReader(out).pages:
        resources: Any = page_obj["/Resources"]
        stamp = resources["/XObject"]["/FFStamp"]
        forms.update(ref.idnum for ref in stamp["/Resources"]["/XObject"].values())
    assert len(forms) == 1


def test_anchors_survive_stamping(stamped: Path, tmp_path: Path) -> None:
    anchors = find_anchors(stamped)
    assert set(anchors) == {"holder-1", "commune"}
    last = len(PdfReader(stamped).pages) - 1
    assert {anchor.page for anchor in anchors.values()} == {last}
    specs = fields_from_anchors(anchors, ["holder-1", "commune"])
    out = tmp_path / "fields.pdf"
    add_signature_fields(stamped, out, specs)
    assert "sig-commune" in run("pdfsig", str(out))


# --- odd page geometries -------------------------------------------------------------

# (MediaBox, CropBox, /Rotate); displayed sizes in the comments.
GEOMETRIES: list[tuple[tuple[float, ...], tuple[float, ...] | None, int]] = [
    ((0, 0, 595, 842), None, 90),                       # 842 x 595
    ((0, 0, 595, 842), None, 0),                        # 595 x 842
    ((100, 200, 695, 1042), (150, 260, 645, 980), 0),   # 495 x 720, box off the origin
    ((0, 0, 842, 595), None, 270),                      # 595 x 842
    ((0, 0, 595, 842), (20, 30, 575, 812), 180),        # 555 x 782
]


@pytest.fixture
def odd_pdf(tmp_path: Path) -> Path:
    raw = tmp_path / "raw.pdf"
    canvas = Canvas(str(raw), invariant=1)
    for media, _, _ in GEOMETRIES:
        canvas.setPageSize((media[2], media[3]))
        canvas.drawString(media[0] + 200, media[1] + 300, "Corps du texte")
        canvas.showPage()
    canvas.save()
    writer = PdfWriter(clone_from=PdfReader(raw))
    for page, (media, crop, rotation) in zip(writer.pages, GEOMETRIES, strict=True):
        page.mediabox = RectangleObject(media)
        if crop is not None:
            page.cropbox = RectangleObject(crop)
        if rotation:
            page.rotate(rotation)
    out = tmp_path / "odd.pdf"
    writer.write(out)
    return out


def words(pdf: Path, page: int) -> tuple[float, float, dict[str, tuple[float, ...]]]:
    """Page size and displayed word boxes (top-left origin of the crop box), by poppler."""
    xml = run("pdftotext", "-cropbox", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-")
    size = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', xml)
    assert size is not None
    boxes = {
        m.group(5): tuple(float(m.group(i)) for i in range(1, 5))
        for m in re.finditer(
            r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">'
            r"([^<]*)</word>", xml)
    }
    return float(size.group(1)), float(size.group(2)), boxes


def test_stamp_is_upright_and_visible_on_rotated_and_offset_pages(
    odd_pdf: Path, tmp_path: Path
) -> None:
    out = tmp_path / "odd-stamped.pdf"
    result = stamp_pdf(odd_pdf, out, number=NUMBER, fingerprint=FINGERPRINT, draft=True)
    assert result.layouts == 4  # 595 x 842 shown twice (0 and 270 degrees): one form
    assert "No syntax or stream encoding errors" in run("qpdf", "--check", str(out))
    expected = [(842, 595), (595, 842), (495, 720), (595, 842), (555, 782)]
    for index, (width, height) in enumerate(expected, start=1):
        poppler_w, poppler_h, boxes = words(out, index)
        # poppler gives the unrotated size but word boxes as displayed.
        assert {round(poppler_w), round(poppler_h)} == {width, height}
        shown_w, shown_h = float(width), float(height)
        first, middle, last = boxes["Convention"], boxes[NUMBER], boxes[str(len(expected))]
        for x_min, y_min, x_max, y_max in (first, middle, last):
            assert 0 <= x_min < x_max <= shown_w and 0 <= y_min < y_max <= shown_h
            assert y_min > shown_h - 40  # in the bottom band
        for x_min, y_min, x_max, y_max in (first, middle):
            assert x_max - x_min > 3 * (y_max - y_min)  # long words lie flat on screen
        assert first[0] < middle[0] < last[0]  # reads left to right: upright
        assert abs((first[0] + last[2]) / 2 - shown_w / 2) < 2  # centred


def test_qr_code_upright_in_top_right_corner_of_a_rotated_first_page(
    odd_pdf: Path, tmp_path: Path
) -> None:
    out = tmp_path / "odd-stamped.pdf"
    stamp_pdf(odd_pdf, out, number=NUMBER, fingerprint=FINGERPRINT)
    prefix = tmp_path / "corner"
    # Page 1 shows as 842 x 595 pt; render its top-right quarter at 300 dpi.
    run("pdftoppm", "-r", "300", "-f", "1", "-l", "1", "-png", "-singlefile",
        "-x", str(421 * 300 // 72), "-y", "0", "-W", str(421 * 300 // 72),
        "-H", str(297 * 300 // 72), str(out), str(prefix))
    xml = run("zbarimg", "-q", "--xml", "-Sdisable", "-Sqrcode.enable",
              str(prefix.with_suffix(".png")))
    assert "orientation='UP'" in xml
    assert PAYLOAD in xml


# --- refusals ------------------------------------------------------------------------


def test_refuses_bad_inputs(odd_pdf: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    not_pdf = tmp_path / "notes.pdf"
    not_pdf.write_text("pas un PDF")
    with pytest.raises(InputError):
        stamp_pdf(not_pdf, out, number=NUMBER, fingerprint=FINGERPRINT)
    for number, fingerprint in (("", FINGERPRINT), ("FF 1", FINGERPRINT), (NUMBER, "a:b")):
        with pytest.raises(ValueError):
            stamp_pdf(odd_pdf, out, number=number, fingerprint=fingerprint)
    with pytest.raises(ConfigError):
        stamp_pdf(odd_pdf, out, number=NUMBER, fingerprint=FINGERPRINT,
                  font=tmp_path / "missing.ttf")
    assert not out.exists()


def test_refuses_a_signed_pdf(odd_pdf: Path, tmp_path: Path) -> None:
    with_field = tmp_path / "with-field.pdf"
    add_signature_fields(odd_pdf, with_field, [FieldSpec("sig-commune", 1, (50, 50, 220, 105))])
    writer = PdfWriter(clone_from=PdfReader(with_field))
    acroform: Any = writer.root_object["/AcroForm"]
    field = acroform["/Fields"][0].get_object()
    field[NameObject("/V")] = DictionaryObject({NameObject("/Type"): NameObject("/Sig")})
    signed = tmp_path / "signed.pdf"
    writer.write(signed)
    with pytest.raises(StateError):
        stamp_pdf(signed, tmp_path / "out.pdf", number=NUMBER, fingerprint=FINGERPRINT)


def test_other_font_and_in_place_atomic_write(odd_pdf: Path) -> None:
    result = stamp_pdf(odd_pdf, odd_pdf, number=NUMBER, fingerprint=FINGERPRINT,
                       font=LIBERATION)
    assert result.font == LIBERATION and result.path == odd_pdf
    assert "LiberationSans" in run("pdffonts", str(odd_pdf))
    assert "Convention n° FF_2026_001 — page 2 / 5" in page_text(odd_pdf, 2)
    assert [p.name for p in odd_pdf.parent.iterdir() if p.name.endswith(".tmp")] == []
