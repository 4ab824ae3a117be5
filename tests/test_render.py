"""Rendering with docxtpl: context, sandbox, escaping, determinism, optional clauses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from render_fixtures import (
    NASTY_DESCRIPTION,
    NASTY_TITLE,
    TEMPLATE,
    TEMPLATES_DATA,
    W,
    docx_text,
    docx_xml,
    example_conventions,
    nasty,
)

from pipeline.catalogue.loader import Catalogue
from pipeline.core.errors import TemplateError
from pipeline.documents.render import CONTEXT_TYPES, SignatureCell, build_context, render_docx
from schemas import Convention

TODAY = date(2026, 11, 25)
#: The example conventions by reference, each with its fingerprint.
Examples = dict[str, tuple[Convention, str]]


@pytest.fixture(scope="module")
def examples(catalogue: Catalogue) -> Examples:
    found = example_conventions(catalogue)
    assert {"FF-2026-SKATEPARK", "FF-2026-SOLAIRE-EGLISE", "FF-2026-CHEMINS-RURAUX"} <= set(found)
    return found


@pytest.fixture(scope="module")
def rendered(examples: Examples,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The body text of every example, rendered once."""
    out = tmp_path_factory.mktemp("docx")
    texts = {}
    for n, (ref, (conv, fp)) in enumerate(sorted(examples.items()), start=1):
        path = out / f"{ref}.docx"
        render_docx(conv, TEMPLATE, path, number=f"FF_2026_{n:03d}", fingerprint=fp,
                    today=TODAY)
        texts[ref] = docx_text(path)
    return texts


def _render(conv: Convention, out: Path, **kw: object) -> Path:
    args: dict[str, object] = {"number": "FF_2026_007", "fingerprint": "ab" * 32,
                               "today": TODAY, **kw}
    render_docx(conv, TEMPLATE, out, **args)  # type: ignore[arg-type]
    return out


def test_context_names_match_the_declared_types(examples: Examples) -> None:
    conv, fp = examples["FF-2026-CHEMINS-RURAUX"]
    ctx = build_context(conv, number="FF_2026_001", fingerprint=fp, today=TODAY)
    assert set(ctx) == set(CONTEXT_TYPES)
    c = ctx["convention"]
    assert isinstance(c["schedule"]["start"], date)
    assert isinstance(c["amounts"]["commune_money"], Decimal)
    assert c["amounts"]["commune_money"] == Decimal("30000.00")
    assert c["mandatory_clauses"] is True
    assert c["holders"][0]["kind_label"] == "association"
    assert c["holders"][0]["identifier"] == "RNA W623004512"
    assert c["holder_commitments"]["in_kind"][2]["total"] == Decimal("6300.00")
    assert [s["key"] for s in c["signatories"]] == ["holder-1", "commune"]


def test_signatory_rows_are_pairs_in_signing_order(examples: Examples) -> None:
    conv, fp = examples["FF-2026-SKATEPARK"]
    rows = build_context(conv, number="X", fingerprint=fp, today=TODAY)["signatory_rows"]
    assert all(len(row) == 2 for row in rows)
    keys = [cell.key for row in rows for cell in row]
    assert keys == ["guardian-1", "guardian-1-1", "guardian-1-2", "commune"]
    conv2, fp2 = examples["FF-2026-SOLAIRE-EGLISE"]
    rows2 = build_context(conv2, number="X", fingerprint=fp2, today=TODAY)["signatory_rows"]
    assert [[c.key for c in row] for row in rows2] == [["holder-1", "commune"]]
    odd = conv.model_copy(update={"signatories_override": conv.signatories[:3]})
    last = build_context(odd, number="X", fingerprint=fp, today=TODAY)["signatory_rows"][-1]
    assert last[1] == SignatureCell()


def test_every_example_renders_names_amounts_and_words(
        examples: Examples, rendered: dict[str, str]) -> None:
    for ref, (conv, _fp) in examples.items():
        text = rendered[ref]
        for holder in conv.holders:
            assert holder.name in text, (ref, holder.name)
        for signatory in conv.signatories:
            assert f"SIG::{signatory.key}::" in text
            assert signatory.name in text
    rural = rendered["FF-2026-CHEMINS-RURAUX"]
    assert "30\u202f000,00\u00a0€" in rural and "(trente mille euros)" in rural
    assert "20 novembre 2026" in rural and "2026-089" in rural


