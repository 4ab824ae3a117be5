"""Regenerate the Word template of the yearly report, ``templates/rapport-annuel.docx``.

Staff may restyle the ``.docx`` in Word or LibreOffice; this script rebuilds the bundled
version (run ``python templates/build_report_template.py``). Tags are docxtpl's Jinja
dialect; ``{%tr ... %}`` stands alone in a table row that disappears. The names come from
``pipeline.exports.report.document.report_context``: every figure arrives already
formatted in French, every chart as an image (``{{ charts.themes }}``).

Fonts: Liberation Sans (headings, tables) and Liberation Serif (text). A4, 2 cm margins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

OUT = Path(__file__).resolve().parent / "rapport-annuel.docx"
SERIF, SANS = "Liberation Serif", "Liberation Sans"


def _fonts(style: Any, name: str, size: float) -> None:
    style.font.name, style.font.size = name, Pt(size)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        if attr.endswith("Theme"):
            del fonts.attrib[attr]
    for slot in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(slot), name)


def _setup(doc: Any) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    _fonts(doc.styles["Normal"], SERIF, 11)
    _fonts(doc.styles["Title"], SANS, 22)
    _fonts(doc.styles["Heading 1"], SANS, 15)
    _fonts(doc.styles["Heading 2"], SANS, 12)
    for name in ("Title", "Heading 1", "Heading 2"):
        doc.styles[name].font.color.rgb = None
    footer = section.footer.paragraphs[0]
    footer.text = "Dispositif fifty-fifty — bilan {{ year }} — Commune de {{ commune }}"
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _table(doc: Any, headers: list[str], loop: str, cells: list[str]) -> None:
    table = doc.add_table(rows=3, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    header = table.rows[0]._tr.get_or_add_trPr()
    header.append(OxmlElement("w:tblHeader"))
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    table.rows[1].cells[0].text = f"{{%tr for row in {loop} %}}"
    for cell, text in zip(table.rows[2].cells, cells, strict=True):
        cell.text = text
    end = table.add_row()
    end.cells[0].text = "{%tr endfor %}"
    for row in table.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.name, run.font.size = SANS, Pt(9)
    doc.add_paragraph()


def _chart(doc: Any, key: str) -> None:
    p = doc.add_paragraph("{{ charts.%s }}" % key)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def build(out: Path = OUT) -> Path:
    doc = Document()
    _setup(doc)
    doc.add_paragraph("Dispositif fifty-fifty : bilan {{ year }}", style="Title")
    doc.add_paragraph("Commune de {{ commune }}. Rapport établi le {{ today }}.")
    doc.add_paragraph("L'essentiel", style="Heading 1")
    doc.add_paragraph("{{ headline }}")
    doc.add_paragraph("{{ inhabitants_sentence }}")
    note = doc.add_paragraph("{{ method_note }}")
    for run in note.runs:
        run.font.size, run.italic = Pt(9), True
    doc.add_paragraph("1. Les projets", style="Heading 1")
    doc.add_paragraph("{{ projects_sentence }}")
    _chart(doc, "holders")
    _chart(doc, "themes")
    _table(doc, ["N°", "Projet", "Porteur", "Thème", "État"], "projects",
           ["{{ row.id }}", "{{ row.title }}", "{{ row.holders }}", "{{ row.theme }}",
            "{{ row.status }}"])
    doc.add_paragraph("2. Ce que la commune a apporté, ce que les habitants ont apporté",
                      style="Heading 1")
    _chart(doc, "contributions")
    _chart(doc, "total")
    _table(doc, ["N°", "Commune : argent", "Commune : aide technique", "Habitants",
                 "Autres", "Coût complet", "Part commune"], "money",
           ["{{ row.id }}", "{{ row.money }}", "{{ row.technical }}", "{{ row.inhabitants }}",
            "{{ row.other }}", "{{ row.full }}", "{{ row.share }}"])
    doc.add_paragraph("{{ totals_sentence }}")
    doc.add_paragraph("3. Bénévolat et participants", style="Heading 1")
    doc.add_paragraph("{{ volunteers_sentence }}")
    _chart(doc, "hours")
    doc.add_paragraph("4. Délais de signature", style="Heading 1")
    doc.add_paragraph("{{ delays_sentence }}")
    _chart(doc, "delays")
    doc.add_paragraph("5. Obligations d'entretien", style="Heading 1")
    doc.add_paragraph("{{ upkeep_sentence }}")
    _table(doc, ["N°", "Entretien", "Jusqu'au", "Situation"], "upkeep",
           ["{{ row.id }}", "{{ row.task }}", "{{ row.until }}", "{{ row.state }}"])
    doc.add_paragraph("6. Les lieux des projets", style="Heading 1")
    _table(doc, ["N°", "Projet", "Lieu", "Statut du terrain"], "places",
           ["{{ row.id }}", "{{ row.title }}", "{{ row.place }}", "{{ row.land }}"])
    doc.core_properties.title = "Dispositif fifty-fifty : bilan annuel"
    doc.core_properties.author = "fiftyfifty"
    doc.save(out)
    return out


if __name__ == "__main__":
    print(build())
