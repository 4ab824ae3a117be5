"""``fiftyfifty run`` end to end on the bundled examples, with the real LibreOffice.

The batch runs once per module; each test reads what it produced with real readers
(qpdf, pdftotext, pdffonts, zbarimg, pypdf)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from pipeline.cli import main

pytestmark = pytest.mark.libreoffice


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, examples_dir: Path) -> dict[str, Any]:
    ws = tmp_path_factory.mktemp("run") / "ws"
    inputs = sorted(str(p) for p in examples_dir.iterdir())
    result = cli("run", *inputs, "--workspace", str(ws), "--json")
    summary = json.loads(result.stdout)
    return {"ws": ws, "inputs": inputs, "exit": result.exit_code, "summary": summary}


def by_ref(batch: dict[str, Any], ref: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in batch["summary"]["conventions"]
                                 if c["reference"] == ref)
    return found


def pdf_of(batch: dict[str, Any], ref: str) -> Path:
    relpath: str = by_ref(batch, ref)["pdf"]
    return Path(batch["ws"]) / relpath


def text(pdf: Path, *extra: str) -> str:
    return subprocess.run(["pdftotext", "-layout", *extra, str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout


REFS = ["FF-2026-JARDIN-PARTAGE", "FF-2026-NICHOIRS-ECOLE", "FF-2026-CHEMINS-RURAUX",
        "FF-2026-SKATEPARK", "FF-2026-SOLAIRE-EGLISE"]


def test_summary_counts_and_exit_code(batch: dict[str, Any]) -> None:
    s = batch["summary"]
    assert batch["exit"] == 1  # the public-meeting CSV has one wrong row
    assert (s["accepted"], s["rejected"]) == (5, 1)
    assert sorted(c["reference"] for c in s["conventions"]) == sorted(REFS)
    ids = [c["id"] for c in s["conventions"]]
    assert len(set(ids)) == 5 and all(re.fullmatch(r"FF_2026_\d{3}", i) for i in ids)
    assert {c["status"] for c in s["conventions"]} == {"generated"}
    rejected = {(i["source"], i["row"]) for i in s["issues"] if i["severity"] == "error"}
    assert rejected == {("public-meeting-2026-11.csv", 4)}
    assert Path(s["report"]).is_file()


@pytest.mark.parametrize("ref", REFS)
def test_pdf_is_sound_and_fonts_embedded(batch: dict[str, Any], ref: str) -> None:
    pdf = pdf_of(batch, ref)
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(["qpdf", "--check", str(pdf)], check=True, capture_output=True)
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True,
                           text=True).stdout.splitlines()[2:]
    assert fonts, "no fonts listed"
    for line in fonts:
        assert line.split()[-5] == "yes", f"font not embedded: {line}"


@pytest.mark.parametrize("ref", REFS)
def test_every_page_is_stamped(batch: dict[str, Any], ref: str) -> None:
    pdf = pdf_of(batch, ref)
    conv_id = by_ref(batch, ref)["id"]
    pages = len(PdfReader(pdf).pages)
    assert pages >= 3
    for n in range(1, pages + 1):
        page_text = text(pdf, "-f", str(n), "-l", str(n))
        assert f"Convention n° {conv_id} — page {n} / {pages}" in page_text


def test_text_shows_names_amounts_and_accents(batch: dict[str, Any]) -> None:
    body = text(pdf_of(batch, "FF-2026-CHEMINS-RURAUX"))
    flat = re.sub(r"\s+", " ", body.replace("\u202f", " ").replace("\u00a0", " "))
    assert "Association des exploitants agricoles de Loos" in flat
    assert "Bernard Lemaire" in flat
    assert "30 000,00 €" in flat
    assert "trente mille euros" in flat
    assert "main-d'œuvre" in flat or "main-d’œuvre" in flat
    skate = re.sub(r"\s+", " ", text(pdf_of(batch, "FF-2026-SKATEPARK")))
    for name in ("Sophie Dufresne", "Karim Benali", "Julie Lefebvre", "Léo Dufresne"):
        assert name in skate


def test_qr_code_decodes_to_number_and_fingerprint(batch: dict[str, Any],
                                                   tmp_path: Path) -> None:
    conv = by_ref(batch, "FF-2026-SOLAIRE-EGLISE")
    pdf = pdf_of(batch, "FF-2026-SOLAIRE-EGLISE")
    # The top-right corner of page 1 at 200 dpi, where the stamp puts the code.
    subprocess.run(["pdftoppm", "-r", "200", "-f", "1", "-l", "1", "-x", "800", "-y", "0",
                    "-W", "850", "-H", "500", "-png", str(pdf), str(tmp_path / "p")],
                   check=True)
    png = next(tmp_path.glob("p*.png"))
    out = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True,
                         text=True).stdout.strip()
    show = json.loads(cli("registry", "show", conv["id"], "--workspace",
                          str(batch["ws"]), "--json").stdout)
    fingerprint = show["convention"]["fingerprint"] if "convention" in show \
        else show["fingerprint"]
    assert out == f"fiftyfifty:{conv['id']}:{fingerprint}"


def _word_boxes(pdf: Path, page: int) -> list[tuple[str, float, float]]:
    """(word, x, y from the bottom) of each word on a page, via poppler."""
    html = subprocess.run(["pdftotext", "-bbox", "-f", str(page + 1), "-l", str(page + 1),
                           str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    height = float(re.search(r'<page width="[\d.]+" height="([\d.]+)"', html).group(1))  # type: ignore[union-attr]
    return [(w, float(x), height - float(y)) for x, y, w in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', html)]


def test_signature_fields_lie_on_their_signatory_cell(batch: dict[str, Any]) -> None:
    pdf = pdf_of(batch, "FF-2026-SKATEPARK")
    conv = by_ref(batch, "FF-2026-SKATEPARK")
    show = json.loads(cli("registry", "show", conv["id"], "--workspace", str(batch["ws"]),
                          "--json").stdout)
    signatories = show["signatories"]
    reader = PdfReader(pdf)
    fields: dict[str, tuple[int, list[float]]] = {}
    for index, pdf_page in enumerate(reader.pages):
        for annot in pdf_page.get("/Annots") or []:
            a = annot.get_object()
            if a.get("/FT") == "/Sig" or a.get("/Parent", {}).get("/FT") == "/Sig":
                name = a.get("/T") or a["/Parent"]["/T"]
                fields[str(name)] = (index, [float(v) for v in a["/Rect"]])
    assert sorted(fields) == sorted(f"sig-{s['key']}" for s in signatories)
    for s in signatories:
        page, (x1, y1, x2, y2) = fields[f"sig-{s['key']}"]
        words = _word_boxes(pdf, page)
        first, last = s["name"].split()[0], s["name"].split()[-1]
        spots = [(x, y) for i, (w, x, y) in enumerate(words)
                 if w == first and i + 1 < len(words) and words[i + 1][0] == last]
        assert spots, f"{s['name']} not found on page {page + 1}"
        # The name heads the cell; the field sits below it, in the same column.
        assert any(abs(x1 - x) < 12 and 0 < y - y2 < 90 for x, y in spots), (s, fields)
        assert x2 - x1 >= 150 and y2 - y1 >= 40


def test_rerun_creates_nothing_new(batch: dict[str, Any]) -> None:
    before = sorted(p.relative_to(batch["ws"]) for p in (batch["ws"] / "archive").rglob("*"))
    again = cli("run", *batch["inputs"], "--workspace", str(batch["ws"]), "--json")
    summary = json.loads(again.stdout)
    assert again.exit_code == 1
    assert {c["action"] for c in summary["conventions"]} == {"unchanged"}
    assert sorted(c["id"] for c in summary["conventions"]) == sorted(
        c["id"] for c in batch["summary"]["conventions"])
    after = sorted(p.relative_to(batch["ws"]) for p in (batch["ws"] / "archive").rglob("*"))
    assert after == before
    check = cli("archive", "verify", "--workspace", str(batch["ws"]), "--json")
    assert check.exit_code == 0, check.stdout


def test_changed_record_becomes_version_2(batch: dict[str, Any], tmp_path: Path,
                                          examples_dir: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(batch["ws"], ws)
    data = json.loads((examples_dir / "skatepark.json").read_text(encoding="utf-8"))
    data["project"]["description"] += " Un banc sera ajouté."
    changed = tmp_path / "skatepark.json"
    changed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = cli("run", str(changed), "--workspace", str(ws), "--json")
    summary = json.loads(result.stdout)
    assert result.exit_code == 0, result.stdout
    (conv,) = summary["conventions"]
    old = by_ref(batch, "FF-2026-SKATEPARK")
    assert (conv["id"], conv["version"], conv["action"]) == (old["id"], 2, "new_version")
    assert (ws / old["pdf"]).is_file(), "version 1 must be kept"
    v2 = ws / conv["pdf"]
    assert v2 != ws / old["pdf"] and "Un banc sera ajouté." in re.sub(r"\s+", " ", text(v2))
    assert cli("archive", "verify", "--workspace", str(ws)).exit_code == 0