def test_optional_clauses_follow_the_record(rendered: dict[str, str]) -> None:
    land, mandatory, minors = ("Occupation du domaine public",
                               "aides de plus de 23 000 euros",
                               "Participation de personnes mineures")
    for ref, text in rendered.items():
        assert (land in text) == (ref == "FF-2026-SOLAIRE-EGLISE"), ref
        assert (mandatory in text) == (ref == "FF-2026-CHEMINS-RURAUX"), ref
        assert (minors in text) == (ref == "FF-2026-SKATEPARK"), ref
        assert "{%" not in text and "{{" not in text, ref


def test_articles_are_numbered_consecutively(rendered: dict[str, str]) -> None:
    import re

    for ref, text in rendered.items():
        numbers = [int(n) for n in re.findall(r"^Article (\d+) – ", text, re.M)]
        assert numbers == list(range(1, len(numbers) + 1)), ref
        assert len(numbers) >= 14


def test_same_intake_same_clock_same_text(examples: Examples, tmp_path: Path) -> None:
    conv, fp = examples["FF-2026-SKATEPARK"]
    one = docx_text(_render(conv, tmp_path / "a.docx", fingerprint=fp))
    two = docx_text(_render(conv, tmp_path / "b.docx", fingerprint=fp))
    assert one == two
    other_day = docx_text(_render(conv, tmp_path / "c.docx", fingerprint=fp, draft=True,
                                  today=date(2027, 1, 1)))
    assert "1er janvier 2027" in other_day and "1er janvier 2027" not in one


def test_draft_and_version_show_on_the_title_page(examples: Examples, tmp_path: Path) -> None:
    conv, _fp = examples["FF-2026-SOLAIRE-EGLISE"]
    text = docx_text(_render(conv, tmp_path / "d.docx", draft=True, version=2))
    assert "PROJET" in text and "version 2" in text
    header = docx_xml(tmp_path / "d.docx", "word/header1.xml")
    assert "FF_2026_007" in "".join(header.itertext())


def test_awkward_text_is_plain_text_and_the_docx_stays_valid(
        examples: Examples, tmp_path: Path) -> None:
    conv, _fp = examples["FF-2026-SKATEPARK"]
    out = _render(nasty(conv), tmp_path / "nasty.docx")
    text = docx_text(out)  # parsed strictly: malformed XML would raise
    assert NASTY_TITLE in text
    assert NASTY_DESCRIPTION in text  # the newline came back from a <w:br/>, the tab a <w:tab/>
    root = docx_xml(out)
    para = next(p for p in root.iter(f"{W}p") if "Première ligne" in "".join(p.itertext()))
    assert para.findall(f".//{W}br"), "a line break of the intake must become a Word break"
    assert "<b>gras</b>" in "".join(para.itertext()) or NASTY_TITLE in text


@pytest.mark.parametrize("name", ["sandbox-class", "sandbox-globals"])
def test_sandbox_blocks_python_internals(examples: Examples, tmp_path: Path, name: str) -> None:
    conv, fp = examples["FF-2026-SKATEPARK"]
    with pytest.raises(TemplateError, match="sandbox forbids"):
        render_docx(conv, TEMPLATES_DATA / f"{name}.docx", tmp_path / "x.docx",
                    number="X", fingerprint=fp, today=TODAY)
    assert not (tmp_path / "x.docx").exists()


def test_unknown_name_is_a_template_error(examples: Examples, tmp_path: Path) -> None:
    conv, fp = examples["FF-2026-SKATEPARK"]
    with pytest.raises(TemplateError, match="convntion"):
        render_docx(conv, TEMPLATES_DATA / "unknown-variable.docx", tmp_path / "x.docx",
                    number="X", fingerprint=fp, today=TODAY)


def test_missing_or_corrupt_template(examples: Examples, tmp_path: Path) -> None:
    conv, fp = examples["FF-2026-SKATEPARK"]
    with pytest.raises(TemplateError, match="not found"):
        render_docx(conv, tmp_path / "nope.docx", tmp_path / "x.docx", number="X",
                    fingerprint=fp, today=TODAY)
    bad = tmp_path / "bad.docx"
    bad.write_text("not a zip", encoding="utf-8")
    with pytest.raises(TemplateError, match="not a Word document"):
        render_docx(conv, bad, tmp_path / "x.docx", number="X", fingerprint=fp, today=TODAY)


# ------------------------------------------------------------------ properties, boxes, French


