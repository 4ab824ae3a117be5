"""The benchmark's record generator and the fast paths the main job uses.

Generator: the same seed gives the same records, every record is valid, the batch covers
the cases staff meet (five holder kinds, minors, public land, aid above 23,000 euros), and
the CSV layout validates to the same conventions as the JSON one.

Fast paths: the targeted anchor search finds what the full search finds; the in-memory
stamp and fields are incremental updates that real tools read (pypdf, pdftotext, pdfsig,
qpdf); validation without fingerprints reports exactly the same issues.
"""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from paths import PROJECT_ROOT
from pypdf import PdfReader, PdfWriter

from pipeline.catalogue.loader import Catalogue
from pipeline.documents.convert import convert_batch
from pipeline.documents.pdf.anchors import bookmark_name
from pipeline.documents.pdf.sigfields import (
    fields_from_anchors,
    find_anchors,
    signature_fields_bytes,
)
from pipeline.documents.pdf.stamp import stamp_bytes
from pipeline.documents.render import render_docx
from pipeline.intake.flat import FlatKeyError, check_key
from pipeline.validation.validator import Validated, Validator, iter_validated

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
import conversion
import generate

N = 60


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=300).stdout


def validated(path: Path, catalogue: Catalogue, **kw: bool) -> list[Validated]:
    return list(iter_validated([path], Validator(catalogue, **kw)))


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate.write_json(tmp_path_factory.mktemp("bench") / "records.json", N)


def test_same_seed_same_records_other_seed_other_records() -> None:
    first = list(generate.iter_records(20))
    assert first == list(generate.iter_records(20))
    assert first != list(generate.iter_records(20, seed=7))
    assert len({r["reference"] for r in first}) == 20


def test_every_record_is_valid_and_the_batch_is_varied(records: Path,
                                                       catalogue: Catalogue) -> None:
    results = validated(records, catalogue)
    assert len(results) == N
    assert all(v.accepted for v in results), [v.issues for v in results if not v.accepted][:1]
    convs = [v.convention for v in results if v.convention is not None]
    kinds = {h.kind for c in convs for h in c.holders}
    assert kinds == {"person", "group", "association", "school", "company"}
    assert any(c.has_minors for c in convs)
    assert any(c.public_land is not None for c in convs)
    assert any(c.mandatory_clauses for c in convs)  # aid above 23,000 euros
    assert any(len(c.holders) > 1 for c in convs)
    assert len({c.amounts.commune_total for c in convs}) > N // 2


def test_csv_layout_gives_the_same_conventions(tmp_path: Path, records: Path,
                                               catalogue: Catalogue) -> None:
    csv_path = generate.write_csv(tmp_path / "records.csv", N)
    from_csv = validated(csv_path, catalogue)
    from_json = validated(records, catalogue)
    assert [v.fingerprint for v in from_csv] == [v.fingerprint for v in from_json]
    assert all(v.fingerprint for v in from_csv)


def test_validation_without_fingerprints_reports_the_same(records: Path,
                                                          catalogue: Catalogue) -> None:
    full = validated(records, catalogue)
    light = validated(records, catalogue, fingerprints=False)
    assert [v.issues for v in light] == [v.issues for v in full]
    assert [v.reference for v in light] == [v.reference for v in full]
    assert {v.fingerprint for v in light} == {""}


def test_column_names_are_still_checked_after_caching() -> None:
    assert check_key("holders.0.name") == ["holders", 0, "name"]
    assert check_key("holders.0.name") == ["holders", 0, "name"]
    for bad in ("0.name", "holders..name", "Holders.0"):
        for _ in range(2):
            with pytest.raises(FlatKeyError):
                check_key(bad)


