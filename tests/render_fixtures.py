"""Validated example conventions and a record full of awkward characters, for the
rendering tests (shared by test_render.py and test_template_pdf.py)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from lxml import etree  # type: ignore[import-untyped]
from paths import PROJECT_ROOT

from pipeline.catalogue.loader import Catalogue
from pipeline.validation.validator import Validator, iter_validated
from schemas import Convention

EXAMPLES = PROJECT_ROOT / "conventions" / "examples"
TEMPLATE = PROJECT_ROOT / "templates" / "fifty-fifty.docx"
TEMPLATES_DATA = Path(__file__).resolve().parent / "data" / "templates"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

NASTY_TITLE = 'Café & co <b>gras</b> "guillemets" {{ x }} <w:t> 🛹 été'
NASTY_DESCRIPTION = "Première ligne & <suite>\nDeuxième ligne {% if 1 %}oui{% endif %}\tfin 😀"


def example_conventions(catalogue: Catalogue) -> dict[str, tuple[Convention, str]]:
    """Every accepted example record, by reference: (convention, fingerprint)."""
    paths = sorted(EXAMPLES.glob("*.json")) + sorted(EXAMPLES.glob("*.csv"))
    found: dict[str, tuple[Convention, str]] = {}
    for result in iter_validated(paths, Validator(catalogue)):
        if result.convention is not None:
            found[result.reference] = (result.convention, result.fingerprint)
    return found


def nasty(conv: Convention) -> Convention:
    """``conv`` with a title and description full of XML, Jinja and emoji."""
    project = conv.project.model_copy(update={"description": NASTY_DESCRIPTION})
    return Convention.model_validate(
        {**conv.model_dump(exclude={"amounts", "mandatory_clauses", "commitment_end",
                                    "has_minors", "signatories"}),
         "title": NASTY_TITLE, "project": project.model_dump()})


def docx_xml(path: Path, part: str = "word/document.xml") -> etree._Element:
    """A part of a DOCX, parsed strictly (a malformed part raises)."""
    with zipfile.ZipFile(path) as archive:
        return etree.fromstring(archive.read(part))


def docx_text(path: Path) -> str:
    """The text of the body, paragraph by paragraph (tables included), breaks as newlines."""
    root = docx_xml(path)
    lines = []
    for p in root.iter(f"{W}p"):
        chunks = []
        for node in p.iter(f"{W}t", f"{W}br", f"{W}tab"):
            chunks.append(node.text or "" if node.tag == f"{W}t" else
                          "\n" if node.tag == f"{W}br" else "\t")
        lines.append("".join(chunks))
    return "\n".join(lines)