def test_document_properties_name_the_convention(examples: Examples, tmp_path: Path) -> None:
    from docx import Document

    conv, _fp = examples["FF-2026-SKATEPARK"]
    props = Document(str(_render(conv, tmp_path / "p.docx"))).core_properties
    assert props.title == f"Convention n° FF_2026_007 – {conv.title}"
    assert props.author == "Commune de Loos-en-Gohelle"
    assert props.keywords == "FF_2026_007, FF-2026-SKATEPARK, fifty-fifty"
    assert props.language == "fr-FR"
    styles = docx_xml(TEMPLATE, "word/styles.xml")
    lang = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang")
    assert lang is not None and lang.get(f"{W}val") == "fr-FR"


def test_metadata_text_avoids_what_libreoffice_escapes_twice() -> None:
    from pipeline.documents.render import metadata_text

    assert metadata_text("L'école & <b>\"x\"</b>") == "L\u2019école et \u2039b\u203a\u201dx\u201d" \
        "\u2039/b\u203a"


def test_one_font_size_in_every_signature_box(examples: Examples, tmp_path: Path) -> None:
    """Every visible run of the signature table is 10 pt (the anchors are 2 pt, white)."""
    conv, _fp = examples["FF-2026-SKATEPARK"]
    body = docx_xml(_render(conv, tmp_path / "s.docx"))
    table = body.findall(f".//{W}tbl")[-1]
    sizes = set()
    for run in table.iter(f"{W}r"):
        text = "".join(t.text or "" for t in run.iter(f"{W}t"))
        size = run.find(f"{W}rPr/{W}sz")
        if text.strip() and not text.startswith("SIG::"):
            sizes.add(size.get(f"{W}val") if size is not None else None)
    assert sizes == {"20"}


def test_appearance_font_size_depends_on_the_box_only() -> None:
    """Two signatories, a short and a long capacity: the same size in both boxes."""
    import io
    import re
    from datetime import UTC, datetime

    from pypdf import PdfReader

    from pipeline.signatures.appearance import appearance_text, render_appearance_pdf

    when = datetime(2026, 11, 25, 14, 3, tzinfo=UTC)
    sizes = []
    for capacity in ("le Maire", "présidente de l'association des jardiniers du quartier"):
        text = appearance_text("Hélène Caron", capacity, when, place="Loos-en-Gohelle")
        assert text.date == "à Loos-en-Gohelle, le 25 novembre 2026 à 14:03"
        page = PdfReader(io.BytesIO(render_appearance_pdf(text, 230, 70))).pages[0]
        content = page.get_contents()
        assert content is not None
        sizes.append(set(re.findall(rb"([\d.]+) Tf", content.get_data())))
    assert sizes[0] == sizes[1] and len(sizes[0]) == 1
    assert appearance_text("A", "b", when).date == "le 25 novembre 2026 à 14:03"


@pytest.mark.parametrize("name, expected", [
    ("Inès Moreau", "d'Inès Moreau"), ("Hélène", "d'Hélène"), ("Yanis", "de Yanis"),
    ("Yves", "d'Yves"), ("Léo", "de Léo"), ("Le Touquet", "du Touquet"),
    ("Les Mureaux", "des Mureaux"), ("La Bassée", "de la Bassée"), ("Arras", "d'Arras"),
])
def test_de_elides_and_contracts(name: str, expected: str) -> None:
    from pipeline.documents.frenchfmt import FILTERS

    assert FILTERS["de"](name) == expected


def test_batch_wording_in_the_word_document(catalogue: Catalogue, tmp_path: Path) -> None:
    """The hand-made batch: a minor girl, an informal group, an association in kind only."""
    from pipeline.validation.validator import Validator, iter_validated

    batch = Path(__file__).parent / "data" / "documents" / "three-holders.json"
    texts = {}
    for result in iter_validated([batch], Validator(catalogue)):
        assert result.convention is not None, [i.message for i in result.issues]
        texts[result.reference] = docx_text(_render(result.convention,
                                                     tmp_path / f"{result.reference}.docx"))
    three, in_kind = texts["FF-2026-JARDIN-PROVINCES"], texts["FF-2026-NATURE-SEULE"]
    for text in (three, in_kind):
        assert "(e)" not in text and "(mineur)" not in text
        assert not any(line.strip() == "0,00\u00a0€" for line in text.splitlines())
        assert "Bénéficiaire" not in text and "de Inès" not in text
    assert "mère d'Inès Moreau, personne mineure" in three
    assert "Annexe 2 : Autorisations parentales des personnes mineures." in three
    assert "Vu la loi n° 2021-1109 du 24 août 2021" in in_kind
    assert "mandat administratif" not in in_kind and "Les achats directs" not in in_kind
