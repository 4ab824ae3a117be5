"""The bundled template through the real LibreOffice: every example (and a record full of
awkward characters) rendered, then converted in ONE batch; the PDFs checked with qpdf,
pdftotext and pdffonts."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from render_fixtures import TEMPLATE, example_conventions, nasty

from pipeline.catalogue.loader import Catalogue
from pipeline.documents.convert import convert_batch
from pipeline.documents.frenchfmt import amount_fr, amount_words
from pipeline.documents.pdf.sigfields import find_anchors
from pipeline.documents.render import render_docx
from schemas import Convention

pytestmark = pytest.mark.libreoffice
NASTY = "NASTY"


@dataclass(frozen=True)
class Converted:
    conv: Convention
    pdf: Path

    @property
    def text(self) -> str:
        return self._text()

    @property
    def layout(self) -> str:
        """The text as laid out (the cells of a table row side by side, left first)."""
        return self._text("-layout")

    def _text(self, *options: str) -> str:
        out = subprocess.run(["pdftotext", *options, "-enc", "UTF-8", str(self.pdf), "-"],
                             capture_output=True, check=True, text=True).stdout
        return re.sub(r"[ \u00a0\u202f]+", " ", out)

    @property
    def flat(self) -> str:
        """The text on one line (words wrapped across lines joined)."""
        return re.sub(r"\s+", " ", self.text)


@pytest.fixture(scope="module")
def converted(catalogue: Catalogue, tmp_path_factory: pytest.TempPathFactory,
              ) -> dict[str, Converted]:
    out = tmp_path_factory.mktemp("pdf")
    examples = example_conventions(catalogue)
    convs = {ref: conv for ref, (conv, _fp) in examples.items()}
    convs[NASTY] = nasty(examples["FF-2026-SKATEPARK"][0])
    docs = []
    for n, (ref, conv) in enumerate(sorted(convs.items()), start=1):
        docx = out / f"{ref}.docx"
        render_docx(conv, TEMPLATE, docx, number=f"FF_2026_{n:03d}", fingerprint="f" * 64,
                    today=date(2026, 11, 25))
        docs.append(docx)
    results = convert_batch(docs, out / "pdf")
    assert all(r.ok for r in results), [r.error for r in results]
    return {r.source.stem: Converted(convs[r.source.stem], r.pdf)
            for r in results if r.pdf is not None}


def _norm(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def test_every_pdf_passes_qpdf_check(converted: dict[str, Converted]) -> None:
    for ref, item in converted.items():
        result = subprocess.run(["qpdf", "--check", str(item.pdf)], capture_output=True,
                                text=True)
        assert result.returncode == 0, (ref, result.stdout, result.stderr)


def test_every_font_is_embedded(converted: dict[str, Converted]) -> None:
    for ref, item in converted.items():
        out = subprocess.run(["pdffonts", str(item.pdf)], capture_output=True, check=True,
                             text=True).stdout.splitlines()[2:]
        assert out, ref
        names = [line.split()[0] for line in out]
        assert any("Liberation" in name for name in names), names
        for line in out:
            assert re.search(r"\s(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+$", line), line
            emb = line.split()[-5]
            assert emb == "yes", (ref, line)


def test_names_amounts_and_words(converted: dict[str, Converted]) -> None:
    for ref, item in converted.items():
        flat = item.flat
        for holder in item.conv.holders:
            assert _norm(holder.name) in flat, (ref, holder.name)
        total = item.conv.amounts.commune_total
        assert _norm(amount_fr(total)) in flat, (ref, amount_fr(total))
        assert amount_words(total) in flat, (ref, amount_words(total))
    rural = converted["FF-2026-CHEMINS-RURAUX"].flat
    assert "30 000,00 €" in rural and "trente mille euros" in rural
    assert "Association des exploitants agricoles de Loos" in rural
    assert "main-d'œuvre" in rural and "Hélène Caron" in rural


def test_optional_clauses_appear_only_when_they_apply(converted: dict[str, Converted]) -> None:
    for ref, item in converted.items():
        flat = item.flat
        assert ("Occupation du domaine public" in flat) == (ref == "FF-2026-SOLAIRE-EGLISE")
        assert ("aides de plus de 23 000 euros" in flat) == (ref == "FF-2026-CHEMINS-RURAUX")
        assert ("Participation de personnes mineures" in flat) == (
            ref in ("FF-2026-SKATEPARK", NASTY))
    skate = converted["FF-2026-SKATEPARK"].flat
    assert "Sophie Dufresne (mère)" in skate and "autorisation parentale" in skate


def test_an_anchor_per_signatory_in_signing_order(converted: dict[str, Converted]) -> None:
    """Two signatories per row, left then right, rows going down the pages; each anchor
    leaves room for a 175 pt wide field inside its half of the text width."""
    for ref, item in converted.items():
        keys = [s.key for s in item.conv.signatories]
        assert sorted(re.findall(r"SIG::([a-z0-9-]+)::", item.text)) == sorted(keys), ref
        anchors = find_anchors(item.pdf)
        middle = anchors[keys[0]].page_width / 2
        right_edge = anchors[keys[0]].page_width - 56
        for index, key in enumerate(keys):
            anchor = anchors[key]
            if index % 2 == 0:
                assert anchor.x + 175 < middle, (ref, key, anchor.x)
            else:
                assert middle < anchor.x and anchor.x + 175 < right_edge, (ref, key)
                left = anchors[keys[index - 1]]
                assert (left.page, abs(left.y - anchor.y) < 40) == (anchor.page, True)
        lefts = [anchors[key] for key in keys[::2]]
        order = [(a.page, -a.y) for a in lefts]
        assert order == sorted(order), (ref, "signature rows out of order")
        for signatory in item.conv.signatories:
            assert _norm(signatory.name) in item.flat


def test_awkward_characters_render_literally(converted: dict[str, Converted]) -> None:
    text = converted[NASTY].layout
    assert 'Café & co <b>gras</b> "guillemets" {{ x }} <w:t> 🛹 été' in text
    assert "Première ligne & <suite>" in text
    assert "Deuxième ligne {% if 1 %}oui{% endif %}" in text
    assert "😀" in text
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if "Première ligne" in line)
    assert "Deuxième ligne" in lines[first + 1], "the intake's line break is kept"


def test_header_and_no_page_numbers_of_its_own(converted: dict[str, Converted]) -> None:
    """The template numbers no page: the stamp does, once (tests/test_template_documents.py)."""
    item = converted["FF-2026-SOLAIRE-EGLISE"]
    text = item.text
    pages = text.count("\f")
    assert pages >= 3
    assert "Page 1 /" not in text and "page 1 /" not in text
    assert "COMMUNE DE LOOS-EN-GOHELLE" in text
    assert "Commune de Loos-en-Gohelle – Convention n° FF_2026_" in text
