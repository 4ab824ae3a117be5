"""The template read once (PackageTemplate) writes what docxtpl alone writes."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from render_fixtures import TEMPLATE, example_conventions, nasty

from pipeline.catalogue.loader import Catalogue
from pipeline.documents import render
from pipeline.documents.docx_package import PackageTemplate
from schemas import Convention

TODAY = date(2026, 11, 25)


def _both(conv: Convention, fingerprint: str) -> tuple[bytes, bytes]:
    """The document rendered from the prepared package, and by docxtpl as a whole."""
    context = render.build_context(conv, number="FF_2026_012", fingerprint=fingerprint,
                                   today=TODAY)
    props = render.document_properties(conv, "FF_2026_012")
    prepared = render._prepare(TEMPLATE)
    fast = render._render_bytes(prepared, TEMPLATE, context, props)
    assert isinstance(prepared.package, PackageTemplate)
    whole = render._Prepared(prepared.data, prepared.env, package=None)
    return fast, render._render_bytes(whole, TEMPLATE, context, props)


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("nasty_text", [False, True], ids=["example", "xml-jinja-emoji"])
def test_every_part_is_the_one_docxtpl_writes(catalogue: Catalogue, nasty_text: bool) -> None:
    for conv, fingerprint in example_conventions(catalogue).values():
        fast, whole = _both(nasty(conv) if nasty_text else conv, fingerprint)
        fast_parts, whole_parts = _parts(fast), _parts(whole)
        assert fast_parts.keys() == whole_parts.keys()
        for name, data in whole_parts.items():
            assert fast_parts[name] == data, name


def test_a_template_with_footnotes_is_rendered_by_docxtpl_whole() -> None:
    source = _parts(TEMPLATE.read_bytes())
    notes = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
             'main"/>')
    types = source["[Content_Types].xml"].decode().replace(
        "</Types>", '<Override PartName="/word/footnotes.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/></Types>')
    rels = source["word/_rels/document.xml.rels"].decode().replace(
        "</Relationships>", '<Relationship Id="rId99" Type="http://schemas.openxmlformats.'
        'org/officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/>'
        "</Relationships>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in {**source, "[Content_Types].xml": types.encode(),
                           "word/_rels/document.xml.rels": rels.encode(),
                           "word/footnotes.xml": notes.encode()}.items():
            archive.writestr(name, data)
    assert PackageTemplate.prepare(out.getvalue()) is None
    assert PackageTemplate.prepare(TEMPLATE.read_bytes()) is not None
