"""Regenerate the small templates the checker and renderer tests use (one fault each).

Run ``python tests/data/templates/build_bad_templates.py``. Tags are deliberately split
across several runs, as Word does when a clerk types or corrects them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument

HERE = Path(__file__).resolve().parent
ANCHOR = "SIG::{{ row[0].key }}::"


def _paragraph(doc: DocxDocument, *runs: str) -> None:
    p = doc.add_paragraph()
    for text in runs:
        p.add_run(text)


def _signatures(doc: DocxDocument) -> None:
    table = doc.add_table(rows=3, cols=1)
    table.cell(0, 0).text = "{%tr for row in signatory_rows %}"
    table.cell(1, 0).text = ANCHOR
    table.cell(2, 0).text = "{%tr endfor %}"


def unknown_variable(doc: DocxDocument) -> None:
    _paragraph(doc, "Convention n° {{ number }}")
    _paragraph(doc, "Projet : {{ conv", "ntion.title }}")


def unknown_nested(doc: DocxDocument) -> None:
    _paragraph(doc, "Porteurs :")
    table = doc.add_table(rows=4, cols=2)
    table.cell(0, 0).text = "Nom"
    table.cell(0, 1).text = "Type"
    table.cell(1, 0).text = "{%tr for h in convention.holders %}"
    table.cell(2, 0).text = "{{ h.name }}"
    p = table.cell(2, 1).paragraphs[0]
    p.add_run("{{ h.")
    p.add_run("nme }}")
    table.cell(3, 0).text = "{%tr endfor %}"


def unclosed_tag(doc: DocxDocument) -> None:
    _paragraph(doc, "Convention n° {{ number }}")
    _paragraph(doc, "{%p if convention.public_land %}")
    _paragraph(doc, "Occupation : {{ convention.public_land.description }}")
    _paragraph(doc, "Fin.")


def unfinished_tag(doc: DocxDocument) -> None:
    _paragraph(doc, "Convention n° {{ number }}")
    _paragraph(doc, "Titre : {{ convention.title ")


def unknown_filter(doc: DocxDocument) -> None:
    _paragraph(doc, "Convention n° {{ number }}")
    _paragraph(doc, "Début : {{ convention.schedule.start|date_fr }}")
    _paragraph(doc, "Fin : {{ convention.schedule.end|", "date_french }}")


def sandbox_class(doc: DocxDocument) -> None:
    _paragraph(doc, "{{ ''.__class__.__mro__ }}")


def sandbox_globals(doc: DocxDocument) -> None:
    _paragraph(doc, "{{ cycler.__init__.__globals__ }}")


BUILDERS: dict[str, Callable[[DocxDocument], None]] = {
    "unknown-variable": unknown_variable,
    "unknown-nested": unknown_nested,
    "unclosed-tag": unclosed_tag,
    "unfinished-tag": unfinished_tag,
    "unknown-filter": unknown_filter,
    "sandbox-class": sandbox_class,
    "sandbox-globals": sandbox_globals,
}


def build() -> None:
    for name, builder in BUILDERS.items():
        doc = Document()
        builder(doc)
        _signatures(doc)
        doc.save(str(HERE / f"{name}.docx"))


if __name__ == "__main__":
    build()
