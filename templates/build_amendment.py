"""Regenerate the bundled amendment (avenant) template ``templates/amendment.docx``.

Built like ``build_template.py`` (same styles, page and signature block, whose invisible
anchors place one signature field per signatory). Names come from
``pipeline.lifecycle.amendments.amendment_context``: ``amendment`` (``id``, ``n``),
``number`` (the convention's), ``convention`` (the amended record), ``articles`` (each with
``heading`` and ``changes``: ``label``, ``before``, ``after``),
``signatory_rows``, ``today``. Run ``python templates/build_amendment.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from build_template import _page, _paragraph, _signatures, _slim, _styles
from docx import Document

OUT = Path(__file__).with_name("amendment.docx")

TEXT = (
    "! Avenant n° {{ amendment.n }} à la convention n° {{ number }}",
    "> **{{ convention.title }}**",
    "> Avenant {{ amendment.id }}",
    "Entre la commune de {{ convention.commune.name }}, représentée par "
    "{% if convention.commune.representative.name %}"
    "{{ convention.commune.representative.name }}, {% endif %}"
    "{{ convention.commune.representative.capacity }},",
    "{%p for h in convention.holders %}",
    "- et {{ h.name }} ({{ h.kind_label }}),",
    "{%p endfor %}",
    "il est convenu ce qui suit.",
    "# Objet de l'avenant",
    "Le présent avenant modifie la convention n° {{ number }}. Les modifications sont "
    "indiquées ci-dessous, article par article de la convention.",
    "# Modifications",
    "{%p for art in articles %}",
    "## {{ art.heading }}",
    "{%p for ch in art.changes %}",
    "- {{ ch.label }} : « {{ ch.before }} » est remplacé par « {{ ch.after }} ».",
    "{%p endfor %}",
    "{%p endfor %}",
    "# Autres stipulations",
    "Toutes les autres stipulations de la convention n° {{ number }} demeurent inchangées. "
    "Le présent avenant prend effet à la date de sa dernière signature.",
    "# Signatures",
    "@signatures",
)


def build(out: Path = OUT) -> Path:
    """Write the template to ``out`` and return the path."""
    doc = Document()
    _slim(doc)
    _styles(doc)
    _page(doc)
    props = doc.core_properties
    props.title, props.author = "Avenant à une convention fifty-fifty", "Commune"
    props.subject, props.comments = "Avenant", ""
    props.language, props.identifier = "fr-FR", ""
    for item in TEXT:
        if item == "@signatures":
            _signatures(doc)
        else:
            _paragraph(doc, item)
    doc.save(out)
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