@pytest.fixture(scope="module")
def converted(records: Path, catalogue: Catalogue,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A generated convention with minors (guardians sign), rendered and converted."""
    folder = tmp_path_factory.mktemp("converted")
    v = next(v for v in validated(records, catalogue)
             if v.convention is not None and v.convention.has_minors)
    assert v.convention is not None
    template = catalogue.template_path(catalogue.get(v.convention.convention_type))
    docx = folder / "FF_2026_001.docx"
    render_docx(v.convention, template, docx, number="FF_2026_001",
                fingerprint=v.fingerprint, today=date(2026, 11, 25))
    [result] = convert_batch([docx], folder / "pdf", workers=1)
    assert result.ok and result.pdf is not None
    return result.pdf, [s.key for s in v.convention.signatories]


def test_anchors_come_from_named_destinations_where_the_text_is(
        converted: tuple[Path, list[str]]) -> None:
    pdf, keys = converted
    names = {str(name).lstrip("/") for name in PdfReader(pdf).named_destinations}
    assert {bookmark_name(key) for key in keys} <= names
    text = find_anchors(pdf)  # no keys: the text of every page is read
    fast = find_anchors(pdf.read_bytes(), keys)
    assert set(keys) <= set(text)
    for key in keys:
        assert fast[key].page == text[key].page
        assert abs(fast[key].x - text[key].x) < 2 and abs(fast[key].y - text[key].y) < 2


def test_without_destinations_the_targeted_text_search_finds_the_same(
        converted: tuple[Path, list[str]]) -> None:
    pdf, keys = converted
    writer = PdfWriter(clone_from=pdf)
    root = writer.root_object
    for key in ("/Dests", "/Names"):
        if key in root:
            del root[key]
    buffer = io.BytesIO()
    writer.write(buffer)
    bare = buffer.getvalue()
    assert not PdfReader(io.BytesIO(bare)).named_destinations
    full = find_anchors(pdf)
    targeted = find_anchors(bare, keys)
    # (pypdf rounds the page box when it rewrites the file: compare the places)
    assert {k: (targeted[k].page, targeted[k].x, targeted[k].y) for k in keys} == {
        k: (full[k].page, full[k].x, full[k].y) for k in keys}


def test_in_memory_stamp_and_fields_are_incremental_updates(
        converted: tuple[Path, list[str]], tmp_path: Path) -> None:
    pdf, keys = converted
    source = pdf.read_bytes()
    stamped = stamp_bytes(source, number="FF_2026_001", fingerprint="ab" * 32)
    specs = fields_from_anchors(find_anchors(source, keys), keys)
    final = signature_fields_bytes(stamped, specs)
    assert stamped.startswith(source) and final.startswith(stamped)
    out = tmp_path / "final.pdf"
    out.write_bytes(final)
    assert "No syntax or stream encoding errors" in run("qpdf", "--check", str(out))
    pages = len(PdfReader(out).pages)
    for page in range(1, pages + 1):
        text = run("pdftotext", "-f", str(page), "-l", str(page), str(out), "-")
        assert f"Convention n° FF_2026_001 — page {page} / {pages}" in text
    listed = run("pdfsig", str(out))
    for key in keys:
        assert f"sig-{key}" in listed
    root: Any = PdfReader(out).trailer["/Root"]
    assert b"pdfaid:part" in root["/Metadata"].get_data()


def test_stamp_and_fields_in_one_update(converted: tuple[Path, list[str]],
                                        tmp_path: Path) -> None:
    pdf, keys = converted
    source = pdf.read_bytes()
    specs = fields_from_anchors(find_anchors(source, keys), keys)
    final = stamp_bytes(source, number="FF_2026_001", fingerprint="ab" * 32, fields=specs)
    assert final.startswith(source)
    assert final.count(b"startxref") == source.count(b"startxref") + 1  # one update only
    out = tmp_path / "one-update.pdf"
    out.write_bytes(final)
    assert "No syntax or stream encoding errors" in run("qpdf", "--check", str(out))
    assert "Convention n° FF_2026_001 — page 1 /" in run("pdftotext", "-l", "1", str(out), "-")
    listed = run("pdfsig", str(out))
    assert all(f"sig-{key}" in listed for key in keys)
    placed = {s.name: s for s in specs}
    reader = PdfReader(out)
    for key in keys:
        spec = placed[f"sig-{key}"]
        annots = [a.get_object() for a in reader.pages[spec.page].get("/Annots", [])]
        widget = next(a for a in annots if a.get("/T") == f"sig-{key}")
        assert [round(float(v), 2) for v in widget["/Rect"]] == list(spec.rect)


def test_examples_varied_into_distinct_valid_conventions(tmp_path: Path) -> None:
    catalogue = Catalogue.load(None)
    examples = conversion.examples()
    assert set(examples) == {"rural-paths", "skatepark", "solar-church"}
    for name, record in examples.items():
        path = conversion.write_records(tmp_path / f"{name}.json", conversion.vary(record, 4))
        found = validated(path, catalogue)
        assert all(v.convention is not None for v in found), (name, found[0].issues)
        assert len({v.reference for v in found}) == 4
        assert len({v.fingerprint for v in found}) == 4
