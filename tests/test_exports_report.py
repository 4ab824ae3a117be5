"""The scheme's yearly report: a PDF/A through the Word template and LibreOffice, every
chart present as an image, the figures readable by ``pdftotext``, pages not blank; the
web page beside it; the figures themselves (the Loos-en-Gohelle headline)."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from export_fixtures import SignedWorkspace, signed_ws

from pipeline.cli import main
from pipeline.exports.report.figures import theme_of, year_figures
from pipeline.exports.sources import load_sources, select_rows
from pipeline.records.registry import Registry

__all__ = ["signed_ws"]  # fixtures, imported for pytest

CHARTS = 6


def _text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    return re.sub(r"[\s\u00a0\u202f]+", " ", out)


def test_figures_give_the_headline(signed_ws: SignedWorkspace) -> None:
    from datetime import date

    with Registry.open(signed_ws.ws.registry_path) as reg:
        sources = load_sources(signed_ws.ws, reg, select_rows(reg, year=2026))
        fig = year_figures(reg, sources, 2026, date(2026, 11, 25))
    paths = next(p for p in fig.projects if p.id == signed_ws.ids["FF-2026-CHEMINS-RURAUX"])
    assert paths.commune_total == Decimal("30000.00")
    # the farmers' paths: the commune paid 30,000 euros, about 70% less than the full cost
    assert round((1 - paths.commune_total / paths.full_cost) * 100) == 69
    assert paths.volunteer_hours == 420 and paths.theme == "Voirie et chemins"
    assert fig.count_by("holder_kinds")["association"] == 1
    assert len(fig.projects) == 5 and len(fig.signature_delays) == 4
    assert theme_of("Fresque murale") == "Culture et patrimoine"


@pytest.mark.libreoffice
def test_report_pdf_has_every_chart_and_the_figures(signed_ws: SignedWorkspace,
                                                   tmp_path: Path) -> None:
    pdf, html = tmp_path / "rapport-2026.pdf", tmp_path / "web"
    result = CliRunner().invoke(main, ["report", "--year", "2026", "-o", str(pdf), "--html",
                                       str(html), "--workspace", str(signed_ws.root)])
    assert result.exit_code == 0, result.output
    assert "Rapport" in result.stdout and "6 graphiques" in result.stdout
    assert pdf.read_bytes().startswith(b"%PDF-")
    from pipeline.documents.convert import pdfa_conformance

    assert pdfa_conformance(pdf) == "2B"
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    assert len([line for line in images if " image " in line]) == CHARTS
    assert not [line for line in images if " smask " in line]  # opaque: fine for PDF/A
    text = _text(pdf)
    for expected in ("bilan 2026", "Commune de Loos-en-Gohelle", "187 922,50 €",
                     "46 632,50 €", "75,2 % de moins que le coût complet", "940 heures",
                     "Rénovation des chemins ruraux", "30 000,00 €", "Chemins ruraux de Hulluch",
                     "domaine privé de la commune", "Obligations d'entretien",
                     "Délais de signature", "4 conventions signées"):
        assert expected in text, expected
    pages = tmp_path / "pages"
    pages.mkdir()
    subprocess.run(["pdftoppm", "-r", "30", "-gray", str(pdf), str(pages / "p")], check=True)
    rendered = sorted(pages.glob("p-*.pgm"))
    assert len(rendered) >= 3
    for page in rendered:  # every page carries ink (not blank)
        data = page.read_bytes()
        body = data[data.index(b"255\n") + 4:]
        assert sum(1 for b in body if b < 200) > 100, page.name
    index = (html / "index.html").read_text(encoding="utf-8")
    assert index.count("<img ") == CHARTS
    assert len(list(html.glob("*.png"))) == CHARTS
    assert "Rénovation des chemins ruraux" in index and "<script" not in index


def test_upkeep_met_or_overdue_from_recorded_checks(signed_ws: SignedWorkspace,
                                                    tmp_path: Path) -> None:
    from datetime import date

    from pipeline.exports.report.document import sentences

    ws = signed_ws.copy_to(tmp_path / "ws")
    cid = signed_ws.ids["FF-2026-CHEMINS-RURAUX"]
    with Registry.open(ws.registry_path) as reg:
        reg.record_event(cid, "check", "agent", {"task": 1, "on": "2026-11-20",
                                                 "outcome": "ok"})
        sources = load_sources(ws, reg, select_rows(reg, year=2026))
        before = year_figures(reg, sources, 2026, date(2026, 11, 25))
        after = year_figures(reg, sources, 2026, date(2027, 12, 1))
    paths = next(p for p in after.projects if p.id == cid)
    assert paths.upkeep_state[0] == "met"
    assert set(paths.upkeep_state[1:]) <= {"overdue"}
    assert after.upkeep_count("overdue") > 0 and after.upkeep_count("unsigned") > 0
    assert before.upkeep_count("overdue") == 0  # the works are not over yet
    assert "1 tenue" in sentences(after).upkeep
